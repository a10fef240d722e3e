"""Step: gene-set naming on GeneAgent's sets, beside the evidence alone and GeneAgent's published answers."""

from __future__ import annotations

from pathlib import Path

from ..store import Store
from ._config import RunConfig
from ._section import Section, fmt, markdown_table, save_figure, span

METRICS = ["rougeL", "similarity", "percentile", "flagged", "wall_s"]
FEATURED = "shipped adapter"


def naming_step(path: Path, cfg: RunConfig, geneagent: Path, store: Store) -> Section:
    import numpy as np
    import pandas as pd

    from ..pl import similarity_distributions
    from ..tasks import HEADLINE_ENRICHMENT, benchmark_gene_set_naming, paired_bootstrap

    # Naming is the shipped naming adapter's job (trained on thousands of gene sets with their
    # evidence); the run's own adapters learn gene knowledge on a small budget and are not shown here.
    verified = (False, True) if cfg.naming_verify else (False,)
    specs = {"base": {"adapter": None}, FEATURED: {"adapter": "default", "verify": verified}}
    options = dict(data=geneagent, encoder="default" if cfg.naming_similarity else None, models=specs,
                   max_new_tokens=cfg.naming_tokens, store=store, seed=cfg.seed, return_per_set=True)
    tables, per_sets = [], []
    for datasets, size in ((("NeST", "MSigDB"), {"limit": cfg.naming_sets}), (("GO",), {"sample": cfg.naming_sets})):
        table, per_set = benchmark_gene_set_naming(datasets, **size, **options)
        tables.append(table)
        per_sets.append(per_set)
    table, per_set = pd.concat(tables, ignore_index=True), pd.concat(per_sets, ignore_index=True)
    table.to_csv(path / "gene_set_naming.csv", index=False)
    per_set.to_csv(path / "gene_set_naming_per_set.csv", index=False)
    axes = similarity_distributions(per_set, value_key="similarity" if cfg.naming_similarity else "rougeL")
    save_figure(axes.flat[0].figure if hasattr(axes, "flat") else axes.figure, path / "gene_set_naming.png",
                bbox_inches="tight")

    blocks, summary = [], []
    for dataset, frame in table.groupby("dataset", sort=False):
        wide = frame.pivot_table(index="method", columns="metric", values="value", sort=False)
        wide = wide.reindex(columns=[m for m in METRICS if m in wide.columns])
        # Intervals over the sets: of each method's mean ROUGE-L, and of its paired difference
        # from the top term of the same evidence (the anchor every model must beat).
        sets = per_set[per_set["dataset"] == dataset].pivot_table(index="set_id", columns="method", values="rougeL")
        anchor = HEADLINE_ENRICHMENT.get(dataset)
        spans, diffs = {}, {}
        for method in wide.index:
            if method not in sets.columns:
                continue
            values = sets[method].dropna()
            if len(values) > 1:
                ci = paired_bootstrap(values.to_numpy(), np.zeros(len(values)), seed=cfg.seed)
                spans[method] = span(ci["low"], ci["high"])
            if anchor in sets.columns and method != anchor:
                both = sets[[method, anchor]].dropna()
                if len(both) > 1:
                    d = paired_bootstrap(both[method].to_numpy(), both[anchor].to_numpy(), seed=cfg.seed)
                    diffs[method] = f"{d['diff']:+.3f} {span(d['low'], d['high'], signed=True)}"
        if "rougeL" in wide.columns:
            wide.insert(wide.columns.get_loc("rougeL") + 1, "rougeL 95% interval", pd.Series(spans))
            wide.insert(wide.columns.get_loc("rougeL") + 2, "rougeL − top term", pd.Series(diffs))
        n = int(frame["n"].max())
        blocks.append(f"**{dataset}** ({n} sets)\n\n{markdown_table(wide.reset_index())}")
        if "rougeL" in wide.columns:
            scores = wide["rougeL"]
            shown = [m for m in (FEATURED, anchor, "base", "GeneAgent (published)") if m in scores.index]

            def figure(m):
                label = m.split(" (")[0] if m == anchor else m
                extra = f" {spans[m]}" + (f", {diffs[m]} over the top term" if m in diffs else "") \
                    if m == FEATURED and m in spans else ""
                return f"{label} {fmt(scores[m])}{extra}"

            summary.append(f"  naming {dataset} ({n} sets), ROUGE-L: " + " | ".join(figure(m) for m in shown))

    background = table.loc[table["metric"] == "background_n", "value"]
    background_n = int(background.max()) if len(background) else None
    scores_text = (f", cosine similarity of encoder vectors of the predicted and curated names, and the percentile "
                   f"of the curated name among {background_n:,} background process names ranked by similarity to "
                   "the prediction." if background_n else " only (`naming_similarity` is off).")
    return Section(
        "naming",
        fields={"n": cfg.naming_sets, "scores": scores_text, "tables": "\n\n".join(blocks),
                "figure_value": "encoder similarity" if cfg.naming_similarity else "ROUGE-L"},
        results=table,
        summary=summary,
    )
