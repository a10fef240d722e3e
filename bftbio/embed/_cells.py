"""Cell vectors from gene vectors: weighted sums of a cell's genes' vectors (GenePT-w and variants)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from .._checks import check_finite

#: How a cell may weigh its genes (see :func:`cell_vectors`).
WEIGHTS = ("expression", "zscore", "idf")
#: The recipe :func:`cell_vectors` and ``tl.cell_embeddings`` use unless told otherwise: GenePT-w
#: on centred gene vectors with their top 2 directions removed, chosen on pbmc68k_reduced with
#: the default knowledge vectors and reported on two other data sets (``benchmarks/bench_cells.py``;
#: docs/embedding.md, "Cell embeddings").
DEFAULT_RECIPE = {"weights": "expression", "center": True, "remove_pcs": 2}


def _gene_matrix(gene_vectors: np.ndarray, center: bool, remove_pcs: int) -> np.ndarray:
    """Gene vectors with their common part taken out: the mean, and the top ``remove_pcs`` directions."""
    vectors = gene_vectors.astype(np.float64)
    if center:  # cell_vectors allows remove_pcs only with center
        vectors = vectors - vectors.mean(axis=0)
    if remove_pcs:
        if remove_pcs >= min(vectors.shape):
            raise ValueError(f"remove_pcs={remove_pcs} must be smaller than the {min(vectors.shape)} "
                             "genes or dimensions of the gene vectors; pass remove_pcs=0 for so few")
        _, _, top = np.linalg.svd(vectors, full_matrices=False)
        top = top[:remove_pcs]
        vectors = vectors - (vectors @ top.T) @ top
    return vectors


def cell_vectors(
    expression,
    gene_vectors,
    *,
    weights: str = DEFAULT_RECIPE["weights"],
    center: bool = DEFAULT_RECIPE["center"],
    remove_pcs: int = DEFAULT_RECIPE["remove_pcs"],
    cells: Sequence | None = None,
    genes: Sequence | None = None,
    names: tuple[str, str] = ("the expression", "the gene vectors"),
) -> tuple[np.ndarray, dict]:
    """One unit vector per cell: the cell's genes' vectors, weighted by its expression, summed.

    Parameters
    ----------
    expression
        Cells × genes, log-normalised (dense or scipy sparse); NaN or inf is an error.
    gene_vectors
        Genes × dimensions; a row of NaN is a gene without a vector (left out, counted).
    weights
        How a cell weighs each gene: ``"expression"`` (its log-normalised expression, as GenePT-w;
        needs non-negative values), ``"zscore"`` (expression standardised per gene across cells:
        genes above their mean pull the cell towards their vector, genes below push it away),
        or ``"idf"`` (expression times the gene's specificity, log(n_cells / cells expressing it)).
    center
        Subtract the mean gene vector first. Vectors from one sentence encoder share a large
        common direction, which an average of hundreds of them amplifies. ``center=False``
        needs ``remove_pcs=0`` (GenePT-w as published).
    remove_pcs
        Also remove the top principal directions of the gene vectors ("all but the top"); it
        must be smaller than the number of genes with a vector.
    cells, genes
        Labels for error messages.
    names
        How error messages name the expression and the gene vectors (``tl.cell_embeddings``
        passes ``"adata.X"``, ``"adata.varm['X_bft']"``, ...).

    Returns
    -------
    ``(vectors, info)``: cells × dimensions, L2-normalised (a cell that expresses no gene with
    a vector gets a zero row, counted in ``info["n_empty_cells"]``), and a dict of the recipe,
    ``n_genes_used`` and ``n_empty_cells``.

    Examples
    --------
    >>> import numpy as np
    >>> from bftbio.embed import cell_vectors
    >>> x = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> v, info = cell_vectors(x, np.eye(2), weights="expression", center=False, remove_pcs=0)  # GenePT-w
    >>> v.tolist(), info["n_genes_used"]
    ([[1.0, 0.0], [0.0, 1.0]], 2)
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    if not isinstance(remove_pcs, (int, np.integer)) or remove_pcs < 0:
        raise ValueError(f"remove_pcs must be a non-negative integer, got {remove_pcs!r}")
    if remove_pcs and not center:
        raise ValueError(f"center=False keeps the mean gene vector, but remove_pcs={remove_pcs} removes directions "
                         "of the centred vectors; pass remove_pcs=0 as well for GenePT-w as published")
    gene_vectors = np.asarray(gene_vectors, dtype=np.float32)
    if gene_vectors.ndim != 2 or expression.ndim != 2 or expression.shape[1] != gene_vectors.shape[0]:
        raise ValueError(f"expression ({expression.shape}) must be cells x genes and gene_vectors "
                         f"({gene_vectors.shape}) genes x dimensions, with the same genes")
    found = ~check_finite(gene_vectors, names[1], rows=genes, nan_rows_ok=True,
                          fix="a gene without a vector is a row of NaN; any other NaN or inf is an error")
    if not found.any():
        raise ValueError(f"no gene has a vector in {names[1]}")
    check_finite(expression, names[0], rows=cells, columns=genes,
                 fix="cell vectors would be NaN or zero; fill or drop those values (e.g. np.nan_to_num, or "
                     "subset the cells) first")
    x = expression[:, found]
    x = x.tocsr().astype(np.float64) if sparse.issparse(x) else np.asarray(x, dtype=np.float64)
    minimum = (x.data.min() if x.nnz else 0.0) if sparse.issparse(x) else (x.min() if x.size else 0.0)
    if minimum < 0 and weights != "zscore":
        raise ValueError(f"{names[0]} has negative values (min {minimum:.3g}), as scaled data does; "
                         f"weights={weights!r} weighs genes by expression, so pass log-normalised data "
                         "(tl.cell_embeddings: layer= or use_raw=True), or weights='zscore'")
    vectors = _gene_matrix(gene_vectors[found], center, remove_pcs)
    n_cells = x.shape[0]
    expressed = np.asarray((x != 0).sum(axis=1)).reshape(-1)
    if weights == "zscore":
        # (x - mean) / sd @ V without densifying x: x @ (V / sd) - (mean / sd) @ V.
        mean = np.asarray(x.mean(axis=0)).reshape(-1)
        square = np.asarray(x.multiply(x).mean(axis=0) if sparse.issparse(x) else (x * x).mean(axis=0)).reshape(-1)
        sd = np.sqrt(np.maximum(square - mean**2, 0))
        scale = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)  # constant genes carry nothing
        out = x @ (vectors * scale[:, None]) - (mean * scale) @ vectors
    else:
        if weights == "idf":
            cells_expressing = np.asarray((x > 0).sum(axis=0)).reshape(-1)
            x = x @ sparse.diags(np.log(n_cells / (1.0 + cells_expressing)).clip(min=0)) if sparse.issparse(x) \
                else x * np.log(n_cells / (1.0 + cells_expressing)).clip(min=0)
        out = x @ vectors
    out = np.asarray(out, dtype=np.float64)
    empty = expressed == 0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0).astype(np.float32)
    out[empty] = 0.0
    info = {"weights": weights, "center": bool(center), "remove_pcs": int(remove_pcs),
            "n_genes_used": int(found.sum()), "n_empty_cells": int(empty.sum())}
    return out, info


#: How many of a cell's genes its sentence names (GenePT-s), most expressed first: chosen among
#: 10, 20 and 50 on pbmc68k_reduced (``benchmarks/bench_cells.py``; 50 names still fit the
#: default encoder's 256-token window, 100 do not).
SENTENCE_GENES = 20


def cell_sentences(
    expression,
    genes: Sequence[str],
    *,
    n_genes: int = SENTENCE_GENES,
    cells: Sequence | None = None,
    name: str = "the expression",
) -> list[str]:
    """Each cell as a sentence: its ``n_genes`` most expressed genes, highest first (GenePT-s).

    Genes a cell does not express (0) are left out, so a cell expressing nothing gets ``""``;
    ties keep the genes' order. Negative values (scaled data) are an error: the order must
    be of expression.

    Examples
    --------
    >>> import numpy as np
    >>> from bftbio.embed import cell_sentences
    >>> cell_sentences(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0]]), ["CD3E", "MS4A1", "LYZ"])
    ['MS4A1 LYZ', '']
    """
    genes = [str(g) for g in genes]
    if expression.ndim != 2 or expression.shape[1] != len(genes):
        raise ValueError(f"expression ({expression.shape}) must be cells x genes with one name per gene "
                         f"({len(genes)} names)")
    if not isinstance(n_genes, (int, np.integer)) or n_genes < 1:
        raise ValueError(f"n_genes must be a positive integer, got {n_genes!r}")
    check_finite(expression, name, rows=cells, columns=genes,
                 fix="fill or drop those values (e.g. np.nan_to_num, or subset the cells) first")
    x = expression.tocsr() if sparse.issparse(expression) else np.asarray(expression)
    sentences = []
    for i in range(x.shape[0]):
        if sparse.issparse(x):
            row = x[i]
            where, values = row.indices, row.data
        else:
            where = np.flatnonzero(x[i])
            values = x[i, where]
        if len(values) and values.min() < 0:
            raise ValueError(f"{name} has negative values (cell {i if cells is None else cells[i]!r}), as scaled data "
                             "does; a cell sentence orders genes by expression, so pass log-normalised data "
                             "(tl.cell_sentence_embeddings: layer= or use_raw=True)")
        keep = values > 0
        where, values = np.asarray(where)[keep], values[keep]
        order = np.lexsort((where, -values))[:n_genes]  # highest first, ties by gene position
        sentences.append(" ".join(genes[j] for j in where[order]))
    return sentences


def cell_sentence_vectors(
    expression,
    genes: Sequence[str],
    *,
    n_genes: int = SENTENCE_GENES,
    encoder="default",
    store=None,
    cache: bool = True,
    progress: bool | None = None,
    cells: Sequence | None = None,
    name: str = "the expression",
) -> tuple[np.ndarray, dict]:
    """GenePT-s: each cell's sentence (:func:`cell_sentences`) embedded by the sentence encoder.

    Sentences are encoded once and kept in the store (keyed by the sentence and the
    encoder), so a second call encodes nothing.

    Returns
    -------
    ``(vectors, info)``: cells × the encoder's dimension, unit rows (a cell expressing no gene
    gets a zero row, counted in ``info["n_empty_cells"]``), and ``info`` with ``genes_per_sentence``,
    ``encoder``, ``n_empty_cells`` and ``n_truncated`` (sentences longer than the encoder's
    window, of which it read only the start).
    """
    from ..models import encoder_record, session_encoder
    from ..store import cached_vectors, open_store

    sentences = cell_sentences(expression, genes, n_genes=n_genes, cells=cells, name=name)
    enc = session_encoder(encoder)
    written = [s for s in sentences if s]
    lengths = [len(ids) for ids in enc.tokenizer(written, truncation=False, verbose=False)["input_ids"]] if written else []
    n_truncated = int(sum(n > enc.max_length for n in lengths))
    the_store = open_store(store, cache=cache)
    texts = [s for s in dict.fromkeys(sentences) if s]

    def compute(missing: list[str], save) -> None:
        chunks = [missing[i : i + 512] for i in range(0, len(missing), 512)]
        from .._settings import progress as progress_display

        for chunk in progress_display(chunks, "encoding cell sentences", unit="chunk", show=progress):
            save(chunk, enc.encode(chunk, progress=False))

    found = cached_vectors(the_store, "text_vector", encoder_record(enc), texts, compute)
    out = np.zeros((len(sentences), enc.dim), dtype=np.float32)
    for i, sentence in enumerate(sentences):
        if sentence:
            out[i] = found[sentence]
    info = {"method": "sentence", "genes_per_sentence": int(n_genes), "encoder": enc.name,
            "n_empty_cells": int(sum(not s for s in sentences)), "n_truncated": n_truncated}
    return out, info
