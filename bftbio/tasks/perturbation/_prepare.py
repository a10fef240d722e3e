"""Preparation: pseudobulk mean per condition (a pure array function), delta against
control and top DE genes, and the scanpy-style writer around them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from ... import knowledge
from ._conditions import listing, parse_condition

#: ``uns`` key marking an AnnData prepared by :func:`prepare_perturbation` (its parameters).
PSEUDOBULK_KEY = "bftbio_pseudobulk"


#: Cells read at a time: the cell matrix is streamed in row blocks of this size, so a backed
#: (on-disk) AnnData of any size needs memory for one block, not for the matrix.
CHUNK_SIZE = 10_000


def _blocks(matrix, chunk_size: int):
    """Row blocks ``(start, block)`` of a cell matrix: NumPy, SciPy sparse, an h5py dataset or anndata's backed
    sparse matrix (``read_h5ad(..., backed="r")``), or a Dask array; each block is NumPy or SciPy CSR."""
    n = matrix.shape[0]
    for start in range(0, n, chunk_size):
        block = matrix[start : min(start + chunk_size, n)]
        if hasattr(block, "compute"):  # Dask
            block = block.compute()
        if sparse.issparse(block):  # float64: squares of integer counts would overflow their own dtype
            block = sparse.csr_matrix(block, dtype=np.float64)
        else:
            block = np.asarray(block, dtype=np.float64)
        yield start, block


def group_statistics(matrix, labels, groups, *, variances: bool = True, chunk_size: int = CHUNK_SIZE,
                     what: str = "the expression", rows=None, columns=None) -> dict:
    """Mean (and unbiased variance) of each group's cells, gene by gene, in one pass over row blocks.

    Sums and sums of squares are accumulated per block as products of a sparse (groups ×
    cells) indicator with the block, in float64; ``mean = sum / n`` and ``variance = (sum of
    squares − n · mean²) / (n − 1)`` (R's unbiased convention, as scanpy's t-test uses). A
    block is checked for NaN and inf as it is read; any is an error naming the count and the
    first cell and gene, raised after the pass.

    Parameters
    ----------
    matrix
        Cells × genes: NumPy, SciPy sparse, an on-disk (backed) AnnData matrix or a Dask array.
    labels, groups
        One label per cell; the groups in the order of the output rows (other labels are left out).
    variances
        Also accumulate squares (one more sparse product per block).
    chunk_size
        Cells per block.
    what, rows, columns
        How errors name the matrix, its cells and its genes.

    Returns
    -------
    A dict: ``means`` and (with ``variances``) ``variances``, groups × genes float64 (NaN for a
    group without cells; a variance needs two cells); ``n_cells``; ``max_value`` and
    ``integer_valued`` (of the first block, for the raw-count check).
    """
    groups = [str(g) for g in groups]
    labels = np.asarray(labels, dtype=object).astype(str)
    n_obs, n_genes = matrix.shape
    if labels.ndim != 1 or len(labels) != n_obs:
        raise ValueError(f"labels has {labels.size} entries for a matrix of {n_obs} cells")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    codes = pd.Categorical(labels, categories=groups).codes
    n_cells = np.bincount(codes[codes >= 0], minlength=len(groups)).astype(np.int64)
    sums = np.zeros((len(groups), n_genes))
    squares = np.zeros((len(groups), n_genes)) if variances else None
    bad_count, bad_cells, first, sample = 0, 0, None, None
    for start, block in _blocks(matrix, chunk_size):
        values = block.data if sparse.issparse(block) else block  # float64, from _blocks
        bad = ~np.isfinite(values)
        if bad.any():
            if sparse.issparse(block):
                coo = block.tocoo()
                cells, genes = coo.row[~np.isfinite(coo.data)], coo.col[~np.isfinite(coo.data)]
            else:
                cells, genes = np.nonzero(bad)
            bad_count += int(bad.sum())
            bad_cells += len(np.unique(cells))
            first = first or (start + int(cells[0]), int(genes[0]))
            continue
        if sample is None:
            sample = values[:100_000] if sparse.issparse(block) else values[:200].ravel()
        code = codes[start : start + block.shape[0]]
        kept = np.flatnonzero(code >= 0)
        indicator = sparse.csr_matrix((np.ones(len(kept)), (code[kept], kept)), shape=(len(groups), block.shape[0]))
        product = indicator @ block
        sums += product.toarray() if sparse.issparse(product) else np.asarray(product, dtype=np.float64)
        if variances:
            squared = block.multiply(block) if sparse.issparse(block) else np.square(block, dtype=np.float64)
            product = indicator @ squared
            squares += product.toarray() if sparse.issparse(product) else np.asarray(product)
    if bad_count:
        r, c = first
        raise ValueError(f"{what} holds {bad_count:,} NaN or infinite values in {bad_cells:,} of its {n_obs:,} rows "
                         f"(first: row {rows[r] if rows is not None else r!r}, column "
                         f"{columns[c] if columns is not None else c!r}); pseudobulk means and DE would be NaN; fill "
                         "or drop those values (or those cells) first")
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / n_cells[:, None]
        out = {"means": means, "n_cells": n_cells}
        if variances:
            # Clipped at 0: a constant gene's E[x^2] - mean^2 can round to -1e-16, whose root is NaN.
            out["variances"] = np.maximum((squares - n_cells[:, None] * means**2) / (n_cells[:, None] - 1), 0)
            out["variances"][n_cells < 2] = np.nan
    means[n_cells == 0] = np.nan
    sample = np.asarray(sample if sample is not None else [])
    out["max_value"] = float(sample.max()) if sample.size else 0.0
    out["integer_valued"] = bool(sample.size and np.all(sample >= 0) and np.all(sample == np.round(sample)))
    return out


def pseudobulk(matrix, labels, groups, *, chunk_size: int = CHUNK_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Mean expression of the cells of each group, and how many cells each group has.

    ``means[k] = (1 / n_k) * sum of the rows of matrix labelled groups[k]``, accumulated over
    blocks of ``chunk_size`` cells as products of a sparse (groups × cells) indicator with
    the block (:func:`group_statistics`), so a sparse cell matrix is never densified and an
    on-disk (backed) or Dask matrix is streamed.

    Parameters
    ----------
    matrix
        Cells × genes: a NumPy array, a SciPy sparse matrix, a backed AnnData's ``X`` or a Dask array.
    labels
        One group label per cell (strings, or anything ``str`` turns into one).
    groups
        The groups, in the order of the output rows. Cells with another label are
        left out.
    chunk_size
        Cells read at a time.

    Returns
    -------
    ``means``: groups × genes, float64 (a row of NaN for a group without cells);
    ``n_cells``: int64, cells per group.

    Raises
    ------
    ValueError
        ``labels`` and ``matrix`` differ in length; the matrix holds NaN or inf.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0]])
    >>> means, n_cells = pseudobulk(x, ["ctrl", "A", "A"], ["ctrl", "A"])
    >>> means.tolist(), n_cells.tolist()
    ([[1.0, 0.0], [4.0, 3.0]], [1, 2])
    """
    stats = group_statistics(matrix, labels, groups, variances=False, chunk_size=chunk_size)
    return stats["means"], stats["n_cells"]


def _top(scores: np.ndarray, n_top: int) -> np.ndarray:
    """Positions of the ``n_top`` largest scores, largest first (the partition-then-sort order scanpy uses)."""
    n_top = min(n_top, len(scores))
    part = np.argpartition(scores, -n_top)[-n_top:]
    return part[np.argsort(scores[part])[::-1]]


def _benjamini_hochberg(pvals: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values: min over j >= i of p_(j) · n / j, capped at 1."""
    order = np.argsort(pvals)
    ranked = pvals[order] * len(pvals) / np.arange(1, len(pvals) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def welch_de(means, variances, n_cells, *, reference: int = 0, n_top: int = 20) -> dict[str, np.ndarray]:
    """Welch's t-test of every group against the reference group, from group means and variances.

    The test GEARS runs through :func:`scanpy.tl.rank_genes_groups` (``method="t-test"``,
    ``rankby_abs=True``), here from statistics a single pass can stream
    (:func:`group_statistics`): ``t = (m_g − m_r) / sqrt(v_g / n_g + v_r / n_r)`` with
    Welch–Satterthwaite degrees of freedom; t is 0 where it is undefined (both variances 0,
    equal means) and its p-value 1; p-values are Benjamini–Hochberg adjusted over all genes;
    the log fold change is ``log2((expm1(m_g) + 1e-9) / (expm1(m_r) + 1e-9))``. Genes are
    ranked by ``|t|``.

    Returns
    -------
    ``{"genes", "scores", "pvals", "pvals_adj", "logfoldchanges"}``: (groups other than the
    reference) × ``n_top`` arrays, ``genes`` holding gene positions.
    """
    from scipy import stats

    if not isinstance(n_top, (int, np.integer)) or n_top < 1:
        raise ValueError(f"n_top must be a positive integer, got {n_top!r}")
    means, variances = np.asarray(means, dtype=np.float64), np.asarray(variances, dtype=np.float64)
    others = [g for g in range(len(means)) if g != reference]
    with np.errstate(invalid="ignore", divide="ignore"):
        scores, pvals = stats.ttest_ind_from_stats(
            means[others], np.sqrt(variances[others]), n_cells[others, None],
            means[reference], np.sqrt(variances[reference]), n_cells[reference], equal_var=False)
    scores, pvals = np.atleast_2d(scores), np.atleast_2d(pvals)
    scores[np.isnan(scores)] = 0
    pvals[np.isnan(pvals)] = 1
    out = {k: [] for k in ("genes", "scores", "pvals", "pvals_adj", "logfoldchanges")}
    with np.errstate(invalid="ignore", divide="ignore"):
        fold = np.log2((np.expm1(means[others]) + 1e-9) / (np.expm1(means[reference]) + 1e-9))
    for k in range(len(others)):
        top = _top(np.abs(scores[k]), n_top)
        out["genes"].append(top)
        out["scores"].append(scores[k, top])
        out["pvals"].append(pvals[k, top])
        out["pvals_adj"].append(_benjamini_hochberg(pvals[k])[top])
        out["logfoldchanges"].append(fold[k, top])
    return {k: np.array(v) for k, v in out.items()}


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


def dataset_name(adata, dataset: str | None) -> tuple[str, bool]:
    """The dataset's name for result tables, and whether it is simulated (then the name says so)."""
    simulated = bool(adata.uns.get("simulated", False))
    name = dataset or adata.uns.get("dataset") or "unnamed"
    name = str(name)
    if simulated and "simulated" not in name.lower():
        name = f"simulated {name}"
    return name, simulated


def _rank_genes_groups_record(de: dict, conditions: list[str], var_names, groupby: str, control: str,
                              layer: str | None) -> dict:
    """The DE result in the layout :func:`scanpy.tl.rank_genes_groups` writes (record arrays, one field per group),
    so ``sc.get.rank_genes_groups_df`` and ``sc.pl.rank_genes_groups`` read it."""
    groups = conditions[1:]
    names = np.asarray(var_names)[de["genes"]]
    record = {"params": {"groupby": groupby, "reference": control, "method": "t-test", "use_raw": False,
                         "layer": layer, "corr_method": "benjamini-hochberg"}}
    for key, values, dtype in (("names", names, "O"), ("scores", de["scores"], "float32"),
                               ("pvals", de["pvals"], "float64"), ("pvals_adj", de["pvals_adj"], "float64"),
                               ("logfoldchanges", de["logfoldchanges"], "float32")):
        frame = pd.DataFrame(np.asarray(values).T, columns=groups)
        record[key] = frame.to_records(index=False, column_dtypes=dict.fromkeys(groups, dtype))
    return record


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
    chunk_size: int = CHUNK_SIZE,
    copy: bool = False,
):
    """Pseudobulk, delta against control and top DE genes of each perturbation condition.

    Validates the input first: the condition column must exist and hold control
    cells; a condition that perturbs a gene the knowledge base does not know gets
    one warning naming the conditions (the models then fall back for it, counted).
    ``X`` may be dense or sparse, in memory, on disk (``anndata.read_h5ad(path,
    backed="r")``) or a Dask array: the cells are read once, ``chunk_size`` at a time, and
    never densified (:func:`group_statistics`: per-condition sums and sums of squares as
    sparse indicator-matrix products), so memory grows with conditions × genes, not with
    cells.

    Differential expression is the test GEARS runs through
    :func:`scanpy.tl.rank_genes_groups` (``groupby=perturbation_key``,
    ``reference=control``, ``method="t-test"``: Welch's t on the log-normalised values,
    ``rankby_abs=True``, ``use_raw=False``), computed from the streamed means and
    variances (:func:`welch_de`; the same genes and scores as scanpy's, tested); the top
    ``n_top_de`` genes by absolute score are the condition's DE genes. (GEARS keeps the
    whole ranking and later also drops "dropout" genes; bftbio keeps the first
    ``n_top_de`` genes of the ranking, without that filter.)

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
    chunk_size
        Cells read at a time (memory for one block of this many cells).
    copy
        ``False`` (default, as scanpy's tools): annotate ``adata`` in place with the
        two ``uns`` entries below. ``True``: leave ``adata`` untouched; the results
        are only in the returned AnnData (it holds everything ``uns[key_added]``
        holds; only the DE test's scores and p-values are not kept).
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
    ``uns[de_key]``, the DE result in :func:`scanpy.tl.rank_genes_groups`'s layout (top
    ``n_top_de`` genes per condition: ``names``, ``scores``, ``pvals``, ``pvals_adj``,
    ``logfoldchanges``, ``params``). A backed ``adata`` opened read-only still takes these
    ``uns`` entries in memory (they are not written to its file). With ``copy=True`` nothing is written into ``adata``.

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
    if layer is not None and layer not in adata.layers:
        raise KeyError(f"adata.layers has no {layer!r} (layers: {list(adata.layers)})")
    matrix = adata.X if layer is None else adata.layers[layer]
    where = "adata.X" if layer is None else f"adata.layers[{layer!r}]"
    stats = group_statistics(matrix, labels.to_numpy(), conditions, chunk_size=chunk_size, what=where,
                             rows=adata.obs_names, columns=adata.var_names)
    if stats["integer_valued"] and stats["max_value"] > 30:
        warnings.warn(f"{where} holds what look like raw counts (non-negative integers up to {stats['max_value']:g}); "
                      "prepare_perturbation expects log-normalised expression (sc.pp.normalize_total then "
                      "sc.pp.log1p), or pass layer=...", UserWarning, stacklevel=2)
    means, n_cells = stats["means"], stats["n_cells"]
    delta = means - means[0]

    de = welch_de(means, stats["variances"], n_cells, reference=0, n_top=n_top_de)
    top_de = pd.DataFrame(np.asarray(symbols)[de["genes"]], index=pd.Index(conditions[1:], name="condition"),
                          columns=[f"de_{i + 1}" for i in range(de["genes"].shape[1])])

    name, simulated = dataset_name(adata, dataset)
    params = {"perturbation_key": perturbation_key, "control": control, "separator": separator,
              "gene_symbols": gene_symbols, "layer": layer, "n_top_de": n_top_de, "min_cells": min_cells,
              "de_method": "t-test", "de_rankby_abs": True, "de_reference": control, "de_key": de_key,
              "dataset": name, "simulated": simulated}
    index = pd.Index(conditions, name="condition")
    if not copy:
        adata.uns[de_key] = _rank_genes_groups_record(de, conditions, adata.var_names, perturbation_key, control, layer)
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
