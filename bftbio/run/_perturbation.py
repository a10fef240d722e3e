"""Step: perturbation response on SIMULATED Perturb-seq data, beside the honest baselines."""

from __future__ import annotations

from pathlib import Path

from ..store import Store
from ._config import RunConfig
from ._profiles import embedding_methods
from ._section import Section, fmt, markdown_table, save_figure, span

BASELINES = ("TrainMean", "Additive")  # the no-model predictions every model must beat


def perturbation_step(path: Path, cfg: RunConfig, models: dict, gene2vec: Path, store: Store) -> Section:
    from ..pl import metric_bars
    from ..tasks import PERTURBATION_SUBGROUPS, benchmark_perturbation
    from ._intervals import mean_intervals

    specs = {**embedding_methods(cfg, models, store), "random": "random"}
    table, per = benchmark_perturbation(specs, seed=cfg.seed, n_cells=cfg.perturbation_cells,
                                        n_genes=cfg.perturbation_genes,
                                        n_conditions=cfg.perturbation_singles + cfg.perturbation_combos,
                                        n_combos=cfg.perturbation_combos, data=gene2vec, per_condition=True)
    table.to_csv(path / "perturbation.csv", index=False)
    subgroups = [g for g in PERTURBATION_SUBGROUPS if g in set(table["subgroup"])]
    shown = table[(table["metric"] == "pearson_delta") & table["subgroup"].isin(subgroups)]
    ax = metric_bars(shown, metric="pearson_delta", groupby="subgroup", groups=subgroups,
                     ylabel="Pearson r of predicted vs observed change (delta)",
                     title=f"SIMULATED Perturb-seq ({cfg.perturbation_cells:,} cells): test conditions")
    save_figure(ax.figure, path / "perturbation.png", bbox_inches="tight")

    wide = shown.pivot_table(index="method", columns="subgroup", values="value", sort=False, dropna=False)
    wide = wide.reindex(columns=subgroups)
    n = shown.groupby("subgroup")["n"].max().reindex(subgroups).to_dict()
    spans = {}
    if "all" in wide.columns:  # the headline, with its interval over the same conditions
        scored = per[(per["metric"] == "pearson_delta") & per["split"].isin(set(shown["split"]))]
        spans = mean_intervals(scored, seed=cfg.seed)
        wide.insert(wide.columns.get_loc("all") + 1, "all 95% interval",
                    [span(*spans[m]) if m in spans else "" for m in wide.index])

    column = "all" if "all" in wide.columns else subgroups[-1]
    values = wide[column].dropna()
    baselines = [m for m in BASELINES if m in values.index]
    candidates = values.drop(baselines + [m for m in values.index if "random" in m or m == "NoChange"],
                             errors="ignore")
    named = ([candidates.idxmax()] if len(candidates) else []) + baselines
    interval = (lambda m: f" {span(*spans[m])}" if column == "all" and m in spans else "")
    summary = [f"  perturbation (SIMULATED), Pearson delta ({column}): best model "
               + " | ".join(f"{m} {fmt(values[m])}{interval(m)}" for m in named)]
    return Section(
        "perturbation",
        fields={"dataset": table["dataset"].iloc[0],
                "conditions": ", ".join(f"{k} {int(v)}" for k, v in n.items() if v == v),
                "table": markdown_table(wide.reset_index())},
        results=table,
        summary=summary,
    )
