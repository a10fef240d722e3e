"""The evidence of gene sets: their input checks and top enriched GO terms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from ... import knowledge

ENRICHMENT_OPTIONS = knowledge.ENRICHMENT_OPTIONS
#: Sets with fewer known genes than this get no name, only ``status="insufficient evidence"``.
MIN_KNOWN_GENES = 3


def _gene_set_frame(gene_sets) -> pd.DataFrame:
    if isinstance(gene_sets, Mapping):
        gene_sets = pd.DataFrame({"set_id": list(gene_sets.keys()), "genes": list(gene_sets.values())})
    if not isinstance(gene_sets, pd.DataFrame):
        raise TypeError(f"gene_sets must be a DataFrame with set_id and genes, or a dict of set id -> genes; "
                        f"got {type(gene_sets).__name__}")
    missing = {"set_id", "genes"} - set(gene_sets.columns)
    if missing:
        raise ValueError(f"gene_sets needs the columns {sorted(missing)}; it has {list(gene_sets.columns)}")
    genes = []
    for set_id, members in zip(gene_sets["set_id"], gene_sets["genes"]):
        if isinstance(members, str) or not isinstance(members, Iterable):
            raise TypeError(f"genes of set {set_id!r} must be a list of gene names, not {type(members).__name__}")
        members = list(members)
        bad = [(i, g) for i, g in enumerate(members) if not isinstance(g, str)]
        if bad:
            i, g = bad[0]
            raise TypeError(f"gene set {set_id!r} holds {len(bad)} member(s) that are not gene names, the first "
                            f"{g!r} at position {i}; drop missing values (None, NaN) before naming")
        members = tuple(g.strip() for g in members if g.strip())
        if not members:
            raise ValueError(f"gene set {set_id!r} has no genes")
        genes.append(members)
    return pd.DataFrame({"set_id": gene_sets["set_id"].tolist(), "genes": genes})


def _exclude_term_ids(exclude_terms) -> set[str]:
    if isinstance(exclude_terms, str):
        exclude_terms = [exclude_terms]
    terms = set(exclude_terms)
    bad = sorted(str(t) for t in terms if not (isinstance(t, str) and knowledge.GO_ID.match(t)))
    if bad:
        raise ValueError(f"exclude_terms must be GO IDs such as 'GO:0006915'; got {bad[:5]}")
    return terms


def _expand_exclude_terms(terms: set[str], ontology) -> set[str]:
    """The given GO terms and every term with the identical propagated gene set, in each ontology read."""
    if not terms:
        return set()
    out = set(terms)
    for source in knowledge.ontology_names("all"):  # a CC term's genes may equal a BP term's: the same answer
        sets = knowledge.gene_sets(source, min_size=1, max_size=None)
        members = [sets[t] for t in sorted(terms) if t in sets]
        for target in knowledge.ontology_names(ontology):
            out |= knowledge.related_terms([], members, ontology=target, lineage=False, jaccard=1.0)
    return out


def _evidence_options(enrichment_options, exclude_terms) -> tuple[dict, set[str]]:
    """The enrichment options (checked by :func:`bftbio.knowledge.gene_set_evidence`) and the GO IDs to exclude."""
    return {**ENRICHMENT_OPTIONS, **(enrichment_options or {})}, _exclude_term_ids(exclude_terms)


def set_evidence(gene_sets, *, exclude: str = "none", exclude_terms: Iterable[str] = (), n_terms: int = 8,
                 max_q: float = 0.05, enrichment_options: Mapping | None = None) -> list[dict]:
    """The evidence of each set, as :func:`name_gene_sets` computes and shows it.

    :func:`bftbio.knowledge.gene_set_evidence` per set, with ``exclude_terms``
    widened to every term with an identical gene set (so a GO-derived set cannot
    look itself up under another ID). Enrichment baselines that read this list
    see exactly what the model saw.
    """
    frame = _gene_set_frame(gene_sets)
    options, given = _evidence_options(enrichment_options, exclude_terms)
    fixed = _expand_exclude_terms(given, options["ontology"])
    return [knowledge.gene_set_evidence(g, set_id=s, exclude=exclude, exclude_terms=fixed, n_terms=n_terms,
                                        max_q=max_q, **options)
            for s, g in zip(frame["set_id"], frame["genes"])]
