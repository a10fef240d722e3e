"""Preparation: pseudobulk mean per condition (a pure array function), delta against
control and top DE genes, and the scanpy-style writer around them."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from ... import knowledge
from ..._checks import check_finite
from ._conditions import listing, parse_condition

#: ``uns`` key marking an AnnData prepared by :func:`prepare_perturbation` (its parameters).
PSEUDOBULK_KEY = "bftbio_pseudobulk"


def pseudobulk(matrix, labels, groups) -> tuple[np.ndarray, np.ndarray]:
    """Mean expression of the cells of each group, and how many cells each group has.

    ``means[k] = (1 / n_k) * sum of the rows of matrix labelled groups[k]``, computed as
    one product of a sparse (groups × cells) indicator of ``1 / n_k`` with ``matrix``,
    so a sparse cell matrix is never densified.

    Parameters
    ----------
    matrix
        Cells × genes, a NumPy array or a SciPy sparse matrix.
    labels
        One group label per cell (strings, or anything ``str`` turns into one).
    groups
        The groups, in the order of the output rows. Cells with another label are
        left out.

    Returns
    -------
    ``means``: groups × genes, float64 (a row of NaN for a group without cells);
    ``n_cells``: int64, cells per group.

    Raises
    ------
    ValueError
        ``labels`` and ``matrix`` differ in length.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0]])
    >>> means, n_cells = pseudobulk(x, ["ctrl", "A", "A"], ["ctrl", "A"])
    >>> means.tolist(), n_cells.tolist()
    ([[1.0, 0.0], [4.0, 3.0]], [1, 2])
    """
    groups = [str(g) for g in groups]
    labels = np.asarray(labels, dtype=object).astype(str)
    if labels.ndim != 1 or len(labels) != matrix.shape[0]:
        raise ValueError(f"labels has {labels.size} entries for a matrix of {matrix.shape[0]} cells")
    codes = pd.Categorical(labels, categories=groups).codes
    cells = np.flatnonzero(codes >= 0)
    n_cells = np.bincount(codes[cells], minlength=len(groups)).astype(np.int64)
    indicator = sparse.csr_matrix((1.0 / n_cells[codes[cells]], (codes[cells], cells)),
                                  shape=(len(groups), matrix.shape[0]))
    means = indicator @ matrix
    means = means.toarray() if sparse.issparse(means) else np.asarray(means, dtype=np.float64)
    if (n_cells == 0).any():
        means[n_cells == 0] = np.nan
    return means, n_cells


def symbols_of(adata, gene_symbols: str | None) -> pd.Index:
    """Gene symbols of ``adata``'s genes, unique: the column given, GEARS's ``gene_name``, or var_names."""
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


def dataset_name(adata, dataset: str | None) -> tuple[str, bool]:
    """The dataset's name for result tables, and whether it is simulated (then the name says so)."""
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
    copy: bool = False,
):
    """Pseudobulk, delta against control and top DE genes of each perturbation condition.

    Validates the input first: the condition column must exist and hold control
    cells; a condition that perturbs a gene the knowledge base does not know gets
    one warning naming the conditions (the models then fall back for it, counted).
    ``X`` may be dense or sparse; the cell matrix is never densified: means come from
    :func:`pseudobulk`, a sparse condition-indicator matrix product.

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
        Keys of ``adata.uns`` written when ``copy=False`` (see Returns).
    copy
        ``False`` (default, as scanpy's tools): annotate ``adata`` in place with the
        two ``uns`` entries below. ``True``: leave ``adata`` untouched; the results
        are only in the returned AnnData (it holds everything ``uns[key_added]``
        holds; only scanpy's scores and p-values of the DE test are not kept).
        Either way nothing else of ``adata`` changes: ``obs`` keeps its dtypes (the
        DE test runs on a separate AnnData that shares the expression matrix).

    Returns
    -------
    A new, small AnnData of conditions × genes (the control first), which the models
    fit, in both modes: ``X`` the pseudobulk means, ``layers["delta"]`` the means
    minus the control's; ``obs``: ``n_cells``, ``n_perturbed`` (0, 1, 2), ``kind``
    (``control``, ``single``, ``combo``); ``var``: ``control_mean``,
    ``expression_rank`` (0 = highest control mean); ``uns["top_de"]`` (conditions ×
    ``n_top_de`` DE gene symbols), ``uns["dataset"]``, ``uns["simulated"]``,
    ``uns["bftbio_pseudobulk"]`` (the parameters).

    With ``copy=False``, ``adata`` gains ``uns[key_added]`` = ``{"params",
    "pseudobulk", "delta", "n_cells", "top_de"}`` (``pseudobulk`` and ``delta``:
    conditions × ``var_names`` DataFrames; ``n_cells``: a one-column DataFrame) and
    ``uns[de_key]``, the ``rank_genes_groups`` result (top ``n_top_de`` genes per
    condition). With ``copy=True`` nothing is written into ``adata``.

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
    >>> prepared = prepare_perturbation(adata, copy=True)  # adata untouched  # doctest: +SKIP
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
                      f"{listing(small)}", UserWarning, stacklevel=2)
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
                      f"know ({listing(sorted(unknown))}): {listing(bad)}. Models that need an embedding "
                      "fall back for them (counted in n_fallback).", UserWarning, stacklevel=2)

    symbols = symbols_of(adata, gene_symbols)
    matrix = adata.X if layer is None else adata.layers[layer]
    _check_expression(matrix, "adata.X" if layer is None else f"adata.layers[{layer!r}]", adata)

    means, n_cells = pseudobulk(matrix, labels.to_numpy(), conditions)
    delta = means - means[0]

    # The DE test on an AnnData of its own (the same matrix, not a copy): scanpy would
    # otherwise rewrite adata.obs (strings to categoricals) and adata.uns.
    cells = ad.AnnData(X=matrix, obs=pd.DataFrame({perturbation_key: labels.values}, index=adata.obs_names),
                       var=pd.DataFrame(index=adata.var_names))
    with warnings.catch_warnings(), _one_numba_thread():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)  # scanpy builds its frame column by column
        sc.tl.rank_genes_groups(cells, groupby=perturbation_key, groups=conditions, reference=control,
                                method="t-test", rankby_abs=True, n_genes=n_top_de, use_raw=False,
                                key_added=de_key)
    de_result = cells.uns[de_key]
    de_result["params"]["layer"] = layer
    names = pd.DataFrame(de_result["names"])
    position = adata.var_names.get_indexer(names.to_numpy().ravel()).reshape(names.shape)
    top_de = pd.DataFrame(np.asarray(symbols)[position].T, index=pd.Index(names.columns, name="condition"),
                          columns=[f"de_{i + 1}" for i in range(names.shape[0])]).reindex(conditions[1:])

    name, simulated = dataset_name(adata, dataset)
    params = {"perturbation_key": perturbation_key, "control": control, "separator": separator,
              "gene_symbols": gene_symbols, "layer": layer, "n_top_de": n_top_de, "min_cells": min_cells,
              "de_method": "t-test", "de_rankby_abs": True, "de_reference": control, "de_key": de_key,
              "dataset": name, "simulated": simulated}
    index = pd.Index(conditions, name="condition")
    if not copy:
        adata.uns[de_key] = de_result
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


def as_prepared(data, **prepare_options):
    """A prepared pseudobulk AnnData; cells are prepared with the options given, leaving them untouched."""
    if hasattr(data, "uns") and PSEUDOBULK_KEY in data.uns:
        return data
    if hasattr(data, "obs") and hasattr(data, "X"):
        return prepare_perturbation(data, **{"copy": True, **prepare_options})
    raise TypeError(f"expected an AnnData (cells, or prepared by prepare_perturbation), got {type(data).__name__}")
