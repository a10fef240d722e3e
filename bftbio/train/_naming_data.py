"""Gene-set naming records at volume: GO terms as noisy gene lists, with their evidence.

Each GO biological process of 5–300 genes (or each term of the ontologies chosen) becomes
one record, shaped like what a biologist brings: the term's genes, some dropped and some
random genes added, listed in a random order; the evidence block of
:func:`bftbio.knowledge.gene_set_evidence` computed with the term itself, its lineage and
its near-duplicates excluded (the benchmark rule, so the answer is never in the evidence
and the model must read the evidence, not copy it); and the answer ``Process: <the term's name>`` with one
sentence of plain justification.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Mapping

from .. import knowledge
from .._settings import logger
from ..prompts import ANSWER_PREFIX, TEMPLATES, naming_prompt, shown_genes
from ._data import TrainingData, _hash, _split, benchmark_exclusion


def naming_answer(name: str, genes: Iterable[str], members: Iterable[str], evidence: Mapping) -> str:
    """``Process: <name>`` and one sentence: which listed genes belong to it, which evidence points to it.

    Parameters
    ----------
    name
        The process name.
    genes
        The genes the prompt lists, in order.
    members
        The process's own genes.
    evidence
        The evidence block's source (:func:`bftbio.knowledge.gene_set_evidence`).
    """
    members = set(members)
    named = [g for g in genes if g in members][:3]
    related = [t["name"] for t in evidence.get("terms", ())[:2]]
    parts = []
    if named:
        parts.append(f"{_join(named)} {'take' if len(named) > 1 else 'takes'} part in it")
    if related:
        parts.append(f"the enrichment for {_join(related)} points to it")
    sentence = " and ".join(parts) if parts else "its genes are annotated to it in the Gene Ontology"
    return f"{ANSWER_PREFIX}{name}\n{sentence[0].upper()}{sentence[1:]}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _noisy(members: list[str], universe: list[str], keep: tuple[float, float], noise: tuple[float, float],
           rng: random.Random) -> list[str]:
    """A gene list as real ones come: a share of the members kept, random genes added, shuffled."""
    n_keep = max(3, round(len(members) * rng.uniform(*keep)))
    kept = rng.sample(members, min(n_keep, len(members)))
    n_noise = round(len(kept) * rng.uniform(*noise))
    member_set = set(members)
    extra: list[str] = []
    while len(extra) < n_noise:
        g = rng.choice(universe)
        if g not in member_set and g not in extra:
            extra.append(g)
    observed = kept + extra
    rng.shuffle(observed)
    return observed


def _held_out_terms(held_out, data) -> tuple[set[str], dict]:
    if held_out is None:
        return set(), {"rule": None}
    if isinstance(held_out, Mapping):
        return benchmark_exclusion(dict(held_out), data=data)
    if isinstance(held_out, str):
        held_out = [held_out]
    ids = list(held_out)
    bad = [t for t in ids if not (isinstance(t, str) and knowledge.GO_ID.match(t))]
    if bad:
        raise ValueError(f"held_out must be GO IDs or a dict with go_ids and/or gene_sets; got {bad[:3]}")
    members = {}  # their own gene sets too, so that their near-duplicates in any ontology stay out
    for ontology in knowledge.ontology_names("all"):
        members.update(knowledge.gene_sets(ontology, min_size=1, max_size=None))
    return benchmark_exclusion({"go_ids": ids, "gene_sets": [members[t] for t in ids if t in members]}, data=data)


def build_naming_data(
    *,
    n_terms: int | None = None,
    holdout: tuple[float, float] = (0.05, 0.05),
    exclude="geneagent",
    held_out=None,
    benchmark_data: str | os.PathLike | None = None,
    min_size: int = 5,
    max_size: int = 300,
    keep: tuple[float, float] = (0.6, 1.0),
    noise: tuple[float, float] = (0.0, 0.3),
    n_evidence: int = 8,
    ontology="BP",
    enrichment_options: Mapping | None = None,
    seed: int = 0,
) -> TrainingData:
    """Gene-set → process records from every eligible GO term (BP by default), benchmark-clean.

    Parameters
    ----------
    n_terms
        Use a seeded sample of this many eligible terms (None: all of them;
        3,346 terms of 5–300 genes remain after the GeneAgent exclusion).
    holdout
        Fractions of terms held out for validation (model selection) and test.
    exclude
        A benchmark to keep out of the answers, with its lineage and near-duplicates
        (see :func:`bftbio.train.benchmark_exclusion`): ``"geneagent"`` (default),
        None, or a dict with ``go_ids`` and/or ``gene_sets``.
    held_out
        The user's own benchmark to keep out as well: GO IDs, or a dict with
        ``go_ids`` and/or ``gene_sets`` (the same rule applies).
    benchmark_data
        Folder of the GeneAgent files.
    min_size, max_size
        Terms with this many genes (propagated annotations, inclusive).
    keep, noise
        Each list keeps a uniform share in ``keep`` of the term's genes (at least 3)
        and adds a uniform share in ``noise`` (of the kept genes) of random genes
        annotated elsewhere in the ontology.
    n_evidence
        Enriched terms in each evidence block (q ≤ 0.05; the term, its lineage and
        its near-duplicates excluded). The evidence reads what
        :func:`bftbio.knowledge.gene_set_evidence` reads by default (all three ontologies),
        as :func:`bftbio.tasks.name_gene_sets` does.
    ontology
        Whose terms become the answers: ``"BP"`` (default; processes), ``"MF"``, ``"CC"``,
        a list of them or ``"all"``. Random genes added to a list come from the genes
        annotated in the answer's ontology.
    enrichment_options
        Overrides of :data:`bftbio.knowledge.ENRICHMENT_OPTIONS` for the evidence, as
        :func:`bftbio.tasks.name_gene_sets` takes them (``{"ontology": "BP"}``: processes
        only, the evidence the shipped naming adapter was trained on).
    seed
        Seeds the sample, the split and every list.

    Returns
    -------
    :class:`TrainingData` with ``kind="naming"`` records; each also keeps ``name``
    (the answer's process), ``genes`` (the list shown to the evidence) and
    ``candidates`` (the evidence terms' names), which evaluation reads.

    Examples
    --------
    >>> from bftbio.train import build_naming_data
    >>> data = build_naming_data(n_terms=50, exclude=None)  # doctest: +SKIP
    >>> print(data.splits["train"][0]["answer"])  # doctest: +SKIP
    Process: ...
    """
    if not 1 <= min_size <= max_size:
        raise ValueError(f"need 1 <= min_size <= max_size, got {min_size} and {max_size}")
    for label, (low, high) in {"keep": keep, "noise": noise}.items():
        if not 0 <= low <= high or (label == "keep" and not 0 < high <= 1):
            raise ValueError(f"{label} must be a range (low, high) with 0 <= low <= high (keep: high <= 1), got {(low, high)}")
    rng = random.Random(seed)
    excluded, exclusion_record = benchmark_exclusion(exclude, data=benchmark_data)
    user_excluded, user_record = _held_out_terms(held_out, benchmark_data)
    ontologies = knowledge.ontology_names(ontology)
    evidence_options = {**knowledge.ENRICHMENT_OPTIONS, **dict(enrichment_options or {})}
    evidence_options["ontology"] = "+".join(knowledge.ontology_names(evidence_options["ontology"]))
    sets, universes = {}, {}
    for source in ontologies:
        found = knowledge.gene_sets(source, min_size=min_size, max_size=max_size)
        sets.update(found)
        universes.update(dict.fromkeys(found, source))
    eligible = sorted(t for t in sets if t not in excluded and t not in user_excluded)
    n_eligible = len(eligible)
    if n_terms is not None:
        if n_terms < 1:
            raise ValueError(f"n_terms must be positive or None, got {n_terms}")
        eligible = sorted(rng.sample(eligible, min(n_terms, len(eligible))))
    names = knowledge.go_terms()["name"]
    background = {source: sorted(knowledge.background(source)) for source in ontologies}
    term_split = _split(eligible, holdout, rng)
    splits: dict[str, list[dict]] = {}
    logger.info("naming data: %d GO terms (%d excluded as benchmark, %d as held out)", len(eligible),
                len(set(sets) & excluded), len(set(sets) & user_excluded))
    for split in ("train", "validation", "test"):
        records = []
        for term in term_split[split]:
            members = sorted(sets[term])
            observed = _noisy(members, background[universes[term]], keep, noise, rng)
            evidence = knowledge.gene_set_evidence(observed, set_id=term, exclude="related", n_terms=n_evidence,
                                                   **evidence_options)
            listed = shown_genes(observed, evidence)
            records.append({
                "prompt": naming_prompt(observed, evidence),
                "answer": naming_answer(names[term], listed, members, evidence),
                "kind": "naming", "key": term, "name": names[term], "genes": observed,
                "candidates": [t["name"] for t in evidence["terms"]],
            })
        splits[split] = records
    provenance = {
        "builder": "bftbio.train.build_naming_data",
        "seed": seed,
        "n_records": {k: len(v) for k, v in splits.items()},
        "terms": {"ontology": "+".join(ontologies), "min_size": min_size, "max_size": max_size,
                  "eligible": n_eligible, "used": len(eligible), "terms_in_size_range": len(sets)},
        "lists": {"keep": list(keep), "noise": list(noise), "n_evidence": n_evidence,
                  "evidence_options": evidence_options,
                  "evidence_exclusion": "related (term, lineage, near-duplicates)"},
        "exclusion": {**exclusion_record, "terms_in_size_range_excluded": len(set(sets) & excluded)},
        "held_out": {**user_record, "terms_in_size_range_excluded": len(set(sets) & user_excluded)},
        "prompt": TEMPLATES,
        "knowledge": knowledge.provenance().get("source_dates", {}),
    }
    provenance["data_hash"] = _hash(splits)
    return TrainingData(splits=splits, terms=term_split, provenance=provenance)
