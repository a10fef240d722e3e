"""Time and memory of perturbation response prediction on a simulated 100,000-cell screen.

Simulates 100,000 cells x 5,000 genes with 250 conditions (190 singles, 60 doubles;
sparse counts, Gene2vec network), then times each step on it:

- preparation (:func:`bftbio.tasks.prepare_perturbation`: validation, pseudobulk, scanpy
  t-test DE), against a baseline measured in the same run: the bare pseudobulk, one
  sparse indicator-matrix product;
- fit + predict of every model (NoChange, TrainMean, Additive, EmbeddingRidge,
  LinearModel) on a GEARS simulation split, against TrainMean's fit + predict.

Embeddings are random 384-d vectors (``bftbio.tasks.random_embeddings``): this measures
TIMING, NOT ACCURACY. Memory: the peak of memory traced by tracemalloc during each step
(numpy and scipy arrays are traced; it is on while timing, which adds a little), and the
process's peak resident set size (``resource.getrusage(...).ru_maxrss``, simulation
included). Targets (issue 6): < 60 s and < 4 GB on 2 cores.

    python benchmarks/bench_perturbation.py [--data DIR/gene2vec] [--cells 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="folder of the Gene2vec files (default $BFTBIO_DATA/gene2vec)")
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--genes", type=int, default=5_000)
    parser.add_argument("--conditions", type=int, default=250)
    parser.add_argument("--combos", type=int, default=60)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import scanpy  # noqa: F401  (imported before timing: a one-off cost of a few seconds, not the method's)
    from scipy import sparse

    from bftbio.datasets import simulate_perturbseq
    from bftbio.tasks import (
        Additive,
        EmbeddingRidge,
        LinearModel,
        NoChange,
        TrainMean,
        parse_condition,
        perturbation_split,
        prepare_perturbation,
        random_embeddings,
    )

    start = time.perf_counter()
    adata = simulate_perturbseq(n_cells=args.cells, n_genes=args.genes, n_conditions=args.conditions,
                                n_combos=args.combos, data=args.data, seed=0)
    t_sim = time.perf_counter() - start
    print(f"{adata.uns['dataset']}: {adata.n_obs:,} cells x {adata.n_vars:,} genes, "
          f"{adata.obs['condition'].nunique() - 1} conditions ({args.combos} doubles), "
          f"{adata.X.nnz / np.prod(adata.shape):.1%} non-zero; simulated in {t_sim:.1f} s "
          f"(cores available: {len(os.sched_getaffinity(0))})")

    # Baseline: the bare pseudobulk, one sparse (conditions x cells) @ (cells x genes) product.
    start = time.perf_counter()
    codes = adata.obs["condition"].cat.codes.to_numpy()
    n = np.bincount(codes)
    indicator = sparse.csr_matrix((1.0 / n[codes], (codes, np.arange(adata.n_obs))), shape=(len(n), adata.n_obs))
    (indicator @ adata.X).toarray()
    t_plain = time.perf_counter() - start

    tracemalloc.start()
    start = time.perf_counter()
    prepared = prepare_perturbation(adata)
    t_prep = time.perf_counter() - start
    mem_prep = tracemalloc.get_traced_memory()[1]
    split = perturbation_split(prepared, mode="simulation", seed=0)
    targets = split.val + split.test
    genes = sorted({g for c in prepared.obs_names for g in parse_condition(c)})
    emb = random_embeddings(genes, dim=384, seed=0)
    print(f"split: {len(split.train)} train, {len(split.val)} val, {len(split.test)} test conditions; "
          f"predicting the {len(targets)} val + test conditions; embeddings: random 384-d (timing, not accuracy)")
    print(f"preparation (validate, pseudobulk, DE t-test): {t_prep:6.2f} s, traced peak {mem_prep / 2**30:.2f} GiB; "
          f"bare sparse pseudobulk {t_plain:.2f} s; ratio {t_prep / t_plain:.1f}")

    models = {"NoChange": NoChange(), "TrainMean": TrainMean(), "Additive": Additive(),
              "EmbeddingRidge": EmbeddingRidge(emb), "LinearModel": LinearModel(emb)}
    rows = []
    for name, model in models.items():
        tracemalloc.reset_peak()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            start = time.perf_counter()
            model.fit(prepared, split)
            t_fit = time.perf_counter() - start
            model.predict(targets)
            t_total = time.perf_counter() - start
        rows.append({"model": name, "fit_s": t_fit, "predict_s": t_total - t_fit, "fit_predict_s": t_total,
                     "traced_peak_MiB": tracemalloc.get_traced_memory()[1] / 2**20})
    tracemalloc.stop()
    table = pd.DataFrame(rows).set_index("model")
    table["ratio_vs_TrainMean"] = table["fit_predict_s"] / table.loc["TrainMean", "fit_predict_s"]
    table["prep_fit_predict_s"] = t_prep + table["fit_predict_s"]
    with pd.option_context("display.width", 200):
        print(table.round(3).to_string())
    total = t_prep + table["fit_predict_s"].sum()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(f"preparation + fit + predict of all five models: {total:.1f} s (target < 60 s)")
    print(f"process peak RSS (ru_maxrss, simulation included): {peak_rss:.2f} GiB (target < 4 GB)")


if __name__ == "__main__":
    main()
