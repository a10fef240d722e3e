"""GO gene sets, with annotations propagated up the ontology (the true path rule)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from . import _snapshot
from ._annotations import annotation_frame, evidence_codes
from ._ontology import TRUE_PATH, graph, ontology_name

__all__ = ["gene_sets", "propagate"]


def propagate(annotations: sparse.spmatrix, closure: sparse.spmatrix) -> sparse.csc_matrix:
    """Add to each gene every ancestor of the terms it is annotated to.

    A pure kernel: ``M = A + A @ C``, with ``A`` the genes x terms annotation
    matrix and ``C`` the strict-ancestor closure (terms x terms, as returned
    by :func:`~bftbio.knowledge.ancestor_closure`).

    Parameters
    ----------
    annotations
        Sparse ``genes x terms`` matrix; any nonzero is an annotation.
    closure
        Sparse ``terms x terms`` matrix; nonzero ``[t, a]`` when ``a`` is an
        ancestor of ``t``.

    Returns
    -------
    Boolean ``genes x terms`` CSC matrix with sorted row indices per column.

    Examples
    --------
    >>> from scipy import sparse
    >>> from bftbio.knowledge import ancestor_closure
    >>> closure = ancestor_closure([0], [1], 2)  # term 0 is_a term 1
    >>> annotated = sparse.csr_matrix([[1, 0]])  # one gene, on term 0
    >>> propagate(annotated, closure).toarray().tolist()
    [[True, True]]
    """
    direct = sparse.csr_matrix(annotations, dtype=np.float32)
    direct.data[:] = 1
    spread = direct + direct @ sparse.csr_matrix(closure, dtype=np.float32)
    spread = sparse.csc_matrix(spread)
    spread.eliminate_zeros()
    spread = spread.astype(bool)
    spread.sort_indices()
    return spread


@dataclass(frozen=True)
class Membership:
    """Genes x terms membership of one ontology, with its labels."""

    genes: np.ndarray  # sorted symbols
    terms: np.ndarray  # go ids, in closure order (sorted)
    matrix: sparse.csc_matrix  # genes x terms, bool
    sizes: np.ndarray  # genes per term


def membership(ontology: str, *, propagate_up: bool = True, evidence=None) -> Membership:
    """The cached :class:`Membership` for one ontology, propagation choice and evidence filter."""
    ontology = ontology_name(ontology)
    codes = evidence_codes(evidence)
    snapshot = _snapshot.current()
    key = ("membership", ontology, bool(propagate_up), codes)
    return snapshot.derived(key, lambda: _membership(ontology, propagate_up, codes))


def _membership(ontology: str, propagate_up: bool, codes) -> Membership:
    g = graph(ontology, TRUE_PATH)
    table = annotation_frame()
    table = table[table["ontology"] == ontology]
    if codes is not None:
        table = table[table["evidence"].isin(codes)]
    genes = np.array(sorted(set(table["symbol"].tolist())), dtype=object)
    rows = pd.Index(genes).get_indexer(table["symbol"])
    columns = table["go_id"].map(g.position).to_numpy(np.int64)
    direct = sparse.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, columns)), shape=(genes.size, g.ids.size)
    )
    if propagate_up:
        matrix = propagate(direct, g.up)
    else:
        matrix = propagate(direct, sparse.csr_matrix((g.ids.size, g.ids.size)))
    sizes = np.diff(matrix.indptr)
    return Membership(genes, g.ids, matrix, sizes)


def gene_sets(
    ontology: str = "BP",
    *,
    min_size: int = 3,
    max_size: int | None = 100,
    propagate: bool = True,
    evidence=None,
) -> dict[str, tuple[str, ...]]:
    """Gene sets of GO terms: term -> the genes annotated to it.

    With ``propagate=True`` a gene annotated to a term also belongs to every
    ancestor of that term through ``is_a`` and ``part_of`` relations (the
    true path rule of the GO Consortium; Ashburner et al. 2000, Nat Genet
    25:25-29). ``regulates`` relations (and their positive/negative forms) are
    not followed: a gene that regulates a process does not take part in it,
    so "regulation of apoptotic process" genes are not apoptosis genes. This
    is the convention of GO's own propagation (GOA, ``goatools``,
    topGO/clusterProfiler with ``go-basic``).

    The genes x terms membership is computed once per ontology, propagation
    choice and evidence filter (about a second for BP) and cached.

    Parameters
    ----------
    ontology
        ``"BP"``, ``"MF"`` or ``"CC"``.
    min_size, max_size
        Keep terms with ``min_size <= n_genes <= max_size``; ``max_size=None``
        sets no upper bound.
    propagate
        Propagate annotations to ancestor terms (see above); False keeps the
        direct annotations only.
    evidence
        Evidence code or codes to use (e.g. ``["EXP", "IDA", "IMP", "IGI"]``
        for experimental evidence only); None uses all, including ``IEA``.

    Returns
    -------
    dict mapping GO ID (in sorted order) to a tuple of sorted official symbols.

    Examples
    --------
    >>> from bftbio.knowledge import gene_sets
    >>> sets = gene_sets("BP", min_size=10, max_size=500)
    >>> "TP53" in sets["GO:0006915"]  # apoptotic process
    True
    """
    if not isinstance(min_size, numbers.Integral) or min_size < 1:
        raise ValueError(f"min_size must be an integer >= 1; got {min_size!r}.")
    if max_size is not None and (not isinstance(max_size, numbers.Integral) or max_size < min_size):
        raise ValueError(f"max_size must be None or an integer >= min_size ({min_size}); got {max_size!r}.")
    m = membership(ontology, propagate_up=propagate, evidence=evidence)
    upper = np.iinfo(np.int64).max if max_size is None else max_size
    chosen = np.flatnonzero((m.sizes >= min_size) & (m.sizes <= upper))
    indptr, indices, genes = m.matrix.indptr, m.matrix.indices, m.genes
    return {
        m.terms[j]: tuple(genes[indices[indptr[j] : indptr[j + 1]]].tolist()) for j in chosen.tolist()
    }
