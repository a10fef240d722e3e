"""GO annotations of human genes (as NCBI gives them) and the annotated background."""

from __future__ import annotations

import pandas as pd

from . import _snapshot
from ._genes import _records
from ._ontology import ontology_name

__all__ = ["go_annotations", "background"]


def _annotation_frame(snapshot) -> pd.DataFrame:
    table = snapshot.table("go_annotations")
    symbols = snapshot.derived("records", lambda: _records(snapshot)).set_index("ncbi_id")["symbol"]
    frame = table.assign(symbol=table["ncbi_id"].map(symbols))
    return frame[["symbol", "go_id", "ontology", "evidence", "ncbi_id"]]


def annotation_frame() -> pd.DataFrame:
    """The shared (not copied) annotation frame of the current snapshot."""
    snapshot = _snapshot.current()
    return snapshot.derived("annotation_frame", lambda: _annotation_frame(snapshot))


def evidence_codes(evidence) -> frozenset | None:
    """Validate ``evidence`` (None, a code, or codes) against the codes in the snapshot."""
    if evidence is None:
        return None
    codes = frozenset([evidence] if isinstance(evidence, str) else evidence)
    known = set(annotation_frame()["evidence"].cat.categories)
    unknown = sorted(str(code) for code in codes - known)
    if unknown or not codes:
        raise ValueError(
            f"Unknown GO evidence codes {unknown or '(none given)'}; the snapshot has "
            f"{', '.join(sorted(known))}."
        )
    return codes


def _select(frame: pd.DataFrame, ontology, evidence) -> pd.DataFrame:
    ontology = ontology_name(ontology, allow_none=True)
    codes = evidence_codes(evidence)
    keep = pd.Series(True, index=frame.index)
    if ontology is not None:
        keep &= frame["ontology"] == ontology
    if codes is not None:
        keep &= frame["evidence"].isin(codes)
    return frame[keep]


def go_annotations(ontology: str | None = None, evidence=None) -> pd.DataFrame:
    """Direct GO annotations of human genes, one row per gene, term and evidence code.

    These are the annotations NCBI distributes (gene2go), not propagated to
    ancestor terms; :func:`gene_sets` propagates them.

    Parameters
    ----------
    ontology
        ``"BP"``, ``"MF"``, ``"CC"`` (case-insensitive), or None for all.
    evidence
        Evidence code or codes to keep (e.g. ``"IDA"`` or
        ``["EXP", "IDA", "IMP"]``); None keeps all.

    Returns
    -------
    Long DataFrame with columns ``symbol``, ``go_id``, ``ontology``,
    ``evidence`` and ``ncbi_id``.

    Examples
    --------
    >>> from bftbio.knowledge import go_annotations
    >>> table = go_annotations("BP", evidence="IDA")
    >>> list(table.columns)
    ['symbol', 'go_id', 'ontology', 'evidence', 'ncbi_id']
    """
    return _select(annotation_frame(), ontology, evidence).reset_index(drop=True)


def background(ontology: str = "BP", *, evidence=None) -> set[str]:
    """Genes with at least one annotation in an ontology: the usual enrichment universe.

    Parameters
    ----------
    ontology
        ``"BP"``, ``"MF"`` or ``"CC"``.
    evidence
        Evidence code or codes to count; None counts all.

    Returns
    -------
    Set of official symbols.

    Examples
    --------
    >>> from bftbio.knowledge import background
    >>> len(background("BP"))
    18903
    """
    ontology = ontology_name(ontology)
    return set(_select(annotation_frame(), ontology, evidence)["symbol"].unique().tolist())
