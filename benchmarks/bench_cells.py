"""Cell embeddings on real labelled data: choose the recipe on one data set, report on all.

1. **Choice** (pbmc68k_reduced, the knowledge vectors): every recipe of ``RECIPES`` through
   :func:`bftbio.tasks.benchmark_cells`, once per seed of ``CHOICE_SEEDS``; the score is the
   mean of the six metrics (ARI and NMI of k-means and of Leiden, macro-F1 of kNN and of
   logistic regression) over those runs; the highest wins, and one within ``TIE`` of it that
   is simpler (earlier in ``RECIPES``) wins instead.
   The sentence length of GenePT-s (genes named per cell, ``SENTENCE_LENGTHS``) is chosen the
   same way on the same data set.
2. **Report** (pbmc68k_reduced, oligodendroglioma, wu2020): PCA of the expression, the
   expression itself, random gene vectors, the knowledge vectors and the base model's hidden
   states, each vector method with the chosen recipe and with GenePT-w as published, and the
   cell sentences (GenePT-s) at the chosen length. pbmc68k_reduced served the choices, so its
   rows are not held out; the other two are.
3. **Model-written profiles** (``--profiles``; pbmc68k_reduced only, its 765 genes, about
   17 minutes of generation on 2 CPU cores the first time): the base model's profiles through
   the chosen recipe, beside the knowledge vectors.

    python benchmarks/bench_cells.py [--out benchmarks/results/cells.csv] [--no-hidden] [--profiles]

Prints both tables; writes the report rows to ``--out`` and the choice rows beside it
(``cells_choice.csv``). Real data only; nothing is simulated.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

RECIPES = {  # simplest first
    "GenePT-w": dict(weights="expression", center=False, remove_pcs=0),
    "centred": dict(weights="expression", center=True, remove_pcs=0),
    "top 1 removed": dict(weights="expression", center=True, remove_pcs=1),
    "top 2 removed": dict(weights="expression", center=True, remove_pcs=2),
    "top 5 removed": dict(weights="expression", center=True, remove_pcs=5),
    "top 10 removed": dict(weights="expression", center=True, remove_pcs=10),
    "idf, centred": dict(weights="idf", center=True, remove_pcs=0),
    "z-score": dict(weights="zscore", center=False, remove_pcs=0),
    "z-score, centred": dict(weights="zscore", center=True, remove_pcs=0),
}
SENTENCE_LENGTHS = (10, 20, 50)  # 100 overflows the encoder's 256-token window on pbmc68k
# One run's score moves by up to 0.02 with the seeds of k-means, Leiden and the folds (top 5
# removed: 0.611, 0.591, 0.603 at seeds 0, 5, 10), enough to reorder the best recipes; the
# choice averages three runs. Recipes within 0.01 of the best are ties, and the simplest wins.
TIE = 0.01
CHOICE_SET = "pbmc68k_reduced"
CHOICE_SEEDS = (0, 5, 10)  # each seeds 5 runs of k-means and Leiden and shuffles the folds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cells.csv"))
    parser.add_argument("--no-hidden", action="store_true", help="leave out the base model's hidden states")
    parser.add_argument("--profiles", action="store_true",
                        help="add the base model's written profiles on pbmc68k_reduced (generates 765 profiles once)")
    parser.add_argument("--store", default=None, help="store file (default: the cache's)")
    args = parser.parse_args()
    import pandas as pd

    from bftbio.embed import cell_sentence_vectors
    from bftbio.tasks import benchmark_cells

    def sentences(n_genes: int):
        return lambda a: cell_sentence_vectors(a.X, list(a.var_names), n_genes=n_genes, store=args.store,
                                               cells=a.obs_names, progress=False)

    def choose(methods, recipes=None):
        """The choice data set's tidy table for every seed of ``CHOICE_SEEDS`` (column ``seed``)."""
        return pd.concat([benchmark_cells([CHOICE_SET], methods, recipes=recipes, store=args.store, seed=seed)
                          .assign(seed=seed) for seed in CHOICE_SEEDS], ignore_index=True)

    def best(table, labels, tie=TIE):
        """The first label (simplest) within ``tie`` of the best mean of the six metrics over the seeds."""
        wide = table.pivot_table(index="method", columns="metric", values="value", aggfunc="mean", sort=False)
        wide["score"] = wide.mean(axis=1)
        top = wide["score"].max()
        return next(label for label, method in labels.items() if wide.loc[method, "score"] >= top - tie), wide

    started = time.perf_counter()
    choice = choose({"knowledge": {"source": "knowledge"}}, RECIPES)
    chosen, wide = best(choice, {label: f"knowledge [{label}]" for label in RECIPES})
    print(f"Choice on {CHOICE_SET} (knowledge vectors; score = mean of the six metrics over seeds {CHOICE_SEEDS}):")
    print(wide.round(3).to_string())
    print(f"chosen: {chosen} {RECIPES[chosen]}\n")
    lengths = {n: f"GenePT-s, {n} genes" for n in SENTENCE_LENGTHS}
    sentence_choice = choose({lengths[n]: sentences(n) for n in SENTENCE_LENGTHS})
    length, wide = best(sentence_choice, lengths)
    print(f"Sentence length on {CHOICE_SET}:")
    print(wide.round(3).to_string())
    print(f"chosen: {length} genes\n")
    choice = pd.concat([choice, sentence_choice], ignore_index=True)

    methods = {"PCA of expression": "pca", "HVG expression": "expression", "random gene vectors": "random",
               "knowledge": {"source": "knowledge"}}
    if not args.no_hidden:
        methods["hidden (base)"] = {"source": "hidden"}
    methods[f"cell sentences (GenePT-s, {length} genes)"] = sentences(length)
    recipes = {chosen: RECIPES[chosen], "GenePT-w": RECIPES["GenePT-w"]} if chosen != "GenePT-w" \
        else {"GenePT-w": RECIPES["GenePT-w"]}
    report = benchmark_cells(("pbmc68k_reduced", "oligodendroglioma", "wu2020"), methods, recipes=recipes,
                             store=args.store)
    if args.profiles:
        profiles = benchmark_cells([CHOICE_SET], {"profiles (base model)": {"source": "profile"}},
                                   recipes={chosen: RECIPES[chosen]}, store=args.store)
        report = pd.concat([report, profiles], ignore_index=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report.to_csv(out, index=False)
    choice.to_csv(out.with_name(out.stem + "_choice.csv"), index=False)
    shown = report.assign(cell=[f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                                zip(report["value"], report["low"], report["high"])])
    with pd.option_context("display.width", 250, "display.max_colwidth", 40):
        for dataset, frame in shown.groupby("dataset", sort=False):
            held = "the choice's data set" if dataset == CHOICE_SET else "held out"
            print(f"{dataset} ({held}; {frame['n'].max()} cells, {frame['n_genes'].max()} genes):")
            print(frame.pivot_table(index="method", columns="metric", values="cell", aggfunc="first",
                                    sort=False).to_string())
            print()
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
