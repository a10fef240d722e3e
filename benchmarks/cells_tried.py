"""Six more ways to let gene vectors help cells, tried against PCA and against random vectors.

None ships; this script keeps the figures behind that decision (docs/embedding.md, "Tried").

1. **Smoothing before PCA.** Each gene's expression is mixed with that of its ``K`` nearest
   genes by gene-vector cosine (weights ∝ positive cosine, rows summing to 1), ``x' = (1 − a)
   x + a x Wᵀ``, and PCA runs on the result as on the expression. Knowledge vectors should
   pool genes that work together and so denoise dropout; random vectors pool arbitrary genes.
   ``K`` and ``a`` were chosen on pbmc68k_reduced among K ∈ {5, 15, 50}, a ∈ {0.3, 0.6}
   (mean of the six metrics: best knowledge setting 0.611 at K = 15, a = 0.3; PCA 0.616; with
   the knowledge vectors of that time, whose profiles named the location).
2. **PCA joined with a cell embedding.** The 30 principal components and the cell
   embedding (knowledge or random vectors, centred recipe; or GenePT-s), each block centred
   and scaled to unit mean squared norm, side by side.
3. **PCA after a knowledge filter.** The scaled expression keeps its part in the span of the
   genes' centred vectors and loses a share ``b`` of the rest, ``x' = b x P + (1 − b) x``
   with ``P`` the projection onto the span (384 dimensions of the data set's genes), then
   PCA as for the expression. Genes of one program have similar vectors, so a program's
   direction lies mostly in the span while noise spreads over every gene; random vectors
   span an arbitrary subspace. ``b`` and a ridge on ``P`` (shrinking its weak directions)
   were chosen on pbmc68k_reduced among b ∈ {0.5, 1}, ridge ∈ {0, 0.1, 1} × the mean
   squared singular value (best knowledge setting 0.608 at b = 0.5, no ridge; random
   vectors 0.600; PCA 0.616; with the knowledge vectors that named the location).
   What the filter owes to gene location is asked by two more filters: knowledge vectors of
   profiles that name the chromosome and cytoband (``embed_genes(...,
   knowledge_options={"location": True})``; the default vectors leave them out), and one-hot
   chromosome vectors (each chromosome's genes pooled, as copy-number callers do).
4. **Smoothing that the data confirm.** As 1, but each gene is mixed only with those of its
   ``K`` nearest genes by vector cosine that the data set's own expression correlates with,
   weighted by that positive correlation, ``x'_g = (x_g + a Σ_h c_gh x_h) / (1 + a Σ_h c_gh)``.
   A gene whose neighbours are not co-expressed is left as it is, so a wrong neighbour costs
   little. Two controls: random vectors' neighbours, and each gene's ``K`` most correlated
   genes (the data alone, no vectors). ``K`` and ``a`` were chosen on pbmc68k_reduced among
   K ∈ {15, 50}, a ∈ {0.5, 2} (best knowledge setting 0.598 at K = 15, a = 0.5; random
   vectors 0.595, correlation alone 0.603; PCA 0.616).

5. **GO annotation vectors instead of sentences.** Each gene's vector is its membership of
   the GO terms (BP, MF and CC, propagated, terms of 3 to 500 genes), weighted by the term's
   inverse frequency ``log(19,000 / size)`` and scaled to unit length: the knowledge base's
   evidence with no sentence encoder between it and the cells. They go through the filter of
   3 (``b = 0.5``) and through ``cell_vectors``' default recipe. A gene's annotations span
   almost every direction of a data set's genes, so the filter keeps the top ``rank``
   directions of the vectors, chosen on pbmc68k_reduced among ``RANKS`` by the mean of the six
   metrics over seeds 0, 5 and 10. Two controls: random vectors of the same rank on the same
   genes, and random vectors of full rank on the same genes, which keep every direction and
   so ask what the filter does with no knowledge in it (it then only halves each cell's mean
   over the annotated genes).
6. **Whitened gene vectors.** The recipe of ``cell_vectors`` (expression weights) on centred
   gene vectors whose directions are all brought to one scale, ``U S (S² + λ)^-½ Wᵀ``, a
   softer and fuller version of removing the top directions. The shrinkage ``λ`` (× the mean
   squared singular value) was chosen on pbmc68k_reduced among ``SHRINKS``, over seeds 0, 5
   and 10, beside the default recipe (top 2 directions removed) scored the same way; random
   vectors whitened alike are the control.

The choices, one row per setting, seed and metric, go to ``cells_tried_choice.csv``.

    python benchmarks/cells_tried.py [--out benchmarks/results/cells_tried.csv]

Real data only (the three sets of ``bench_cells.py``); about a minute on 2 CPU cores once
the gene vectors and cell sentences are in the store (the first run encodes them), and two
more for the GO annotation vectors.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

K, ALPHA = 15, 0.3
BETA = 0.5
K_CONFIRMED, A_CONFIRMED = 15, 0.5
RANKS = (384, 100, None)  # directions the GO annotation filter keeps; None keeps all
SHRINKS = (0.0, 0.01, 0.1, 1.0)  # whitening: the ridge added to each squared singular value, x their mean
CHOICE_SEEDS = (0, 5, 10)
CHOICE_SET = "pbmc68k_reduced"  # the first data set of the loop: it makes the choices the others reuse


def scale(x: np.ndarray) -> np.ndarray:
    """The expression scaled per gene, clipped at 10, as the benchmark's PCA row reads it."""
    import scanpy as sc

    return sc.pp.scale(np.asarray(x, dtype=np.float64), max_value=10)


def pca(x: np.ndarray, seed: int = 0, scaled: bool = False) -> np.ndarray:
    """30 principal components of the scaled expression, as the benchmark's PCA row."""
    import scanpy as sc

    return sc.pp.pca(x if scaled else scale(x), n_comps=30, random_state=seed)


def span_filter(scaled: np.ndarray, vectors: np.ndarray, beta: float, rank: int | None = None) -> np.ndarray:
    """``beta x P + (1 - beta) x`` on the genes with a vector, ``P`` the projection onto their centred vectors' span.

    ``rank`` keeps only the span's top directions (by singular value); None keeps all.
    """
    found = np.isfinite(vectors).all(axis=1)
    v = vectors[found].astype(np.float64)
    basis, singular, _ = np.linalg.svd(v - v.mean(axis=0), full_matrices=False)
    basis = basis[:, singular > singular[0] * 1e-10][:, :rank]  # genes x rank, orthonormal (centring costs one)
    out = scaled.copy()
    part = scaled[:, found]
    out[:, found] = (1 - beta) * part + beta * (part @ basis) @ basis.T
    return out


def similarity(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of the genes' centred vectors (genes × genes, −inf on the diagonal), and which genes have one."""
    found = np.isfinite(vectors).all(axis=1)
    v = np.where(found[:, None], vectors - np.nanmean(vectors[found], axis=0), 0.0)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    out = v @ v.T
    np.fill_diagonal(out, -np.inf)
    return out, found


def nearest(similar: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of each gene's ``k`` most similar genes."""
    return np.repeat(np.arange(len(similar)), k), np.argsort(-similar, axis=1)[:, :k].ravel()


def smoothing(vectors: np.ndarray, k: int) -> np.ndarray:
    """Genes × genes weights: each gene's ``k`` nearest genes by cosine of centred vectors (rows sum to 1)."""
    similar, found = similarity(vectors)
    rows, cols = nearest(similar, k)
    weights = np.zeros_like(similar)
    weights[rows, cols] = np.clip(similar[rows, cols], 0, None)
    weights[~found] = 0.0
    total = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def confirmed_smoothing(x: np.ndarray, vectors: np.ndarray | None, k: int, a: float) -> np.ndarray:
    """Each gene mixed with its ``k`` nearest genes, weighted by their positive correlation in ``x``.

    ``vectors=None`` takes the ``k`` most correlated genes instead (the data alone).
    """
    scaled = scale(x)
    correlation = scaled.T @ scaled / len(scaled)
    if vectors is None:
        similar, found = correlation.copy(), np.ones(len(correlation), dtype=bool)
        np.fill_diagonal(similar, -np.inf)
    else:
        similar, found = similarity(vectors)
        similar[:, ~found] = -np.inf
    rows, cols = nearest(similar, k)
    weights = np.zeros_like(correlation)
    weights[rows, cols] = np.clip(correlation[rows, cols], 0, None)
    weights[~found] = 0.0
    return (x + a * x @ weights.T) / (1 + a * weights.sum(axis=1))


def annotation_vectors(symbols) -> np.ndarray:
    """Genes x GO terms: IDF-weighted membership of BP, MF and CC terms of 3 to 500 genes, rows of unit length.

    NaN rows: genes with no symbol or no annotation. Only terms that hold one of ``symbols`` are kept.
    """
    from bftbio.knowledge import gene_sets

    row = {symbol: i for i, symbol in enumerate(symbols) if isinstance(symbol, str)}
    columns = []
    for ontology in ("BP", "MF", "CC"):
        for members in gene_sets(ontology, min_size=3, max_size=500).values():
            hits = [row[symbol] for symbol in members if symbol in row]
            if hits:
                column = np.zeros(len(symbols))
                column[hits] = np.log(19_000 / len(members))
                columns.append(column)
    out = np.column_stack(columns)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return np.where(norm > 0, out / np.where(norm > 0, norm, 1), np.nan)


def random_like(vectors: np.ndarray, dim: int, seed: int = 0) -> np.ndarray:
    """Gaussian vectors of ``dim`` dimensions for the genes that have one in ``vectors`` (NaN elsewhere)."""
    out = np.random.default_rng(seed).normal(size=(len(vectors), dim))
    out[~np.isfinite(vectors).all(axis=1)] = np.nan
    return out


def whiten(vectors: np.ndarray, shrink: float) -> np.ndarray:
    """Centred gene vectors with every direction brought to the same scale, ``U S (S² + λ)^-½ Wᵀ``.

    ``λ = shrink ×`` the mean squared singular value; 0 whitens fully, larger values whiten less. NaN rows stay NaN.
    """
    found = np.isfinite(vectors).all(axis=1)
    centred = vectors[found].astype(np.float64) - vectors[found].mean(axis=0)
    left, singular, right = np.linalg.svd(centred, full_matrices=False)
    kept = singular > singular[0] * 1e-10  # a direction the vectors lack is not blown up to full scale
    left, singular, right = left[:, kept], singular[kept], right[kept]
    out = np.full(vectors.shape, np.nan)
    out[found] = (left * (singular / np.sqrt(singular**2 + shrink * (singular**2).mean()))) @ right
    return out


def choose(choice: list, family: str, representations: dict, labels, dataset: str) -> str:
    """Score each setting's cell representation over ``CHOICE_SEEDS`` into ``choice``; return the best setting."""
    from bftbio.tasks import evaluate_cell_embedding

    for setting, rep in representations.items():
        for seed in CHOICE_SEEDS:
            choice.append(evaluate_cell_embedding(rep, labels, seed=seed).assign(
                dataset=dataset, family=family, setting=setting, seed=seed))
    table = pd.concat(choice)
    scores = table[table["family"] == family].groupby("setting", sort=False)["value"].mean()
    print(f"{family}, chosen on {dataset} (mean of six over seeds {CHOICE_SEEDS}): {scores.round(3).to_dict()}",
          flush=True)
    return scores.idxmax()


def block(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    return x / np.sqrt((x ** 2).sum(axis=1).mean())


def chromosome_vectors(symbols) -> np.ndarray:
    """One-hot vectors of the chromosomes of official symbols (NaN: no symbol, or not located)."""
    from bftbio.knowledge import genes

    table = genes()
    chromosome = pd.Series([table.at[s, "chromosome"] if isinstance(s, str) and s in table.index else None
                            for s in symbols], dtype="category")
    codes = chromosome.cat.codes.to_numpy()
    out = np.full((len(codes), len(chromosome.cat.categories)), np.nan)
    out[codes >= 0] = np.eye(len(chromosome.cat.categories))[codes[codes >= 0]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cells_tried.csv"))
    args = parser.parse_args()
    from bftbio.datasets import cell_dataset
    from bftbio.embed import DEFAULT_RECIPE, cell_sentence_vectors, cell_vectors, embed_genes
    import scanpy as sc

    from bftbio.tasks import evaluate_cell_embedding, random_embeddings

    started = time.perf_counter()
    frames, choice = [], []
    for name in ("pbmc68k_reduced", "oligodendroglioma", "wu2020"):
        adata = cell_dataset(name)  # every method sees the top 2,000 highly variable genes, as in bench_cells.py
        if adata.n_vars > 2000:
            hvg = sc.pp.highly_variable_genes(adata, n_top_genes=2000, flavor="seurat", inplace=False)
            adata = adata[:, hvg["highly_variable"].to_numpy()].copy()
        x = adata.X.toarray()
        labels = adata.obs["label"].to_numpy()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(human gene symbols|match several genes).*")
            knowledge = embed_genes(list(adata.var_names), source="knowledge", progress=False)
            located = embed_genes(list(adata.var_names), source="knowledge", progress=False,
                                  knowledge_options={"location": True}).to_numpy()
        vectors = {"knowledge": knowledge.to_numpy(),
                   "random": random_embeddings(list(adata.var_names), dim=384, seed=0).to_numpy()}
        methods = {"PCA of expression": pca(x)}
        for label, genes in vectors.items():
            weights = smoothing(genes, K)
            methods[f"PCA of expression smoothed by {label} vectors (K={K}, a={ALPHA})"] = \
                pca((1 - ALPHA) * x + ALPHA * x @ weights.T)
        scaled = scale(x)
        filters = {**vectors, "knowledge (with location)": located,
                   "chromosome": chromosome_vectors(knowledge.attrs["symbol"])}
        for label, genes in filters.items():
            methods[f"PCA after a {label} filter (b={BETA})"] = pca(span_filter(scaled, genes, BETA), scaled=True)
        for label, genes in {**vectors, "correlation": None}.items():
            source = "the data alone" if genes is None else f"{label} vectors"
            methods[f"PCA of expression smoothed as the data confirm, by {source} (K={K_CONFIRMED}, a={A_CONFIRMED})"] = \
                pca(confirmed_smoothing(x, genes, K_CONFIRMED, A_CONFIRMED))
        annotated = annotation_vectors(list(knowledge.attrs["symbol"]))
        if name == CHOICE_SET:  # the first data set; it chooses the rank and the shrinkage
            ranks = {str(rank or "all"): rank for rank in RANKS}
            chosen_rank = ranks[choose(choice, "GO annotation filter rank", {
                label: pca(span_filter(scaled, annotated, BETA, rank), scaled=True) for label, rank in ranks.items()},
                labels, name)]
            shrinks = {str(shrink): shrink for shrink in SHRINKS}
            chosen_shrink = shrinks[choose(choice, "whitening shrinkage", {
                label: cell_vectors(adata.X, whiten(vectors["knowledge"], shrink), weights="expression", center=True,
                                    remove_pcs=0)[0] for label, shrink in shrinks.items()}, labels, name)]
            choose(choice, "reference: the default recipe",
                   {"top 2 removed": cell_vectors(adata.X, vectors["knowledge"], **DEFAULT_RECIPE)[0]}, labels, name)
        same_rank = chosen_rank or int(np.isfinite(annotated).all(axis=1).sum())
        go_filters = {"GO annotation": (annotated, chosen_rank),
                      "random (same rank, same genes)": (random_like(annotated, same_rank), chosen_rank),
                      "random (full rank, same genes)": (random_like(annotated, annotated.shape[1]), None)}
        for label, (genes, keep) in go_filters.items():
            methods[f"PCA after a {label} filter (b={BETA}, rank {keep or 'all'})"] = \
                pca(span_filter(scaled, genes, BETA, keep), scaled=True)
        methods["GO annotation vectors, default recipe"] = cell_vectors(adata.X, annotated, **DEFAULT_RECIPE)[0]
        for label, genes in vectors.items():
            methods[f"{label} vectors whitened (shrinkage {chosen_shrink}), expression weights"] = \
                cell_vectors(adata.X, whiten(genes, chosen_shrink), weights="expression", center=True, remove_pcs=0)[0]
        cells = {label: cell_vectors(adata.X, genes, weights="expression", center=True, remove_pcs=0)[0]
                 for label, genes in vectors.items()}
        cells["GenePT-s"] = cell_sentence_vectors(adata.X, list(adata.var_names), cells=adata.obs_names,
                                                  progress=False)[0]
        for label, c in cells.items():
            methods[f"PCA + {label} cells"] = np.hstack([block(methods["PCA of expression"]), block(c)])
        for method, rep in methods.items():
            table = evaluate_cell_embedding(rep, labels).assign(dataset=name, method=method)
            frames.append(table)
            print(f"{name:>18} | {method:<60} mean of six {table['value'].mean():.3f}", flush=True)
    out = pd.concat(frames, ignore_index=True)[["dataset", "method", "metric", "split", "value", "low", "high", "n",
                                                "n_runs"]]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    pd.concat(choice, ignore_index=True).to_csv(Path(args.out).with_name("cells_tried_choice.csv"), index=False)
    wide = out.pivot_table(index=["dataset", "method"], columns="metric", values="value", sort=False)
    wide["mean"] = wide.mean(axis=1)
    with pd.option_context("display.width", 250):
        print(wide.round(3).to_string())
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
