"""Step: gene–gene interactions on a seeded sample of the Gene2vec splits."""

from __future__ import annotations

from pathlib import Path

from ..store import Store
from ._config import RunConfig
from ._profiles import embedding_methods
from ._section import Section, fmt, markdown_table, save_figure, span

TRIVIAL = ("random", "prior")


def interactions_step(path: Path, cfg: RunConfig, models: dict, gene2vec: Path, store: Store) -> Section:
    from ..pl import roc_curves
    from ..tasks import benchmark_interactions
    from ._intervals import auroc_intervals

    methods = {**embedding_methods(cfg, models, store), "random": "random", "annotations": "annotations"}
    sample = dict(zip(("train", "validation", "test"), cfg.interaction_genes))
    table, scores = benchmark_interactions(methods, data=gene2vec, sample_genes=sample, seed=cfg.seed,
                                           combines=("sum", "concat"), return_scores=True)
    table.to_csv(path / "interactions.csv", index=False)
    ax = roc_curves(scores, title="Gene2vec test pairs (sampled genes)")
    save_figure(ax.figure, path / "interactions_roc.png", bbox_inches="tight")

    auroc = table[table["metric"] == "auroc"]
    wide = auroc.pivot_table(index="method", columns="split", values="value", sort=False)
    n = auroc.groupby("split")["n"].max().to_dict()
    chosen = table.drop_duplicates("method").set_index("method")["setting"]
    wide = wide.reindex(columns=[c for c in ("validation", "test") if c in wide.columns]).reset_index()
    spans = auroc_intervals(scores, seed=cfg.seed) if "test" in wide.columns else {}
    if "test" in wide.columns:
        wide.insert(wide.columns.get_loc("test") + 1, "test 95% interval",
                    wide["method"].map({m: span(*s) for m, s in spans.items()}))
    wide["chosen on validation"] = wide["method"].map(chosen).fillna("")

    summary = []
    if "test" in wide.columns:
        test = wide.set_index("method")["test"]
        shown = [m for m in test.index if m not in TRIVIAL][:3] + [m for m in TRIVIAL if m in test.index]
        summary.append(f"  interactions, Gene2vec test ({n.get('test', '?')} pairs), AUROC: "
                       + " | ".join(f"{m} {fmt(test[m])}" + (f" {span(*spans[m])}" if m in spans else "")
                                    for m in shown))
    return Section(
        "interactions",
        fields={"dataset": table["dataset"].iloc[0], "pairs": ", ".join(f"{k} {v}" for k, v in n.items()),
                "table": markdown_table(wide)},
        results=table,
        summary=summary,
    )
