"""The no-language-model baseline of gene-set naming: the top enriched GO term."""

from __future__ import annotations

import pandas as pd

from ..knowledge import EXCLUSION_SETTINGS, GO_ID, enrichment, related_terms, resolve_symbols


def enrichment_names(
    gene_sets: pd.DataFrame,
    *,
    exclude: str = "related",
    exclude_terms=(),
    ontology: str = "BP",
    min_size: int = 5,
    max_size: int = 500,
    min_overlap: int = 2,
) -> pd.DataFrame:
    """Name each gene set by its most enriched GO term: what a biologist gets without an LLM.

    Parameters
    ----------
    gene_sets
        DataFrame with ``set_id`` and ``genes`` (list-likes of gene names), e.g.
        from :func:`bftbio.datasets.geneagent_gene_sets`. A ``set_id`` that is a GO
        ID is the set's own term.
    exclude
        Which terms each set may not be named by (the rule of
        :func:`bftbio.knowledge.related_terms`): ``"none"``; ``"term"``, the
        set's own GO term (leaky on GO-derived sets); ``"lineage"``, the term and
        its ancestors and descendants; ``"related"`` (default), the lineage and
        every term whose genes have Jaccard ≥ 0.5 with the set's genes.
    exclude_terms
        GO IDs excluded for every set.
    ontology, min_size, max_size, min_overlap
        Passed to :func:`bftbio.knowledge.enrichment`.

    Returns
    -------
    DataFrame with ``set_id``, ``process`` (the term's name; None when no term
    passes), ``go_id``, ``p_value``, ``q_value``, ``overlap`` and
    ``n_excluded``, one row per set, in input order.

    Examples
    --------
    >>> sets = pd.DataFrame({"set_id": ["peroxins"], "genes": [["PEX1", "PEX2", "PEX3", "PEX5", "PEX6"]]})
    >>> "peroxisome" in enrichment_names(sets, exclude="none").loc[0, "process"]
    True
    """
    if exclude not in EXCLUSION_SETTINGS:
        raise ValueError(f"exclude must be one of {sorted(EXCLUSION_SETTINGS)}, got {exclude!r}")
    missing = {"set_id", "genes"} - set(gene_sets.columns)
    if missing:
        raise ValueError(f"gene_sets needs the columns {sorted(missing)}; it has {list(gene_sets.columns)}")
    options = EXCLUSION_SETTINGS[exclude]
    rows = []
    for set_id, genes in zip(gene_sets["set_id"], gene_sets["genes"]):
        symbols = set(resolve_symbols(list(genes), warn=False).dropna().tolist())
        excluded = set(exclude_terms)
        if options is not None:
            own = [set_id] if isinstance(set_id, str) and GO_ID.match(set_id) else []
            excluded |= related_terms(own, [symbols], ontology=ontology, **options)
        table = enrichment(sorted(symbols), ontology=ontology, min_size=min_size, max_size=max_size,
                           min_overlap=min_overlap, exclude=excluded)
        top = table.iloc[0] if len(table) else None
        rows.append(
            {
                "set_id": set_id,
                "process": None if top is None else top["name"],
                "go_id": None if top is None else top["go_id"],
                "p_value": float("nan") if top is None else top["p_value"],
                "q_value": float("nan") if top is None else top["q_value"],
                "overlap": 0 if top is None else int(top["overlap"]),
                "n_excluded": len(excluded),
            }
        )
    return pd.DataFrame(rows)
