"""Names without a language model: the top enriched GO term, and rules over the evidence's terms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ... import knowledge
from ...store import Store, open_store
from ._scores import _NameScorer


def enrichment_names(
    gene_sets: pd.DataFrame,
    *,
    exclude: str = "related",
    exclude_terms=(),
    ontology="all",
    min_size: int = 5,
    max_size: int = 500,
    min_overlap: int = 2,
    max_q: float = 0.05,
) -> pd.DataFrame:
    """Name each gene set by its most enriched GO term: what a biologist gets without an LLM.

    The first term of :func:`bftbio.knowledge.gene_set_evidence` at ``q <= max_q``: the
    first evidence term a model sees under the same exclusion; a set with no term that
    passes is named by its lowest-p term at any q. (With several ontologies, each corrected
    on its own, the lowest-p term need not pass ``max_q`` while another does.)

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
    max_q
        The evidence's threshold (as :func:`name_gene_sets`).
    ontology, min_size, max_size, min_overlap
        Passed to :func:`bftbio.knowledge.gene_set_evidence` (``ontology``: ``"BP"``,
        ``"MF"``, ``"CC"``, a list of them or ``"all"``, the evidence's default).

    Returns
    -------
    DataFrame with ``set_id``, ``process`` (the term's name; None when no term
    passes), ``go_id``, ``ontology``, ``p_value``, ``q_value``, ``overlap`` and
    ``n_excluded``, one row per set, in input order.

    Examples
    --------
    >>> sets = pd.DataFrame({"set_id": ["peroxins"], "genes": [["PEX1", "PEX2", "PEX3", "PEX5", "PEX6"]]})
    >>> "peroxisome" in enrichment_names(sets, exclude="none").loc[0, "process"]
    True
    """
    missing = {"set_id", "genes"} - set(gene_sets.columns)
    if missing:
        raise ValueError(f"gene_sets needs the columns {sorted(missing)}; it has {list(gene_sets.columns)}")
    options = dict(ontology=ontology, min_size=min_size, max_size=max_size, min_overlap=min_overlap)
    rows = []
    for set_id, genes in zip(gene_sets["set_id"], gene_sets["genes"]):
        evidence = knowledge.gene_set_evidence(list(genes), set_id=set_id, exclude=exclude,
                                               exclude_terms=exclude_terms, n_terms=1, max_q=max_q, **options)
        if not evidence["terms"] and max_q < 1:
            evidence = knowledge.gene_set_evidence(list(genes), set_id=set_id, exclude=exclude,
                                                   exclude_terms=exclude_terms, n_terms=1, max_q=1.0, **options)
        top = evidence["terms"][0] if evidence["terms"] else None
        rows.append({
            "set_id": set_id,
            "process": None if top is None else top["name"],
            "go_id": None if top is None else top["go_id"],
            "ontology": None if top is None else top["ontology"],
            "p_value": float("nan") if top is None else top["p_value"],
            "q_value": float("nan") if top is None else top["q_value"],
            "overlap": 0 if top is None else top["overlap"],
            "n_excluded": evidence["n_excluded"],
        })
    return pd.DataFrame(rows)



#: Rules that name a set from its evidence terms without a language model (see :func:`evidence_rule_names`).
EVIDENCE_RULES = ("top", "central", "general", "short")


def evidence_rule_names(evidence: Sequence[dict], rule: str = "top", *, encoder="default", depth: int = 3,
                        cache: bool = True, store: Store | str | None = None) -> list[str | None]:
    """Name each set from its evidence terms by a rule, without a language model.

    Parameters
    ----------
    evidence
        One dict of :func:`bftbio.knowledge.gene_set_evidence` per set.
    rule
        ``"top"``: the most significant term (the enrichment baseline);
        ``"central"``: the term whose name is most similar, by ``scorer``'s encoder,
        to the other terms' names; ``"general"``: the largest term among the top
        ``depth``; ``"short"``: the shortest name among the top ``depth``.
    encoder
        Embeds names for ``"central"``: a name, an :class:`bftbio.models.Encoder`,
        or an object with ``encode(texts)``.
    depth
        How many top terms ``"general"`` and ``"short"`` look at.
    cache, store
        Where name vectors are cached (as in :func:`process_name_scores`).

    Returns
    -------
    One name per set (None where the evidence holds no term).
    """
    if rule not in EVIDENCE_RULES:
        raise ValueError(f"rule must be one of {EVIDENCE_RULES}, got {rule!r}")
    if rule == "central" and encoder is None:
        raise ValueError("rule 'central' needs an encoder")
    scorer = encoder if isinstance(encoder, _NameScorer) else None
    if rule == "central" and scorer is None:
        scorer = _NameScorer(encoder, ["-"], store=open_store(store, cache=cache), progress=False)
    out: list[str | None] = []
    for ev in evidence:
        terms = list(ev["terms"])
        if not terms:
            out.append(None)
        elif rule == "top" or len(terms) == 1:
            out.append(terms[0]["name"])
        elif rule == "general":
            out.append(max(terms[:depth], key=lambda t: t["term_size"])["name"])
        elif rule == "short":
            out.append(min(terms[:depth], key=lambda t: len(t["name"]))["name"])
        else:
            names = [t["name"] for t in terms]
            vectors = scorer.vectors(names)
            sims = vectors @ vectors.T
            np.fill_diagonal(sims, 0.0)
            out.append(names[int(np.argmax(sims.sum(axis=1)))])
    return out


def central_candidates(scorer: _NameScorer, evidence: Sequence[dict]) -> list[str | None]:
    """The ``"central"`` rule of :func:`evidence_rule_names`."""
    return evidence_rule_names(evidence, "central", encoder=scorer)
