"""Cell-level benchmark: do gene vectors make cells of one type cluster and classify together?

On real, labelled single-cell data (:func:`bftbio.datasets.cell_dataset`), each method gives
every cell a vector; the benchmark then measures

* clustering agreement with the labels: ARI and NMI of k-means at the label count and of
  Leiden on the cells' neighbour graph, each over ``n_seeds`` seeds;
* cell-type annotation: macro-F1 of a kNN and of a logistic-regression classifier,
  ``n_folds``-fold stratified cross-validation (classes with fewer cells than folds are
  left out of annotation, counted);

and reports each as the mean with a 95 % t-interval over seeds or folds, in one tidy frame.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..datasets import cell_dataset
from ..embed import DEFAULT_RECIPE, cell_sentence_vectors, cell_vectors, embed_genes
from ._interaction import random_embeddings

TASK = "cells"
#: The rows the benchmark compares by default: two expression baselines, random gene vectors
#: through the same recipe (what any gene vectors give), and the knowledge vectors.
DEFAULT_CELL_METHODS = {
    "PCA of expression": "pca",
    "HVG expression": "expression",
    "random gene vectors": "random",
    "knowledge": {"source": "knowledge"},
    "cell sentences (GenePT-s)": "sentence",
}
#: The metrics of the cell-level benchmark, in the order it reports them.
CELL_METRICS = ("ari_kmeans", "nmi_kmeans", "ari_leiden", "nmi_leiden", "f1_knn", "f1_logistic")


def _interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95 % t-interval of the mean."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


def _genes(adata, n_genes: int):
    """The data set's genes used by every method: its top ``n_genes`` highly variable genes."""
    import scanpy as sc

    if adata.n_vars <= n_genes:
        return adata
    hvg = sc.pp.highly_variable_genes(adata, n_top_genes=n_genes, flavor="seurat", inplace=False)
    return adata[:, hvg["highly_variable"].to_numpy()].copy()


def _representation(adata, spec, *, recipe: Mapping, seed: int, store, encoder) -> tuple[np.ndarray, dict]:
    """The cells' vectors for one method."""
    import scanpy as sc

    if spec == "pca":
        scaled = sc.pp.scale(adata.X.toarray(), max_value=10)
        n = min(30, adata.n_obs - 1, adata.n_vars - 1)
        return sc.pp.pca(scaled, n_comps=n, random_state=seed), {"n_components": n}
    if spec == "expression":
        return adata.X.toarray(), {"n_genes": adata.n_vars}
    if callable(spec):
        out = spec(adata)
        vectors, info = out if isinstance(out, tuple) else (out, {})
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or len(vectors) != adata.n_obs:
            raise ValueError(f"a callable cell method must return cells x dimensions ({adata.n_obs} rows), "
                             f"got shape {vectors.shape}")
        return vectors, dict(info)
    if spec == "sentence":
        return cell_sentence_vectors(adata.X, list(adata.var_names), encoder=encoder, store=store,
                                     cells=adata.obs_names, progress=False)
    if spec == "random":
        genes = random_embeddings(list(adata.var_names), dim=384, seed=seed).to_numpy()
    elif isinstance(spec, Mapping):
        options = {"progress": False, "store": store, **dict(spec)}
        if options.get("source") in (None, "knowledge"):
            options.setdefault("encoder", encoder)
        with warnings.catch_warnings():  # genes without a vector are counted in n_genes
            warnings.filterwarnings("ignore", message=".*are not human gene symbols.*")
            warnings.filterwarnings("ignore", message=".*names match several genes.*")
            genes = embed_genes(list(adata.var_names), **options).to_numpy()
    else:
        raise ValueError(f"a cell method is 'pca', 'expression', 'random', 'sentence' or a dict of embed_genes options, "
                         f"got {spec!r}")
    vectors, info = cell_vectors(adata.X, genes, **dict(recipe), cells=adata.obs_names, genes=adata.var_names)
    return vectors, info


def _clustering(x: np.ndarray, labels: np.ndarray, seeds: Sequence[int]) -> dict[str, list[float]]:
    import anndata as ad
    import scanpy as sc
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    k = len(np.unique(labels))
    out: dict[str, list[float]] = {m: [] for m in ("ari_kmeans", "nmi_kmeans", "ari_leiden", "nmi_leiden")}
    graph = ad.AnnData(np.zeros((len(x), 1), dtype=np.float32))
    graph.obsm["rep"] = x
    for seed in seeds:
        found = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
        out["ari_kmeans"].append(adjusted_rand_score(labels, found))
        out["nmi_kmeans"].append(normalized_mutual_info_score(labels, found))
        sc.pp.neighbors(graph, use_rep="rep", n_neighbors=15, random_state=seed)
        sc.tl.leiden(graph, flavor="igraph", n_iterations=2, directed=False, random_state=seed, key_added="leiden")
        found = graph.obs["leiden"].to_numpy()
        out["ari_leiden"].append(adjusted_rand_score(labels, found))
        out["nmi_leiden"].append(normalized_mutual_info_score(labels, found))
    return out


def _annotation(x: np.ndarray, labels: np.ndarray, n_folds: int, seed: int) -> dict[str, list[float]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out: dict[str, list[float]] = {"f1_knn": [], "f1_logistic": []}
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for train, test in folds.split(x, labels):
        models = {"f1_knn": KNeighborsClassifier(n_neighbors=min(15, len(train) - 1), metric="cosine"),
                  "f1_logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))}
        for metric, model in models.items():
            predicted = model.fit(x[train], labels[train]).predict(x[test])
            out[metric].append(f1_score(labels[test], predicted, average="macro"))
    return out


def evaluate_cell_embedding(x, labels, *, n_seeds: int = 5, n_folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Clustering and annotation scores of one cell representation against labels.

    Parameters
    ----------
    x
        Cells × dimensions.
    labels
        One label per cell.
    n_seeds, n_folds, seed
        Seeds of k-means and Leiden (``seed`` … ``seed + n_seeds - 1``); folds of the
        cross-validation (shuffled with ``seed``). Annotation leaves out classes with fewer
        cells than ``n_folds``.

    Returns
    -------
    One row per metric: ``metric, split, value, low, high, n, n_runs`` (``split`` is ``all``
    for clustering and ``cv`` for annotation; ``low``/``high``: 95 % t-interval over runs).
    """
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels).astype(str)
    if x.ndim != 2 or len(x) != len(labels):
        raise ValueError(f"x must be cells x dimensions with one label per cell; got {x.shape} and {len(labels)} labels")
    if not np.isfinite(x).all():
        raise ValueError(f"the cell representation holds {int((~np.isfinite(x)).sum())} NaN or infinite values")
    rows = []
    for metric, values in _clustering(x, labels, range(seed, seed + n_seeds)).items():
        rows.append({"metric": metric, "split": "all", "n": len(labels), "values": values})
    counts = pd.Series(labels).value_counts()
    kept = np.isin(labels, counts.index[counts >= n_folds])
    for metric, values in _annotation(x[kept], labels[kept], n_folds, seed).items():
        rows.append({"metric": metric, "split": "cv", "n": int(kept.sum()), "values": values})
    out = []
    for row in rows:
        value, low, high = _interval(row.pop("values"))
        out.append({**row, "value": value, "low": low, "high": high,
                    "n_runs": n_seeds if row["split"] == "all" else n_folds})
    return pd.DataFrame(out, columns=["metric", "split", "value", "low", "high", "n", "n_runs"])


def benchmark_cells(
    datasets: Sequence[str] = ("pbmc68k_reduced", "oligodendroglioma", "wu2020"),
    methods: Mapping[str, str | Mapping] | None = None,
    *,
    recipes: Mapping[str, Mapping] | None = None,
    n_genes: int = 2000,
    n_seeds: int = 5,
    n_folds: int = 5,
    seed: int = 0,
    store=None,
    encoder="default",
    data=None,
) -> pd.DataFrame:
    """Cell embeddings from gene vectors beside expression baselines, on real labelled data.

    Parameters
    ----------
    datasets
        Names for :func:`bftbio.datasets.cell_dataset` (real data; their labels are the truth).
    methods
        ``{row name: spec}``; a spec is ``"pca"`` (30 principal components of the scaled
        expression), ``"expression"`` (the log-normalised expression itself), ``"random"``
        (random gene vectors through the same recipe), ``"sentence"`` (GenePT-s: each cell's
        top genes as a sentence, embedded by ``encoder``; no gene vectors), a callable taking the
        data set's AnnData and returning cells × dimensions (or ``(vectors, info)``), or a dict of
        :func:`bftbio.embed_genes` options (``{"source": "knowledge"}``, ``{"source":
        "hidden"}``, ``{"source": "profile", "adapter": ...}``). Default
        :data:`DEFAULT_CELL_METHODS`.
    recipes
        ``{label: cell_vectors options}`` applied to every gene-vector method (rows are then
        named ``method [label]``); default one recipe, :data:`bftbio.embed.DEFAULT_RECIPE`.
    n_genes
        Every method sees the same genes: each data set's top ``n_genes`` highly variable genes.
    n_seeds, n_folds, seed
        See :func:`evaluate_cell_embedding`.
    store, encoder
        Passed to :func:`bftbio.embed_genes`.
    data
        Folder holding the packaged data sets (default: the copies that ship with bftbio).

    Returns
    -------
    Tidy rows ``task, dataset, split, method, metric, value, low, high, n, n_runs, n_genes``.

    Examples
    --------
    >>> from bftbio.tasks import benchmark_cells
    >>> table = benchmark_cells(["pbmc68k_reduced"])  # doctest: +SKIP
    >>> table.pivot_table(index="method", columns="metric", values="value")  # doctest: +SKIP
    """
    methods = dict(DEFAULT_CELL_METHODS if methods is None else methods)
    recipes = {"": dict(DEFAULT_RECIPE)} if not recipes else {k: dict(v) for k, v in recipes.items()}
    frames = []
    for name in datasets:
        adata = _genes(cell_dataset(name, path=None if data is None else f"{data}/{name}"), n_genes)
        labels = adata.obs["label"].to_numpy()
        for method, spec in methods.items():
            variants = recipes if isinstance(spec, Mapping) or spec == "random" else {"": {}}
            for label, recipe in variants.items():
                x, info = _representation(adata, spec, recipe=recipe, seed=seed, store=store, encoder=encoder)
                table = evaluate_cell_embedding(x, labels, n_seeds=n_seeds, n_folds=n_folds, seed=seed)
                table.insert(0, "task", TASK)
                table.insert(1, "dataset", name)
                table.insert(3, "method", f"{method} [{label}]" if label else method)
                table["n_genes"] = info.get("n_genes_used", info.get("n_genes", adata.n_vars))
                frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    return out[["task", "dataset", "split", "method", "metric", "value", "low", "high", "n", "n_runs", "n_genes"]]
