"""The evidence of a gene set: its top enriched GO terms, with the one exclusion rule applied.

What a biologist looks at before naming a gene set, and what bftbio's language model
reads in its prompt, in training (:func:`bftbio.train.build_naming_data`) and at
inference (:func:`bftbio.tasks.name_gene_sets`) alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from ._enrichment import enrichment
from ._ontology import ontology_names
from ._related import EXCLUSION_SETTINGS, related_terms
from ._resolve import resolve_symbols

__all__ = ["gene_set_evidence", "ENRICHMENT_OPTIONS", "GO_ID"]

#: Options of :func:`enrichment` behind the evidence (and the enrichment baseline). The evidence
#: reads all three GO ontologies, each tested and corrected on its own, as GO enrichment tools
#: report them: a curated set is as often a complex (CC) or an activity (MF) as a process (BP);
#: docs/genesets.md, "Which ontologies", has the measurements behind this default.
ENRICHMENT_OPTIONS = {"ontology": "all", "min_size": 5, "max_size": 500, "min_overlap": 2}
#: A GO identifier.
GO_ID = re.compile(r"^GO:\d{7}$")


def gene_set_evidence(
    genes: Iterable[str],
    *,
    set_id=None,
    exclude: str = "none",
    exclude_terms: Iterable[str] = (),
    n_terms: int = 10,
    max_q: float = 0.05,
    **enrichment_options,
) -> dict:
    """The top enriched GO terms of a gene set, as the evidence shown to a model.

    Parameters
    ----------
    genes
        Gene names (resolved with :func:`resolve_symbols`; unknown names are counted).
    set_id
        The set's identifier; when it is a GO ID it is the set's own term, which
        the rule ``exclude`` keeps out together with its relatives.
    exclude
        Rule of :data:`EXCLUSION_SETTINGS`: ``"none"`` (a user's own set),
        ``"term"``, ``"lineage"`` or ``"related"`` (lineage and near-duplicates of the
        set: the benchmark and training rule for sets taken from GO).
    exclude_terms
        GO IDs never shown, for this set.
    n_terms, max_q
        At most ``n_terms`` terms, each with Benjamini–Hochberg ``q <= max_q``.
    **enrichment_options
        Overrides of :data:`ENRICHMENT_OPTIONS` (``ontology``, ``min_size``,
        ``max_size``, ``min_overlap``, ``universe``, ``evidence``). ``ontology`` is
        ``"BP"``, ``"MF"``, ``"CC"``, a list of them or ``"all"`` (the default): each
        ontology is tested against its own universe and Benjamini–Hochberg corrected on its
        own, and the terms of all of them are ranked together by p-value. The exclusion
        rule applies in each (near-duplicates are searched in every ontology read).

    Returns
    -------
    dict with ``ontology`` (the ontologies read, ``+``-joined), ``exclude``,
    ``n_excluded``, ``universe_size`` and ``genes_tested`` (the largest over the
    ontologies read: genes with an annotation; set genes among them, over the ontologies
    with a term tested), ``universe_sizes`` (each ontology's), ``known_genes`` (official symbols found),
    ``unknown_genes`` (their count), ``unknown`` (the names not found), ``max_q``,
    ``n_significant`` and ``terms``: a list of dicts with ``go_id``, ``name``,
    ``q_value``, ``p_value``, ``overlap``, ``term_size``, ``genes`` and ``ontology``,
    most significant first.

    Examples
    --------
    >>> from bftbio.knowledge import gene_set_evidence
    >>> ev = gene_set_evidence(["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7"], n_terms=3)
    >>> "peroxisome" in ev["terms"][0]["name"]
    True
    """
    if exclude not in EXCLUSION_SETTINGS:
        raise ValueError(f"exclude must be one of {sorted(EXCLUSION_SETTINGS)}, got {exclude!r}")
    if n_terms < 1 or not 0 < max_q <= 1:
        raise ValueError(f"need n_terms >= 1 and 0 < max_q <= 1, got {n_terms} and {max_q}")
    unknown_options = sorted(set(enrichment_options) - {*ENRICHMENT_OPTIONS, "universe", "evidence"})
    if unknown_options:
        raise ValueError(f"enrichment options {unknown_options} unknown; accepted: {sorted(ENRICHMENT_OPTIONS)}, "
                         "universe, evidence")
    options = {**ENRICHMENT_OPTIONS, **enrichment_options}
    ontologies = ontology_names(options.pop("ontology"))
    names = list(genes)
    resolved = resolve_symbols(names, warn=False)
    symbols = sorted(set(resolved.dropna().tolist()))
    rule = EXCLUSION_SETTINGS[exclude]
    own = [set_id] if rule is not None and isinstance(set_id, str) and GO_ID.match(set_id) else []
    excluded, tables = set(exclude_terms), []
    for ontology in ontologies:
        if rule is not None:
            excluded |= related_terms(own, [set(symbols)], ontology=ontology, **rule)
        tables.append(enrichment(symbols, ontology=ontology, exclude=excluded, **options).assign(ontology=ontology))
    table = pd.concat(tables, ignore_index=True).sort_values(
        ["p_value", "overlap", "term_size", "go_id"], ascending=[True, False, True, True])
    significant = table[table["q_value"] <= max_q]
    return {
        "ontology": "+".join(ontologies),
        "exclude": exclude,
        "n_excluded": len(excluded),
        "universe_size": max(int(t.attrs["universe_size"]) for t in tables),
        "universe_sizes": {o: int(t.attrs["universe_size"]) for o, t in zip(ontologies, tables)},
        "genes_tested": int(table["set_size"].max()) if len(table) else None,
        "known_genes": len(symbols),
        "unknown_genes": int(resolved.isna().sum()),
        "unknown": [n for n, s in zip(names, resolved) if not isinstance(s, str)],
        "max_q": max_q,
        "n_significant": len(significant),
        "terms": [
            {"go_id": r.go_id, "name": r.name, "q_value": float(r.q_value), "p_value": float(r.p_value),
             "overlap": int(r.overlap), "term_size": int(r.term_size), "genes": r.genes.split(","),
             "ontology": r.ontology}
            for r in significant.head(n_terms).itertuples()
        ],
    }
