"""Single-cell perturbation response prediction: predict the expression change that
perturbing a gene (or two) causes, from the gene's embedding.

The benchmark follows GEARS (Roohani et al., Nature Biotechnology 2024) in data format,
splits and metrics, and Ahlmann-Eltze, Huber & Anders (Nature Methods 2025) in its
baselines and linear model. Four steps, each usable alone:

1. :func:`prepare_perturbation`: pseudobulk mean per condition, delta against control,
   top differentially expressed genes (scanpy's ``rank_genes_groups``, as GEARS).
2. :func:`perturbation_split`: seeded GEARS-style splits with test subgroups
   (``unseen_single``, ``combo_seen0/1/2``).
3. Models with ``fit(prepared, split)`` / ``predict(conditions)``: :class:`NoChange`,
   :class:`TrainMean`, :class:`Additive`, :class:`EmbeddingRidge`, :class:`LinearModel`.
4. :func:`evaluate_perturbation`: tidy metrics (``pearson_delta``, ``pearson_delta_de``,
   ``mse_de``, ``l2_top1000``); :func:`benchmark_perturbation` runs it all on simulated data.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator

from .. import knowledge
from .._checks import check_finite
from ._interaction import GeneLookup

TASK = "perturbation"
METRICS = ("pearson_delta", "pearson_delta_de", "mse_de", "l2_top1000")
SUBGROUPS = ("unseen_single", "combo_seen0", "combo_seen1", "combo_seen2", "seen_single")
#: The subgroups a report shows, in order: GEARS's test subgroups, then all test conditions.
PERTURBATION_SUBGROUPS = ("unseen_single", "combo_seen0", "combo_seen1", "combo_seen2", "all")
PSEUDOBULK_KEY = "bftbio_pseudobulk"  # uns key marking a prepared pseudobulk AnnData
_SHOWN = 10


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in items[:_SHOWN])
    return shown + (f", ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def parse_condition(condition: str, *, control: str = "ctrl", separator: str = "+") -> tuple[str, ...]:
    """The genes a condition label perturbs: ``()`` for the control.

    ``"CBL+ctrl"`` → ``("CBL",)``, ``"CBL+CNN1"`` → ``("CBL", "CNN1")``, ``"ctrl"`` → ``()``
    (GEARS's convention; ``control`` and ``separator`` make it fit other files).

    Examples
    --------
    >>> parse_condition("CBL+CNN1")
    ('CBL', 'CNN1')
    >>> parse_condition("TP53_ctrl", separator="_")
    ('TP53',)
    """
    if condition == control:
        return ()
    parts = [p.strip() for p in str(condition).split(separator)]
    if any(p == "" for p in parts):
        raise ValueError(f"condition {condition!r}: empty gene name around the separator {separator!r}")
    return tuple(p for p in parts if p != control)


# --- 1. preparation ---------------------------------------------------------------------
def _symbols(adata, gene_symbols: str | None) -> pd.Index:
    if gene_symbols is not None:
        if gene_symbols not in adata.var.columns:
            raise KeyError(f"gene_symbols={gene_symbols!r} is not a column of adata.var "
                           f"(columns: {list(adata.var.columns)}); pass None to use var_names")
        symbols = adata.var[gene_symbols].astype(str)
    elif "gene_name" in adata.var.columns and pd.Index(adata.var_names[:100]).str.startswith("ENS").mean() > 0.5:
        symbols = adata.var["gene_name"].astype(str)  # GEARS files: Ensembl var_names, symbols in gene_name
    else:
        symbols = pd.Series(adata.var_names.astype(str), index=adata.var_names)
    index = pd.Index(symbols.to_numpy(), name="gene")
    if not index.is_unique:
        import anndata as ad

        index = pd.Index(ad.utils.make_index_unique(index), name="gene")
    return index


def _check_expression(matrix, where: str, adata) -> None:
    check_finite(matrix, where, rows=adata.obs_names, columns=adata.var_names,
                 fix="pseudobulk means and DE would be NaN; fill or drop those values (or those cells) first")
    values = matrix.data[:100_000] if sparse.issparse(matrix) else np.asarray(matrix[:200]).ravel()
    if values.size and np.all(values >= 0) and np.all(values == np.round(values)) and values.max() > 30:
        warnings.warn(f"{where} holds what look like raw counts (non-negative integers up to {values.max():g}); "
                      "prepare_perturbation expects log-normalised expression (sc.pp.normalize_total then "
                      "sc.pp.log1p), or pass layer=...", UserWarning, stacklevel=3)


@contextlib.contextmanager
def _one_numba_thread():
    # rank_genes_groups computes means and variances of one small group at a time
    # with numba's parallel loops; starting threads for a few hundred cells costs more
    # than it saves (40,000 cells x 5,000 genes x 251 groups, 2 cores: 17 s -> 6 s).
    try:
        import numba
    except ImportError:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _dataset_name(adata, dataset: str | None) -> tuple[str, bool]:
    simulated = bool(adata.uns.get("simulated", False))
    name = dataset or adata.uns.get("dataset") or "unnamed"
    name = str(name)
    if simulated and "simulated" not in name.lower():
        name = f"simulated {name}"
    return name, simulated


def prepare_perturbation(
    adata,
    *,
    perturbation_key: str = "condition",
    control: str = "ctrl",
    separator: str = "+",
    gene_symbols: str | None = None,
    layer: str | None = None,
    n_top_de: int = 20,
    min_cells: int = 2,
    dataset: str | None = None,
    key_added: str = "bftbio_perturbation",
    de_key: str = "rank_genes_groups",
):
    """Pseudobulk, delta against control and top DE genes of each perturbation condition.

    Validates the input first: the condition column must exist and hold control
    cells; a condition that perturbs a gene the knowledge base does not know gets
    one warning naming the conditions (the models then fall back for it, counted).
    ``X`` may be dense or sparse; the cell matrix is never densified: means come from
    a sparse condition-indicator matrix product.

    Differential expression is computed as GEARS does: :func:`scanpy.tl.rank_genes_groups`
    with ``groupby=perturbation_key``, ``reference=control``, ``method="t-test"``
    (Welch's t on the log-normalised values), ``rankby_abs=True``, ``use_raw=False``;
    the top ``n_top_de`` genes by absolute score are the condition's DE genes.
    (GEARS keeps the whole ranking and later also drops "dropout" genes; bftbio keeps
    the first ``n_top_de`` genes of the ranking, without that filter.)

    Parameters
    ----------
    adata
        Cells × genes of log-normalised expression, e.g. from a GEARS reader
        (:func:`bftbio.datasets.norman2019`) or :func:`bftbio.datasets.simulate_perturbseq`.
    perturbation_key
        Column of ``adata.obs`` naming each cell's condition.
    control
        The label of control cells, and the token that pads singles (``"A+ctrl"``).
    separator
        Between the genes of a condition.
    gene_symbols
        Column of ``adata.var`` with gene symbols; default ``var_names``, or
        ``var["gene_name"]`` when ``var_names`` are Ensembl IDs (GEARS files).
    layer
        Layer to use instead of ``X``.
    n_top_de
        DE genes kept per condition (20 in GEARS).
    min_cells
        Conditions with fewer cells are left out, with a warning (a t-test needs two).
    dataset
        Name written into the results (default ``adata.uns["dataset"]``). Simulated
        data (``uns["simulated"]``) always get a name containing "simulated".
    key_added, de_key
        Keys of ``adata.uns`` written (see Returns).

    Returns
    -------
    A small AnnData of conditions × genes (the control first), which the models fit:
    ``X`` the pseudobulk means, ``layers["delta"]`` the means minus the control's;
    ``obs``: ``n_cells``, ``n_perturbed`` (0, 1, 2), ``kind`` (``control``, ``single``,
    ``combo``); ``var``: ``control_mean``, ``expression_rank`` (0 = highest control
    mean); ``uns["top_de"]`` (conditions × ``n_top_de`` DE gene symbols),
    ``uns["dataset"]``, ``uns["simulated"]``, ``uns["bftbio_pseudobulk"]`` (the
    parameters).

    ``adata`` gains ``uns[key_added]`` = ``{"params", "pseudobulk", "delta", "n_cells",
    "top_de"}`` (``pseudobulk`` and ``delta``: conditions × ``var_names`` DataFrames;
    ``n_cells``: a one-column DataFrame) and ``uns[de_key]``, the
    ``rank_genes_groups`` result (top ``n_top_de`` genes per condition); scanpy also
    turns string columns of ``obs`` into categoricals.

    Raises
    ------
    KeyError
        ``perturbation_key`` or ``gene_symbols`` is not a column.
    ValueError
        No control cells, missing condition labels, an empty gene name in a label, or
        no perturbed condition with at least ``min_cells`` cells.

    Examples
    --------
    >>> from bftbio.datasets import simulate_perturbseq
    >>> from bftbio.tasks import prepare_perturbation
    >>> adata = simulate_perturbseq(n_cells=3_000, n_genes=300, n_conditions=30, n_combos=8)  # doctest: +SKIP
    >>> prepared = prepare_perturbation(adata)  # doctest: +SKIP
    >>> prepared.layers["delta"].shape, prepared.uns["top_de"].shape  # doctest: +SKIP
    ((31, 300), (30, 20))
    """
    import anndata as ad
    import scanpy as sc

    if perturbation_key not in adata.obs.columns:
        raise KeyError(f"perturbation_key={perturbation_key!r} is not a column of adata.obs "
                       f"(columns: {list(adata.obs.columns)})")
    labels = adata.obs[perturbation_key]
    if labels.isna().any():
        raise ValueError(f"{int(labels.isna().sum())} cells have no label in obs[{perturbation_key!r}]; "
                         "drop them or give them a condition")
    if not isinstance(labels.dtype, pd.CategoricalDtype) or not all(
            isinstance(c, str) for c in labels.cat.categories):
        labels = labels.astype(str).astype("category")
    counts = labels.value_counts()
    if control not in counts.index or counts[control] == 0:
        top = counts.sort_values(ascending=False).index[:5].tolist()
        raise ValueError(f"no control cells: obs[{perturbation_key!r}] has no {control!r} (most frequent labels: "
                         f"{top}); pass control=... with the label of the control cells")
    small = sorted(str(c) for c, n in counts.items() if 0 < n < min_cells and c != control)
    if small:
        warnings.warn(f"{len(small)} conditions have fewer than {min_cells} cells and are left out: "
                      f"{_listing(small)}", UserWarning, stacklevel=2)
    conditions = [control] + sorted(str(c) for c, n in counts.items() if n >= min_cells and c != control)
    if len(conditions) == 1:
        raise ValueError(f"no perturbed condition with at least {min_cells} cells in obs[{perturbation_key!r}]")
    genes_of = {c: parse_condition(c, control=control, separator=separator) for c in conditions}

    tokens = sorted({g for genes in genes_of.values() for g in genes})
    resolved = knowledge.resolve_symbols(tokens, warn=False)
    unknown = {t for t, s in zip(tokens, resolved) if pd.isna(s)}
    bad = [c for c in conditions if unknown & set(genes_of[c])]
    if bad:
        warnings.warn(f"{len(bad)} of {len(conditions) - 1} conditions perturb a gene the knowledge base does not "
                      f"know ({_listing(sorted(unknown))}): {_listing(bad)}. Models that need an embedding "
                      "fall back for them (counted in n_fallback).", UserWarning, stacklevel=2)

    symbols = _symbols(adata, gene_symbols)
    matrix = adata.X if layer is None else adata.layers[layer]
    _check_expression(matrix, "adata.X" if layer is None else f"adata.layers[{layer!r}]", adata)

    # Pseudobulk: a (conditions x cells) sparse matrix of 1/n_k, times the cell matrix.
    codes = pd.Categorical(labels.astype(str), categories=conditions).codes
    cells = np.flatnonzero(codes >= 0)
    n_cells = np.bincount(codes[cells], minlength=len(conditions))
    indicator = sparse.csr_matrix((1.0 / n_cells[codes[cells]], (codes[cells], cells)),
                                  shape=(len(conditions), adata.n_obs))
    means = indicator @ matrix
    means = means.toarray() if sparse.issparse(means) else np.asarray(means, dtype=np.float64)
    delta = means - means[0]

    adata.obs[perturbation_key] = labels
    with warnings.catch_warnings(), _one_numba_thread():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)  # scanpy builds its frame column by column
        sc.tl.rank_genes_groups(adata, groupby=perturbation_key, groups=conditions, reference=control,
                                method="t-test", rankby_abs=True, n_genes=n_top_de, use_raw=False, layer=layer,
                                key_added=de_key)
    names = pd.DataFrame(adata.uns[de_key]["names"])
    position = adata.var_names.get_indexer(names.to_numpy().ravel()).reshape(names.shape)
    top_de = pd.DataFrame(np.asarray(symbols)[position].T, index=pd.Index(names.columns, name="condition"),
                          columns=[f"de_{i + 1}" for i in range(names.shape[0])]).reindex(conditions[1:])

    name, simulated = _dataset_name(adata, dataset)
    params = {"perturbation_key": perturbation_key, "control": control, "separator": separator,
              "gene_symbols": gene_symbols, "layer": layer, "n_top_de": n_top_de, "min_cells": min_cells,
              "de_method": "t-test", "de_rankby_abs": True, "de_reference": control, "de_key": de_key,
              "dataset": name, "simulated": simulated}
    index = pd.Index(conditions, name="condition")
    adata.uns[key_added] = {
        "params": params,
        "pseudobulk": pd.DataFrame(means, index=index, columns=adata.var_names),
        "delta": pd.DataFrame(delta, index=index, columns=adata.var_names),
        "n_cells": pd.DataFrame({"n_cells": n_cells}, index=index),  # a frame: h5ad cannot store a Series
        "top_de": top_de,
    }

    n_perturbed = np.array([len(genes_of[c]) for c in conditions])
    obs = pd.DataFrame({"n_cells": n_cells, "n_perturbed": n_perturbed,
                        "kind": np.where(n_perturbed == 0, "control", np.where(n_perturbed == 1, "single", "combo"))},
                       index=index)
    var = pd.DataFrame({"control_mean": means[0]}, index=symbols)
    var["expression_rank"] = np.argsort(np.argsort(-means[0], kind="stable"), kind="stable")
    prepared = ad.AnnData(X=means, obs=obs, var=var, layers={"delta": delta})
    prepared.uns["top_de"] = top_de
    prepared.uns["dataset"] = name
    prepared.uns["simulated"] = simulated
    prepared.uns[PSEUDOBULK_KEY] = params
    return prepared


def _as_prepared(data, **prepare_options):
    """A prepared pseudobulk AnnData; a cell-level AnnData is prepared with the options given."""
    if hasattr(data, "uns") and PSEUDOBULK_KEY in data.uns:
        return data
    if hasattr(data, "obs") and hasattr(data, "X"):
        return prepare_perturbation(data, **prepare_options)
    raise TypeError(f"expected an AnnData (cells, or prepared by prepare_perturbation), got {type(data).__name__}")


# --- 2. splits --------------------------------------------------------------------------
@dataclass
class PerturbationSplit:
    """Conditions for training, validation and test, and the subgroup of each.

    ``split["train"]`` etc. work as on GEARS's ``set2conditions`` dictionary. The
    control is in none of the lists: every model uses it as the reference.

    Attributes
    ----------
    train, val, test
        Condition labels.
    subgroup
        Condition → ``"seen_single"`` (its gene is perturbed alone in ``train``),
        ``"unseen_single"``, or ``"combo_seen0"``/``"combo_seen1"``/``"combo_seen2"``
        (how many of its genes are perturbed alone in ``train``).
    excluded
        Conditions held out of every set (``mode="single"``: combinations that hold a
        test gene, as GEARS does).
    """

    train: list[str]
    val: list[str]
    test: list[str]
    subgroup: dict[str, str]
    mode: str = "given"
    seed: int | None = None
    excluded: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[str]:
        if key not in ("train", "val", "test"):
            raise KeyError(f"a split has 'train', 'val' and 'test', not {key!r}")
        return getattr(self, key)

    def to_frame(self) -> pd.DataFrame:
        """One row per condition: ``condition``, ``split``, ``subgroup``."""
        rows = [(c, s, self.subgroup.get(c)) for s in ("train", "val", "test") for c in self[s]]
        rows += [(c, "excluded", self.subgroup.get(c)) for c in self.excluded]
        return pd.DataFrame(rows, columns=["condition", "split", "subgroup"])


def _subgroups(conditions: Iterable[str], train: Sequence[str], genes_of: Callable) -> dict[str, str]:
    seen = {genes_of(c)[0] for c in train if len(genes_of(c)) == 1}
    out = {}
    for c in conditions:
        genes = genes_of(c)
        if len(genes) == 1:
            out[c] = "seen_single" if genes[0] in seen else "unseen_single"
        elif genes:
            out[c] = f"combo_seen{sum(g in seen for g in genes)}"
    return out


def _simulation_split(perts, genes_of, train_gene_fraction, seen2_train_fraction, rng):
    """GEARS's simulation split: hold out perturbed genes, then a share of the all-seen combos."""
    genes = sorted({g for c in perts for g in genes_of(c)})
    train_genes = set(rng.choice(genes, size=int(len(genes) * train_gene_fraction), replace=False).tolist()) \
        if genes else set()
    train, test, all_seen = [], [], []
    for c in perts:
        seen = sum(g in train_genes for g in genes_of(c))
        if seen == len(genes_of(c)):
            (train if len(genes_of(c)) == 1 else all_seen).append(c)
        else:
            test.append(c)
    all_seen = sorted(all_seen)
    to_train = set(rng.choice(len(all_seen), size=int(len(all_seen) * seen2_train_fraction), replace=False).tolist()) \
        if all_seen else set()
    for i, c in enumerate(all_seen):
        (train if i in to_train else test).append(c)
    return train, test


def _single_split(perts, genes_of, fraction, rng):
    """GEARS's single split: singles of a share of genes to test; combos holding them are held out."""
    singles = [c for c in perts if len(genes_of(c)) == 1]
    genes = sorted({g for c in perts for g in genes_of(c)})
    n_test = min(int(len(singles) * fraction), len(genes))
    test_genes = set(rng.choice(genes, size=n_test, replace=False).tolist()) if n_test else set()
    test = [c for c in singles if genes_of(c)[0] in test_genes]
    held = [c for c in perts if len(genes_of(c)) > 1 and test_genes & set(genes_of(c))]
    train = [c for c in perts if c not in set(test) | set(held)]
    return train, test, held


def _combo_split(perts, genes_of, fraction, rng):
    """A share of the combinations to test; every single stays in training (GEARS combo_seen2)."""
    combos = sorted(c for c in perts if len(genes_of(c)) > 1)
    n_test = int(len(combos) * fraction)
    test = set(rng.choice(combos, size=n_test, replace=False).tolist()) if n_test else set()
    return [c for c in perts if c not in test], [c for c in perts if c in test]


def perturbation_split(
    conditions,
    *,
    mode: str | Mapping[str, Sequence[str]] = "simulation",
    seed: int = 0,
    test_fraction: float | None = None,
    val_fraction: float = 0.1,
    combo_seen2_train_fraction: float = 0.75,
    control: str = "ctrl",
    separator: str = "+",
) -> PerturbationSplit:
    """Seeded train/validation/test split of perturbation conditions, GEARS-style.

    Modes (the algorithms of GEARS's ``DataSplitter``, drawn with
    ``numpy.random.default_rng(seed)``, so not the same draws as GEARS; to reuse a
    GEARS split exactly, pass its ``set2conditions`` dictionary as ``mode``):

    - ``"simulation"``: hold out perturbed genes. A ``1 - test_fraction`` share of
      the genes (GEARS's ``train_gene_set_size``, 0.75) are training genes; their
      singles train. Combinations of training genes only: ``combo_seen2_train_fraction``
      of them train, the rest test. Every other condition (a single of a held-out
      gene, a combination with one or two held-out genes) tests. Validation repeats
      this inside the training conditions with ``1 - val_fraction`` (GEARS: 0.9).
      No test single's gene is perturbed alone in training.
    - ``"single"``: the singles of ``int(test_fraction * n_singles)`` genes test
      (default 0.1); combinations holding one of those genes are excluded from all
      sets. Validation repeats this inside training.
    - ``"combo"``: ``test_fraction`` (default 0.1) of the combinations test, their
      singles stay in training (GEARS's ``combo_seen2``); ``val_fraction`` of the
      remaining combinations validate.
    - a mapping ``{"train": [...], "val": [...], "test": [...]}`` (``val`` optional;
      GEARS's ``set2conditions`` works as is, its ``"ctrl"`` is dropped).

    Subgroups are computed the same way for every mode, from the final training set:
    a test single is ``unseen_single`` when its gene is not perturbed alone in
    ``train``, a combination is ``combo_seen{k}`` with k its genes perturbed alone in
    ``train``. (GEARS labels subgroups before carving validation out of training, so
    a GEARS ``combo_seen2`` can hold a gene seen only in validation; here it is
    ``combo_seen1``: the labels say what the fitted model saw.)

    Parameters
    ----------
    conditions
        Condition labels, or an AnnData prepared by :func:`prepare_perturbation` (its
        ``obs_names``, control and separator are used).
    mode, seed, test_fraction, val_fraction, combo_seen2_train_fraction
        See above. ``test_fraction`` defaults to 0.25 for ``"simulation"``, 0.1 otherwise.
    control, separator
        How to read the labels (see :func:`parse_condition`).

    Returns
    -------
    :class:`PerturbationSplit`.

    Examples
    --------
    >>> conditions = ["ctrl", "A+ctrl", "B+ctrl", "C+ctrl", "D+ctrl", "A+B", "A+C", "C+D"]
    >>> split = perturbation_split(conditions, mode="simulation", seed=0)
    >>> sorted(set(split.subgroup[c] for c in split.test))  # doctest: +SKIP
    ['combo_seen1', 'unseen_single']
    """
    if hasattr(conditions, "uns") and PSEUDOBULK_KEY in conditions.uns:
        control = conditions.uns[PSEUDOBULK_KEY]["control"]
        separator = conditions.uns[PSEUDOBULK_KEY]["separator"]
        conditions = list(conditions.obs_names)
    elif hasattr(conditions, "obs"):
        raise TypeError("pass condition labels or an AnnData prepared by prepare_perturbation, "
                        "not a cell-level AnnData")
    labels = list(dict.fromkeys(str(c) for c in conditions))
    cache: dict[str, tuple[str, ...]] = {}

    def genes_of(c: str) -> tuple[str, ...]:
        if c not in cache:
            cache[c] = parse_condition(c, control=control, separator=separator)
        return cache[c]

    perts = [c for c in labels if genes_of(c)]
    rng = np.random.default_rng(seed)
    excluded: list[str] = []
    if isinstance(mode, Mapping):
        unknown_keys = set(mode) - {"train", "val", "test"}
        if unknown_keys:
            raise ValueError(f"a given split has keys 'train', 'val', 'test'; got also {sorted(unknown_keys)}")
        sets = {k: [str(c) for c in mode.get(k, []) if str(c) != control and genes_of(str(c))]
                for k in ("train", "val", "test")}
        known = set(perts)
        missing = sorted({c for s in sets.values() for c in s} - known)
        if missing:  # e.g. a GEARS split of conditions filtered out here
            warnings.warn(f"the given split names {len(missing)} conditions that are not in the data; they are "
                          f"dropped: {_listing(missing)}", UserWarning, stacklevel=2)
            sets = {k: [c for c in v if c in known] for k, v in sets.items()}
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            both = sorted(set(sets[a]) & set(sets[b]))
            if both:
                raise ValueError(f"conditions in both {a!r} and {b!r}: {_listing(both)}")
        train, val, test = sets["train"], sets["val"], sets["test"]
        excluded = [c for c in perts if c not in set(train) | set(val) | set(test)]
        name = "given"
    elif mode == "simulation":
        fraction = 0.25 if test_fraction is None else test_fraction
        train, test = _simulation_split(perts, genes_of, 1 - fraction, combo_seen2_train_fraction, rng)
        train, val = _simulation_split(train, genes_of, 1 - val_fraction, 1 - val_fraction, rng) \
            if val_fraction > 0 else (train, [])
        name = mode
    elif mode == "single":
        fraction = 0.1 if test_fraction is None else test_fraction
        train, test, excluded = _single_split(perts, genes_of, fraction, rng)
        if val_fraction > 0:
            train, val, held = _single_split(train, genes_of, val_fraction, rng)
            excluded += held
        else:
            val = []
        name = mode
    elif mode == "combo":
        if not any(len(genes_of(c)) > 1 for c in perts):
            raise ValueError("mode='combo' needs combinations (conditions of two genes); the data have none")
        fraction = 0.1 if test_fraction is None else test_fraction
        train, test = _combo_split(perts, genes_of, fraction, rng)
        train, val = _combo_split(train, genes_of, val_fraction, rng) if val_fraction > 0 else (train, [])
        name = mode
    else:
        raise ValueError(f"mode must be 'simulation', 'single', 'combo' or a dict of condition lists, got {mode!r}")
    order = {c: i for i, c in enumerate(labels)}
    train, val, test, excluded = (sorted(s, key=lambda c: order.get(c, len(order)))
                                  for s in (train, val, test, excluded))
    return PerturbationSplit(train=train, val=val, test=test, subgroup=_subgroups(perts, train, genes_of),
                             mode=name, seed=None if name == "given" else seed, excluded=excluded)


def _train_conditions(split, prepared) -> list[str]:
    if isinstance(split, str):
        raise TypeError(f"split must be a PerturbationSplit, a dict with 'train' or a list of training conditions, "
                        f"not the string {split!r}; use perturbation_split(prepared, mode={split!r})")
    if isinstance(split, (PerturbationSplit, Mapping)):
        train = list(split["train"])
    elif split is None:
        raise ValueError("fit needs a split: a PerturbationSplit, a dict with 'train', or a list of conditions")
    else:
        train = [str(c) for c in split]
    control = prepared.uns[PSEUDOBULK_KEY]["control"]
    train = [c for c in train if c != control]
    missing = [c for c in train if c not in prepared.obs_names]
    if missing:
        raise ValueError(f"{len(missing)} training conditions are not in the prepared data: {_listing(missing)}")
    if not train:
        raise ValueError("the split has no training condition")
    return train


# --- 3. models --------------------------------------------------------------------------
class _PerturbationModel(BaseEstimator):
    """Shared plumbing: fit on the training deltas of a prepared AnnData, predict AnnData."""

    def fit(self, prepared, split=None):
        """Fit on the training conditions of ``split`` (see :func:`perturbation_split`).

        ``prepared`` is the output of :func:`prepare_perturbation` (a cell-level
        AnnData is prepared with the default options). Returns ``self``.
        """
        prepared = _as_prepared(prepared)
        params = prepared.uns[PSEUDOBULK_KEY]
        self.control_ = params["control"]
        self.separator_ = params["separator"]
        self.dataset_ = prepared.uns.get("dataset")
        self.simulated_ = bool(prepared.uns.get("simulated", False))
        self.genes_ = pd.Index(prepared.var_names)
        control_row = prepared.obs_names.get_loc(self.control_)
        self.control_mean_ = np.asarray(prepared.X[control_row], dtype=np.float64)
        train = _train_conditions(split, prepared)
        delta = np.asarray(prepared[train].layers["delta"], dtype=np.float64)
        self.train_conditions_ = train
        self.train_mean_ = delta.mean(axis=0)
        self._fit(train, delta)
        return self

    def _fit(self, train: list[str], delta: np.ndarray) -> None:
        pass

    def _genes(self, condition: str) -> tuple[str, ...]:
        return parse_condition(condition, control=self.control_, separator=self.separator_)

    def predict(self, conditions):
        """Predicted pseudobulk of each condition: AnnData, obs = conditions, var = genes.

        ``X`` is the predicted mean expression (control mean + predicted delta),
        ``layers["delta"]`` the predicted delta, ``obs["fallback"]`` marks conditions
        the model could not predict itself (see the model), also counted in
        ``n_fallback_``.
        """
        import anndata as ad

        if not hasattr(self, "train_mean_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(prepared, split) first")
        if isinstance(conditions, str):
            conditions = [conditions]
        conditions = [str(c) for c in conditions]
        delta = np.zeros((len(conditions), len(self.genes_)))
        fallback = np.zeros(len(conditions), dtype=bool)
        rows = [i for i, c in enumerate(conditions) if self._genes(c)]
        if rows:
            delta[rows], fallback[rows] = self._predict_delta([conditions[i] for i in rows])
        self.n_fallback_ = int(fallback.sum())
        out = ad.AnnData(X=self.control_mean_[None, :] + delta,
                         obs=pd.DataFrame({"fallback": fallback}, index=pd.Index(conditions, name="condition")),
                         var=pd.DataFrame(index=self.genes_.copy()), layers={"delta": delta})
        out.uns["method"] = type(self).__name__
        out.uns["dataset"] = self.dataset_
        out.uns["simulated"] = self.simulated_
        return out

    def _predict_delta(self, conditions: list[str]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class NoChange(_PerturbationModel):
    """Baseline: every perturbation leaves expression at the control mean (delta 0).

    Its ``pearson_delta`` is undefined (a constant prediction) and reported as NaN.

    Examples
    --------
    >>> model = NoChange().fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(split.test).layers["delta"].max()  # doctest: +SKIP
    0.0
    """

    def _predict_delta(self, conditions):
        return np.zeros((len(conditions), len(self.genes_))), np.zeros(len(conditions), dtype=bool)


class TrainMean(_PerturbationModel):
    """Baseline: every perturbation changes expression by the mean training delta.

    The "mean" baseline of Ahlmann-Eltze, Huber & Anders (Nature Methods 2025), which
    none of GEARS, scGPT or scFoundation beat on unseen single perturbations.

    Examples
    --------
    >>> model = TrainMean().fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(["CBL+ctrl"]).layers["delta"]  # doctest: +SKIP
    """

    def _predict_delta(self, conditions):
        return np.tile(self.train_mean_, (len(conditions), 1)), np.zeros(len(conditions), dtype=bool)


_FALLBACKS = ("train_mean", "no_change")


class Additive(_PerturbationModel):
    """Baseline: a combination's delta is the sum of its genes' single deltas.

    The additive model of Ahlmann-Eltze, Huber & Anders (2025) and Norman et al.
    (2019). It needs every gene's single perturbation in training; any other
    condition (an unseen single, a combination with an unseen single) gets the
    ``fallback``, is flagged in ``obs["fallback"]`` and counted in ``n_fallback_``.

    Parameters
    ----------
    fallback
        ``"train_mean"`` (the mean training delta) or ``"no_change"`` (delta 0).

    Examples
    --------
    >>> model = Additive().fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(["CBL+CNN1"]).obs["fallback"].item()  # doctest: +SKIP
    False
    """

    def __init__(self, fallback: str = "train_mean") -> None:
        self.fallback = fallback

    def _fit(self, train, delta):
        if self.fallback not in _FALLBACKS:
            raise ValueError(f"fallback must be one of {_FALLBACKS}, got {self.fallback!r}")
        self.singles_ = {self._genes(c)[0]: delta[i] for i, c in enumerate(train) if len(self._genes(c)) == 1}

    def _predict_delta(self, conditions):
        default = self.train_mean_ if self.fallback == "train_mean" else np.zeros(len(self.genes_))
        out = np.empty((len(conditions), len(self.genes_)))
        fallback = np.zeros(len(conditions), dtype=bool)
        for i, c in enumerate(conditions):
            genes = self._genes(c)
            if len(genes) > 1 and all(g in self.singles_ for g in genes):
                out[i] = np.sum([self.singles_[g] for g in genes], axis=0)
            else:
                out[i], fallback[i] = default, True
        return out, fallback


class _EmbeddingModel(_PerturbationModel):
    """A model whose features are the summed embeddings of a condition's genes."""

    def _features(self, conditions: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Summed embedding per condition, and a mask of conditions whose genes all have one."""
        if not isinstance(self.embeddings, pd.DataFrame):
            raise TypeError(f"embeddings must be a gene x dimension DataFrame (e.g. from bftbio.embed_genes), "
                            f"got {type(self.embeddings).__name__}")
        if getattr(self, "_lookup_key", None) != id(self.embeddings):
            self._lookup = GeneLookup(self.embeddings)
            self._lookup_key = id(self.embeddings)
        genes = [self._genes(c) for c in conditions]
        flat = [g for gs in genes for g in gs]
        rows = self._lookup.rows(flat)
        x = np.zeros((len(conditions), self._lookup.values.shape[1]))
        ok = np.ones(len(conditions), dtype=bool)
        start = 0
        for i, gs in enumerate(genes):
            r = rows[start:start + len(gs)]
            start += len(gs)
            if (r < 0).any():
                ok[i] = False
            else:
                x[i] = self._lookup.values[r].sum(axis=0)
        self.missing_genes_ = sorted({g for g, r in zip(flat, rows) if r < 0})
        return x, ok

    def _fit(self, train, delta):
        x, ok = self._features(train)
        self.n_missing_fit_ = int((~ok).sum())
        if self.n_missing_fit_:
            warnings.warn(f"{self.n_missing_fit_} of {len(train)} training conditions perturb a gene without an "
                          f"embedding ({_listing(self.missing_genes_)}); they are left out of the fit",
                          UserWarning, stacklevel=3)
        if not ok.any():
            raise ValueError(f"none of the {len(train)} training conditions has an embedding for all its genes; "
                             "check that the embedding table's index holds gene symbols")
        self._fit_features(x[ok], delta[ok])

    def _predict_delta(self, conditions):
        x, ok = self._features(conditions)
        out = np.tile(self.train_mean_, (len(conditions), 1))  # fallback: the mean training delta
        if ok.any():
            out[ok] = self._predict_features(x[ok])
        return out, ~ok


def ridge_solve(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """``argmin_W |Y - X W|² + alpha |W|²`` = ``(XᵀX + αI)⁻¹ XᵀY``, via the smaller Gram matrix."""
    n, d = x.shape
    if n < d:  # W = Xᵀ (X Xᵀ + αI)⁻¹ Y, the same solution
        return x.T @ np.linalg.solve(x @ x.T + alpha * np.eye(n), y)
    return np.linalg.solve(x.T @ x + alpha * np.eye(d), x.T @ y)


class EmbeddingRidge(_EmbeddingModel):
    """Ridge regression from a perturbation's gene embedding to its expression delta.

    GenePert's model (ridge on GenePT embeddings): the feature of a condition is the
    embedding of its gene, summed over the genes of a combination; features and
    deltas are centred on the training conditions, so the intercept is the mean
    training delta. Genes are matched through the knowledge base
    (:func:`bftbio.knowledge.resolve_symbols`), so aliases find their embedding.
    Training conditions with a gene lacking an embedding are left out (warned,
    ``n_missing_fit_``); such conditions at prediction get the mean training delta
    (``obs["fallback"]``, ``n_fallback_``).

    Parameters
    ----------
    embeddings
        Gene × dimension DataFrame, e.g. from :func:`bftbio.embed_genes`; rows of NaN
        mean "no embedding".
    alpha
        Ridge penalty.

    Examples
    --------
    >>> import bftbio
    >>> from bftbio.tasks import EmbeddingRidge
    >>> emb = bftbio.embed_genes(genes, source="knowledge")  # doctest: +SKIP
    >>> model = EmbeddingRidge(emb, alpha=1.0).fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(split.test)  # doctest: +SKIP
    """

    def __init__(self, embeddings=None, alpha: float = 1.0) -> None:
        self.embeddings = embeddings
        self.alpha = alpha

    def _fit_features(self, x, y):
        self.x_mean_ = x.mean(axis=0)
        self.y_mean_ = y.mean(axis=0)
        self.coef_ = ridge_solve(x - self.x_mean_, y - self.y_mean_, self.alpha)

    def _predict_features(self, x):
        return self.y_mean_ + (x - self.x_mean_) @ self.coef_


class LinearModel(_EmbeddingModel):
    """The linear model of Ahlmann-Eltze, Huber & Anders (Nature Methods 2025).

    ``Y ≈ G W Pᵀ + b`` with ``Y`` the training deltas (genes × conditions), ``b`` their
    mean over conditions, ``G`` the first ``n_components`` principal components of
    the centred training deltas (genes × K) and ``P`` the perturbation embedding
    (conditions × d; summed over a combination's genes, centred on the training
    conditions as the paper's PCA scores are). ``W`` in closed form (their equation):
    ``W = (GᵀG + λI)⁻¹ Gᵀ (Y − b) P (PᵀP + λI)⁻¹``; a new condition with embedding
    ``p`` is predicted as ``G W (p − p̄) + b``. Missing embeddings are handled as in
    :class:`EmbeddingRidge`.

    Parameters
    ----------
    embeddings
        Gene × dimension DataFrame (perturbation embedding of each gene).
    n_components
        K, the number of principal components of the deltas (10 in the paper).
    ridge
        λ (0.1 in the paper).

    Examples
    --------
    >>> from bftbio.tasks import LinearModel
    >>> model = LinearModel(emb, n_components=10, ridge=0.1).fit(prepared, split)  # doctest: +SKIP
    """

    def __init__(self, embeddings=None, n_components: int = 10, ridge: float = 0.1) -> None:
        self.embeddings = embeddings
        self.n_components = n_components
        self.ridge = ridge

    def _fit_features(self, p, y):
        # P is centred on the training conditions, as PCA scores (the paper's own P)
        # are: b is then the prediction for the average training perturbation.
        self.p_mean_ = p.mean(axis=0)
        p = p - self.p_mean_
        y = y.T  # genes x conditions
        self.b_ = y.mean(axis=1)
        centred = y - self.b_[:, None]
        # PCA of the deltas through the small conditions x conditions Gram matrix (eigh):
        # the same G as an SVD of the genes x conditions matrix, and far cheaper.
        values, vectors = np.linalg.eigh(centred.T @ centred)
        top = np.argsort(values)[::-1]
        top = top[values[top] > values.max() * 1e-10][: max(1, self.n_components)]
        g = centred @ vectors[:, top] / np.sqrt(values[top])
        k = g.shape[1]
        left = np.linalg.solve(g.T @ g + self.ridge * np.eye(k), g.T @ centred @ p)
        self.W_ = np.linalg.solve(p.T @ p + self.ridge * np.eye(p.shape[1]), left.T).T  # left (PᵀP + λI)⁻¹
        self.G_ = g

    def _predict_features(self, p):
        return (self.G_ @ self.W_ @ (p - self.p_mean_).T).T + self.b_


# --- 4. metrics and evaluation ----------------------------------------------------------
def _row_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=1) / den
    r[~(den > 0)] = np.nan
    return r


def perturbation_metrics(observed, predicted, *, de_genes=None, top_expressed=None) -> pd.DataFrame:
    """Per-condition scores of predicted against observed expression deltas.

    - ``pearson_delta``: Pearson correlation over all genes of the deltas (NaN when a
      delta is constant, e.g. :class:`NoChange`);
    - ``pearson_delta_de``: the same over the condition's DE genes;
    - ``mse_de``: mean squared error over the DE genes;
    - ``l2_top1000``: Euclidean distance over ``top_expressed`` (the 1,000 most
      expressed genes in :func:`evaluate_perturbation`). Deltas share the control, so
      it is also the distance between predicted and observed expression
      (Ahlmann-Eltze et al. 2025).

    Parameters
    ----------
    observed, predicted
        Deltas, conditions × genes (arrays, or DataFrames aligned on their index and
        columns); a 1-d array is one condition.
    de_genes
        Per condition, the positions (ints) of its DE genes: an int array
        (conditions × k) or a list of lists. With DataFrames, gene names work too.
    top_expressed
        Positions (or names) of the genes for ``l2_top1000``.

    Returns
    -------
    DataFrame, one row per condition, one column per metric computed.

    Examples
    --------
    >>> import numpy as np
    >>> obs = np.array([[1.0, 2.0, 3.0, 0.0]])
    >>> pred = np.array([[2.0, 4.0, 6.0, 1.0]])
    >>> perturbation_metrics(obs, pred, de_genes=[[0, 1]], top_expressed=[0, 3]).round(3).to_dict("records")
    [{'pearson_delta': 0.986, 'pearson_delta_de': 1.0, 'mse_de': 2.5, 'l2_top1000': 1.414}]
    """
    index = None
    if isinstance(observed, pd.DataFrame):
        index = observed.index
        genes = observed.columns
        if isinstance(predicted, pd.DataFrame):
            predicted = predicted.reindex(index=index, columns=genes)

        def position(names):
            names = np.asarray(names)
            if names.dtype.kind in "iu":
                return names
            found = genes.get_indexer(names.ravel()).reshape(names.shape)
            if (found < 0).any():
                raise KeyError(f"genes not among the columns: {_listing(list(names.ravel()[found.ravel() < 0]))}")
            return found

        if de_genes is not None:
            de_genes = [position(list(g)) for g in (de_genes.to_numpy() if isinstance(de_genes, pd.DataFrame)
                                                    else de_genes)]
        if top_expressed is not None:
            top_expressed = position(list(top_expressed))
    obs = np.atleast_2d(np.asarray(observed, dtype=np.float64))
    pred = np.atleast_2d(np.asarray(predicted, dtype=np.float64))
    if obs.shape != pred.shape:
        raise ValueError(f"observed and predicted differ in shape: {obs.shape} vs {pred.shape}")
    out = {"pearson_delta": _row_pearson(obs, pred)}
    if de_genes is not None:
        de = [np.asarray(g, dtype=np.int64) for g in de_genes]
        if len(de) != len(obs):
            raise ValueError(f"de_genes has {len(de)} rows for {len(obs)} conditions")
        if len({len(g) for g in de}) == 1:
            idx = np.array(de)
            o, p = np.take_along_axis(obs, idx, 1), np.take_along_axis(pred, idx, 1)
            out["pearson_delta_de"] = _row_pearson(o, p)
            out["mse_de"] = ((o - p) ** 2).mean(axis=1)
        else:
            out["pearson_delta_de"] = np.array([_row_pearson(obs[i:i + 1, g], pred[i:i + 1, g])[0]
                                                for i, g in enumerate(de)])
            out["mse_de"] = np.array([((obs[i, g] - pred[i, g]) ** 2).mean() for i, g in enumerate(de)])
    if top_expressed is not None:
        top = np.asarray(top_expressed, dtype=np.int64)
        out["l2_top1000"] = np.sqrt(((obs[:, top] - pred[:, top]) ** 2).sum(axis=1))
    return pd.DataFrame(out, index=index)


def evaluate_perturbation(
    adata,
    models: Mapping[str, _PerturbationModel],
    split,
    *,
    splits: Sequence[str] = ("test",),
    n_top_expressed: int = 1000,
    dataset: str | None = None,
    per_condition: bool = False,
    seed: int = 0,
    **prepare_options,
):
    """Fit every model on the training conditions and score its predictions, as a tidy table.

    Parameters
    ----------
    adata
        An AnnData prepared by :func:`prepare_perturbation`, or cells (prepared here
        with ``prepare_options``).
    models
        ``{method name: model}``; each is fitted in place.
    split
        A :class:`PerturbationSplit`, a dict of condition lists, or a mode for
        :func:`perturbation_split` (``"simulation"``, ``"single"``, ``"combo"``) drawn
        with ``seed``.
    splits
        Which sets to score (``"test"``, ``"val"``, ``"train"``).
    n_top_expressed
        Genes of ``l2_top1000``: the most expressed in the control mean.
    dataset
        The name in the table (default the prepared data's; always containing
        "simulated" for simulated data).
    per_condition
        Also return one row per condition, method and metric.

    Returns
    -------
    Tidy DataFrame ``task, dataset, split, subgroup, method, metric, value, n``: the
    mean of each metric over the conditions of a subgroup (``n`` conditions with a
    value; NaN values, e.g. :class:`NoChange`'s ``pearson_delta``, are left out) and
    over all of them (subgroup ``"all"``); metric ``n_fallback`` counts the
    conditions a model could not predict itself (value) out of ``n``. With
    ``per_condition``, also a frame ``task, dataset, split, subgroup, method,
    condition, metric, value``.

    Examples
    --------
    >>> from bftbio.tasks import NoChange, TrainMean, Additive, evaluate_perturbation
    >>> table = evaluate_perturbation(prepared, {"TrainMean": TrainMean(), "Additive": Additive()},
    ...                               "simulation")  # doctest: +SKIP
    """
    prepared = _as_prepared(adata, **prepare_options)
    if isinstance(split, str) or (isinstance(split, Mapping) and not isinstance(split, PerturbationSplit)):
        split = perturbation_split(prepared, mode=split, seed=seed)
    if not isinstance(split, PerturbationSplit):
        raise TypeError(f"split must be a PerturbationSplit, a dict or a mode name, got {type(split).__name__}")
    name = _dataset_name(prepared, dataset)[0]
    delta = pd.DataFrame(prepared.layers["delta"], index=prepared.obs_names, columns=prepared.var_names)
    top_de = prepared.uns["top_de"]
    order = np.argsort(-np.asarray(prepared.var["control_mean"]), kind="stable")
    top_expressed = order[: min(n_top_expressed, len(order))]
    long = []
    for method, model in models.items():
        model.fit(prepared, split)
        for which in splits:
            conditions = [c for c in split[which] if c in delta.index]
            if not conditions:
                continue
            predicted = model.predict(conditions)
            scores = perturbation_metrics(delta.loc[conditions], predicted.to_df(layer="delta"),
                                          de_genes=top_de.loc[conditions], top_expressed=top_expressed)
            scores["n_fallback"] = predicted.obs["fallback"].to_numpy().astype(float)
            scores = scores.rename_axis("condition").reset_index().melt(id_vars="condition", var_name="metric")
            scores.insert(0, "method", method)
            scores.insert(0, "subgroup", scores["condition"].map(split.subgroup))
            scores.insert(0, "split", which)
            long.append(scores)
    if not long:
        raise ValueError(f"no condition of the sets {list(splits)} is in the prepared data")
    per = pd.concat(long, ignore_index=True)
    per.insert(0, "dataset", name)
    per.insert(0, "task", TASK)
    both = pd.concat([per, per.assign(subgroup="all")], ignore_index=True)
    keys = ["task", "dataset", "split", "subgroup", "method", "metric"]
    fallback = both["metric"] == "n_fallback"
    scored = both[~fallback].groupby(keys, sort=False)["value"].agg(value="mean", n="count")  # NaN left out
    counted = both[fallback].groupby(keys, sort=False)["value"].agg(value="sum", n="size")
    table = pd.concat([scored, counted]).reset_index()
    table["n"] = table["n"].astype(int)
    if per_condition:
        return table, per[["task", "dataset", "split", "subgroup", "method", "condition", "metric", "value"]]
    return table


def _spec_embeddings(name: str, spec, genes: list[str], seed: int) -> pd.DataFrame:
    """The embeddings that a spec of :func:`benchmark_interactions` gives for ``genes``."""
    from ._interaction import random_embeddings

    if spec == "random":
        return random_embeddings(genes, seed=seed)
    if not isinstance(spec, Mapping):
        raise ValueError(f"method {name!r}: give a DataFrame, a function, 'random' or embed_genes options, "
                         f"got {spec!r}")
    from ..embed import embed_genes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # genes without an embedding are counted in n_fallback
        return embed_genes(genes, **spec)


def benchmark_perturbation(
    methods: Mapping[str, pd.DataFrame | Callable[[list[str]], pd.DataFrame] | Mapping | str],
    adata=None,
    *,
    seed: int = 0,
    n_cells: int = 20_000,
    n_genes: int = 2_000,
    n_conditions: int = 210,
    n_combos: int = 60,
    data=None,
    split: str = "simulation",
    alpha: float = 1.0,
    n_components: int = 10,
    ridge: float = 0.1,
    per_condition: bool = False,
):
    """The three baselines and both embedding models for each embedding source, on one split.

    Without ``adata`` the data are SIMULATED by :func:`bftbio.datasets.simulate_perturbseq`
    (``n_cells`` cells, ``n_genes`` genes, ``n_conditions`` conditions of which
    ``n_combos`` doubles; effects spread along the Gene2vec co-expression network
    read from ``data``), and the table's dataset name says "simulated".

    Parameters
    ----------
    methods
        ``{name: embeddings}``: a gene × dimension DataFrame, a function that takes
        the list of perturbed genes and returns one, or a spec as
        :func:`benchmark_interactions` takes it (``"random"``, or the keyword
        arguments of :func:`bftbio.embed_genes`); functions and specs embed only the
        perturbed genes. Each gives ``EmbeddingRidge (name)`` and ``LinearModel (name)``.
    adata
        Cells to use instead of simulating (prepared with the default options), or an
        AnnData prepared by :func:`prepare_perturbation`.
    seed
        Seed of the simulation and of the split.
    n_cells, n_genes, n_conditions, n_combos, data
        Simulation sizes and the folder of the Gene2vec files.
    split
        Mode of :func:`perturbation_split`.
    alpha, n_components, ridge
        Options of :class:`EmbeddingRidge` and :class:`LinearModel`.
    per_condition
        See :func:`evaluate_perturbation`.

    Returns
    -------
    The tidy table of :func:`evaluate_perturbation` on the test set: methods
    ``NoChange``, ``TrainMean``, ``Additive``, ``EmbeddingRidge (name)``,
    ``LinearModel (name)``; subgroups ``unseen_single``, ``combo_seen0/1/2`` and
    ``all``; metrics ``pearson_delta``, ``pearson_delta_de``, ``mse_de``,
    ``l2_top1000``, ``n_fallback``.

    Examples
    --------
    >>> from bftbio.tasks import benchmark_perturbation, random_embeddings
    >>> table = benchmark_perturbation({"random": lambda genes: random_embeddings(genes)},
    ...                                data=None)  # doctest: +SKIP
    """
    if adata is None:
        from ..datasets import simulate_perturbseq

        adata = simulate_perturbseq(n_cells=n_cells, n_genes=n_genes, n_conditions=n_conditions, n_combos=n_combos,
                                    seed=seed, data=data)
    prepared = _as_prepared(adata)
    chosen = perturbation_split(prepared, mode=split, seed=seed)
    params = prepared.uns[PSEUDOBULK_KEY]
    genes = sorted({g for c in prepared.obs_names
                    for g in parse_condition(c, control=params["control"], separator=params["separator"])})
    models: dict[str, _PerturbationModel] = {"NoChange": NoChange(), "TrainMean": TrainMean(), "Additive": Additive()}
    for name, source in methods.items():
        if isinstance(source, pd.DataFrame):
            table = source
        elif callable(source):
            table = source(genes)
        else:
            table = _spec_embeddings(name, source, genes, seed)
        models[f"EmbeddingRidge ({name})"] = EmbeddingRidge(table, alpha=alpha)
        models[f"LinearModel ({name})"] = LinearModel(table, n_components=n_components, ridge=ridge)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing embeddings are counted in n_fallback
        return evaluate_perturbation(prepared, models, chosen, per_condition=per_condition)
