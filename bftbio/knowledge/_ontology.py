"""The Gene Ontology graph: terms, and ancestors/descendants through chosen relations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from . import _snapshot

__all__ = ["go_terms", "ancestors", "descendants", "ancestor_closure"]

ONTOLOGIES = ("BP", "MF", "CC")
RELATIONS = ("is_a", "part_of", "regulates", "positively_regulates", "negatively_regulates")
TRUE_PATH = ("is_a", "part_of")


def ontology_name(value, *, allow_none: bool = False) -> str | None:
    """``"bp"``/``"BP"`` -> ``"BP"``; anything else is a ValueError naming the choices."""
    if value is None and allow_none:
        return None
    if isinstance(value, str) and value.upper() in ONTOLOGIES:
        return value.upper()
    choices = ", ".join(repr(o) for o in ONTOLOGIES) + (" or None" if allow_none else "")
    raise ValueError(f"ontology must be one of {choices}; got {value!r}.")


def ontology_names(value) -> tuple[str, ...]:
    """One ontology, several (a list, or ``"BP+CC"`` as evidence records write them), or ``"all"``.

    Returns a tuple in the order of :data:`ONTOLOGIES`.
    """
    if isinstance(value, str):
        if value.lower() == "all":
            return tuple(ONTOLOGIES)
        value = value.split("+")
    try:
        names = {ontology_name(v) for v in value}
    except TypeError:
        raise ValueError(f"ontology must be 'BP', 'MF', 'CC', 'all' or a list of them; got {value!r}.") from None
    if not names:
        raise ValueError("ontology must name at least one of 'BP', 'MF', 'CC'; got an empty list.")
    return tuple(o for o in ONTOLOGIES if o in names)


def relation_names(relations) -> tuple[str, ...]:
    """Validated relation names as a sorted tuple (a cache key)."""
    if isinstance(relations, str):
        relations = (relations,)
    relations = tuple(relations)
    unknown = [r for r in relations if r not in RELATIONS]
    if unknown or not relations:
        raise ValueError(
            f"relations must be a non-empty collection of {', '.join(map(repr, RELATIONS))}; "
            f"got {relations!r}."
        )
    return tuple(sorted(set(relations)))


def ancestor_closure(child, parent, n: int) -> sparse.csr_matrix:
    """Strict ancestors of every node of a directed acyclic graph.

    A pure kernel: nodes are ``0 .. n-1`` and edge ``k`` points from
    ``child[k]`` to its parent ``parent[k]``. Computed by repeated squaring of
    the reachability matrix (``R <- R + R @ R``), which covers paths of length
    up to ``2**k`` after ``k`` rounds, so GO's depth of ~20 takes five or six
    sparse products.

    Parameters
    ----------
    child, parent
        Integer arrays of equal length.
    n
        Number of nodes.

    Returns
    -------
    ``n x n`` boolean CSR matrix with ``C[i, j]`` True iff ``j`` is reachable
    from ``i`` through one or more edges; column indices sorted in each row.

    Raises
    ------
    ValueError
        The graph has a cycle.

    Examples
    --------
    >>> closure = ancestor_closure([0, 1], [1, 2], 3)  # 0 -> 1 -> 2
    >>> closure[0].indices.tolist()
    [1, 2]
    """
    child, parent = np.asarray(child, dtype=np.int64), np.asarray(parent, dtype=np.int64)
    if child.shape != parent.shape:
        raise ValueError(f"child and parent differ in length ({child.size} != {parent.size}).")
    ones = np.ones(child.size, dtype=np.float32)
    reach = sparse.csr_matrix((ones, (child, parent)), shape=(n, n))
    reach.data[:] = 1
    while True:
        longer = reach + reach @ reach
        longer.data[:] = 1
        if longer.nnz == reach.nnz:
            break
        reach = longer
    if reach.diagonal().any():
        cycle = np.flatnonzero(reach.diagonal())[:10].tolist()
        raise ValueError(f"The graph has a cycle through nodes {cycle}.")
    reach = reach.astype(bool)
    reach.sort_indices()
    return reach


@dataclass(frozen=True)
class Graph:
    """One ontology under one set of relations: term order and both closures."""

    ids: np.ndarray  # go ids of the ontology, sorted
    position: dict  # go id -> row
    up: sparse.csr_matrix  # strict ancestors
    down: sparse.csr_matrix  # strict descendants


def graph(ontology: str, relations=TRUE_PATH) -> Graph:
    """The cached :class:`Graph` of ``ontology`` (``"BP"``, ``"MF"``, ``"CC"``)."""
    ontology, relations = ontology_name(ontology), relation_names(relations)
    snapshot = _snapshot.current()
    return snapshot.derived(("graph", ontology, relations), lambda: _graph(snapshot, ontology, relations))


def _graph(snapshot, ontology: str, relations: tuple[str, ...]) -> Graph:
    terms = snapshot.table("go_terms")
    ids = terms.loc[terms["ontology"] == ontology, "go_id"].to_numpy(dtype=object)
    position = dict(zip(ids.tolist(), range(ids.size)))
    edges = snapshot.table("go_parents")
    edges = edges[edges["relationship"].isin(relations)]
    child = edges["go_id"].map(position)
    parent = edges["parent_id"].map(position)
    # Relations in GO.db never cross ontologies; dropping any that would keeps
    # each ontology a closed graph.
    keep = child.notna() & parent.notna()
    up = ancestor_closure(child[keep].to_numpy(np.int64), parent[keep].to_numpy(np.int64), ids.size)
    down = up.T.tocsr()
    down.sort_indices()
    return Graph(ids, position, up, down)


def _term_ontology(snapshot) -> dict[str, str]:
    terms = snapshot.table("go_terms")
    return dict(zip(terms["go_id"].tolist(), terms["ontology"].astype(str).tolist()))


def _lineage(go_id: str, relations, direction: str) -> set[str]:
    snapshot = _snapshot.current()
    ontology = snapshot.derived("term_ontology", lambda: _term_ontology(snapshot)).get(go_id)
    if ontology is None:
        release = snapshot.sources().get("source_dates", {}).get("gene_ontology")
        raise KeyError(
            f"{go_id!r} is not a term of the Gene Ontology release {release} in the snapshot "
            "(expected an ID such as 'GO:0006915'; obsolete terms are not included)."
        )
    g = graph(ontology, relations)
    matrix = g.up if direction == "up" else g.down
    row = g.position[go_id]
    return set(g.ids[matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]].tolist())


def ancestors(go_id: str, *, relations=TRUE_PATH) -> set[str]:
    """GO terms above ``go_id`` (more general), excluding ``go_id`` itself.

    Follows the chosen parent relations any number of steps, within the term's
    own ontology. The closure is computed once per ontology and relation set,
    so repeated calls cost microseconds.

    Parameters
    ----------
    go_id
        A GO term ID, e.g. ``"GO:0006915"``.
    relations
        Relations to follow; any of ``"is_a"``, ``"part_of"``, ``"regulates"``,
        ``"positively_regulates"``, ``"negatively_regulates"``. The default is
        the true-path set used for gene-set propagation.

    Returns
    -------
    Set of GO IDs.

    Raises
    ------
    KeyError
        ``go_id`` is not a (non-obsolete) term of the snapshot.

    Examples
    --------
    >>> from bftbio.knowledge import ancestors
    >>> "GO:0008150" in ancestors("GO:0006915")  # apoptotic process -> biological_process
    True
    """
    return _lineage(go_id, relations, "up")


def descendants(go_id: str, *, relations=TRUE_PATH) -> set[str]:
    """GO terms below ``go_id`` (more specific), excluding ``go_id`` itself.

    The mirror of :func:`ancestors`, with the same parameters.

    Examples
    --------
    >>> from bftbio.knowledge import descendants
    >>> "GO:0006915" in descendants("GO:0012501")  # programmed cell death
    True
    """
    return _lineage(go_id, relations, "down")


def go_terms(ontology: str | None = None) -> pd.DataFrame:
    """GO terms of the snapshot (obsolete terms excluded).

    Parameters
    ----------
    ontology
        ``"BP"``, ``"MF"``, ``"CC"`` (case-insensitive) or None for all three.

    Returns
    -------
    DataFrame indexed by ``go_id`` with columns ``name``, ``ontology``,
    ``definition`` (missing for the few terms GO gives none).

    Examples
    --------
    >>> from bftbio.knowledge import go_terms
    >>> go_terms("BP").loc["GO:0006915", "name"]
    'apoptotic process'
    """
    ontology = ontology_name(ontology, allow_none=True)
    terms = _snapshot.current().table("go_terms")
    if ontology is not None:
        terms = terms[terms["ontology"] == ontology]
    return terms.set_index("go_id").copy()
