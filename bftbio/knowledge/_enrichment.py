"""GO enrichment of a gene set: the hypergeometric test, Benjamini–Hochberg corrected."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from ._gene_sets import membership
from ._ontology import go_terms, ontology_name
from ._resolve import resolve_symbols

__all__ = ["enrichment"]


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    p = np.asarray(p, dtype=float)
    n = p.size
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(ranked, 1.0)
    return q


def enrichment(
    genes: Iterable[str],
    *,
    ontology: str = "BP",
    universe: Iterable[str] | None = None,
    min_size: int = 5,
    max_size: int = 500,
    min_overlap: int = 2,
    exclude: Iterable[str] = (),
    evidence=None,
) -> pd.DataFrame:
    """Which GO terms are over-represented in a gene set.

    The one-sided hypergeometric test (upper tail) of each GO term against the
    gene set, with annotations propagated up the ontology (see
    :func:`gene_sets`), corrected by Benjamini–Hochberg over the terms tested.

    Parameters
    ----------
    genes
        Gene names; resolved with :func:`resolve_symbols` (unknown names are
        dropped and listed in ``attrs["unknown"]``).
    ontology
        ``"BP"``, ``"MF"`` or ``"CC"``.
    universe
        The background genes. Default: every gene with an annotation in
        ``ontology`` (18,903 genes for BP). Gene-set genes outside the universe
        are left out of the test.
    min_size, max_size
        Test terms with this many universe genes (inclusive).
    min_overlap
        Test only terms sharing at least this many genes with the set.
    exclude
        GO IDs never to report (e.g. from :func:`related_terms`).
    evidence
        Evidence codes to use (None: all).

    Returns
    -------
    DataFrame, most significant first (ties: larger overlap, then smaller term,
    then GO ID), with ``go_id``, ``name``, ``overlap``, ``term_size``,
    ``set_size`` (set genes in the universe), ``p_value``, ``q_value`` and
    ``genes`` (the overlapping genes, comma-joined). ``attrs`` hold
    ``universe_size``, ``unknown`` and ``n_excluded``.

    Examples
    --------
    >>> from bftbio.knowledge import enrichment
    >>> top = enrichment(["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7"])
    >>> "peroxisome" in top.iloc[0]["name"]
    True
    """
    if isinstance(genes, str):
        raise TypeError("genes must be a list of gene names, not one string")
    if min_size < 1 or max_size < min_size or min_overlap < 1:
        raise ValueError(f"need 1 <= min_size <= max_size and min_overlap >= 1, got {min_size}, {max_size}, {min_overlap}")
    ontology = ontology_name(ontology)
    resolved = resolve_symbols(list(genes), warn=False)
    query = sorted(set(resolved.dropna().tolist()))
    m = membership(ontology, evidence=evidence)
    matrix = m.matrix.tocsr()
    rows = pd.Index(m.genes)
    if universe is None:
        universe_rows = np.arange(m.genes.size)
        sizes = m.sizes
    else:
        uni = set(resolve_symbols(list(universe), warn=False).dropna().tolist())
        universe_rows = np.flatnonzero(rows.isin(sorted(uni)))
        sizes = np.asarray(matrix[universe_rows].sum(axis=0)).ravel()
    in_universe = set(m.genes[universe_rows].tolist())
    query = [g for g in query if g in in_universe]
    query_rows = rows.get_indexer(query)
    overlap = np.asarray(matrix[query_rows].sum(axis=0)).ravel() if query else np.zeros(m.terms.size)
    excluded = np.isin(m.terms, list(set(exclude)))
    tested = (sizes >= min_size) & (sizes <= max_size) & (overlap >= min_overlap) & ~excluded
    idx = np.flatnonzero(tested)
    big_n, n = universe_rows.size, len(query)
    p = stats.hypergeom.sf(overlap[idx] - 1, big_n, sizes[idx], n)
    names = go_terms(ontology)["name"]
    query_arr = np.array(query, dtype=object)
    sub = matrix[query_rows][:, idx].tocsc() if query else None
    members = [",".join(query_arr[sub.indices[sub.indptr[k] : sub.indptr[k + 1]]]) for k in range(idx.size)] if query else []
    table = pd.DataFrame(
        {
            "go_id": m.terms[idx],
            "name": names.reindex(m.terms[idx]).to_numpy(),
            "overlap": overlap[idx].astype(int),
            "term_size": sizes[idx].astype(int),
            "set_size": n,
            "p_value": p,
            "q_value": benjamini_hochberg(p),
            "genes": members,
        }
    )
    table = table.sort_values(["p_value", "overlap", "term_size", "go_id"], ascending=[True, False, True, True])
    table = table.reset_index(drop=True)
    table.attrs.update(universe_size=int(big_n), unknown=list(resolved.attrs["unknown"]), n_excluded=int(excluded.sum()))
    return table
