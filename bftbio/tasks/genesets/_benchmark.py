"""Gene-set naming, benchmarked side by side on GeneAgent's gene sets."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ...datasets import geneagent_answers, geneagent_gene_sets
from ...store import open_store
from ._baselines import central_candidates, enrichment_names
from ._evidence import set_evidence
from ._naming import name_gene_sets
from ._scores import COLUMNS, _NameScorer, default_background, scores_with, summary_metrics, tidy_rows

# Exclusion settings reported for the enrichment baseline. On GO-derived sets the
# headline is "related"; "term" is what GeneAgent's own verification allowed (it
# queried g:Profiler with GO among its sources), reported beside it as leaky.
_SETTINGS = {"GO": ("term", "lineage", "related"), "NeST": ("none", "related"), "MSigDB": ("none", "related")}
_LABELS = {
    "none": "top enriched GO term (nothing excluded)",
    "term": "top enriched GO term (term excluded; leaky)",
    "lineage": "top enriched GO term (lineage excluded)",
    "related": "top enriched GO term (lineage + near-duplicates excluded)",
}
#: The label of the enrichment row whose evidence the language models read, per dataset.
HEADLINE_ENRICHMENT = {
    "GO": "top enriched GO term (lineage + near-duplicates excluded)",
    "NeST": "top enriched GO term (nothing excluded)",
    "MSigDB": "top enriched GO term (nothing excluded)",
}
#: The exclusion of the evidence language models read: on GO-derived sets the set's own
#: term, its lineage and near-duplicates (the rule training uses); elsewhere nothing.
EVIDENCE_EXCLUSION = {"GO": "related", "NeST": "none", "MSigDB": "none"}
_METHODS = ("enrichment", "central", "GeneAgent", "GPT-4", "shuffled")
#: The label of the best rule without a model over the evidence's candidates.
CENTRAL_LABEL = "most central evidence term (no model)"
_MODEL_KEYS = {"model", "adapter", "verify", "choose", "evidence"}
_PER_SET = ["dataset", "method", "set_id", "truth", "predicted", "rouge1", "rouge2", "rougeL", "similarity",
            "percentile"]


def _sample(sets: pd.DataFrame, size: int | None, seed: int) -> np.ndarray:
    """Positions of a seeded sample of sets, in dataset order (all of them when ``size`` is None)."""
    if size is None or size >= len(sets):
        return np.arange(len(sets))
    if size < 1:
        raise ValueError(f"sample must be a positive number of GO sets, got {size}")
    return np.sort(np.random.default_rng(seed).choice(len(sets), size=size, replace=False))


def benchmark_gene_set_naming(
    datasets: Sequence[str] = ("NeST", "MSigDB", "GO"),
    *,
    methods: Sequence[str] = _METHODS,
    models: Mapping[str, Mapping] | None = None,
    verify: Sequence[bool] = (False,),
    data: str | os.PathLike | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    n_shuffles: int = 20,
    enrichment_options: Mapping | None = None,
    encoder="default",
    max_new_tokens: int = 96,
    batch_size: int | str = "auto",
    cache: bool = True,
    store=None,
    progress: bool | None = None,
    return_per_set: bool = False,
):
    """Score process names for the GeneAgent gene sets, method by method.

    Baselines: ``"enrichment"`` (the top enriched GO term of the evidence's ontologies, under each exclusion
    setting of :data:`bftbio.knowledge.EXCLUSION_SETTINGS` that applies; the
    headline one is the top term of the very evidence the models read),
    ``"central"`` (the best rule without a model over the models' candidates: the
    evidence term most similar, by the scoring encoder, to the other evidence
    terms), the published answers of ``"GeneAgent"`` and ``"GPT-4"``, and
    ``"shuffled"``, the trivial baseline: each set named by another set's curated
    name from the same dataset (mean over ``n_shuffles`` seeded permutations),
    which measures what generic words alone score.

    Language models, from ``models``: each label names the sets with
    :func:`name_gene_sets` (method ``"<label>"``; with verification
    ``"<label> + verify"``). Their evidence excludes, on GO-derived sets, the set's
    own term, its lineage and its near-duplicates (``exclude="related"``, the rule
    training uses); on NeST and MSigDB nothing.

    Every method is scored by :func:`score_process_names` against the curated
    names; the background of the percentile is every GO BP term name plus all of
    the dataset's curated names.

    Parameters
    ----------
    datasets
        Any of ``"NeST"``, ``"MSigDB"``, ``"GO"``.
    methods
        Baselines to include (any of the five above; ``()`` for none).
    models
        ``{label: {"model": ..., "adapter": ..., "choose": ..., "evidence": ...,
        "verify": ...}}``: language models to benchmark, e.g. ``{"base": {},
        "BFT": {"adapter": "runs/bft", "choose": "rank"}}``; ``model`` defaults to
        ``"default"``, ``adapter`` to ``"default"`` (the shipped naming adapter;
        None for the base model), ``choose`` to ``"generate"``,
        ``evidence`` to True and ``verify`` (this model's variants) to ``verify``.
        Models run one after the other.
    verify
        Which variants of each model to run: without (False) and with (True)
        verification.
    data
        Folder of the GeneAgent files (see :func:`bftbio.datasets.geneagent_gene_sets`).
    limit
        Score only the first ``limit`` sets of each dataset (a quick look).
    sample
        Score a seeded random sample of this many GO sets (the GO benchmark has
        1,000; NeST and MSigDB are always whole). Draws use ``seed``.
    seed
        Seed of the GO sample and of the shuffled baseline.
    n_shuffles
        Rotations of the curated names behind the shuffled baseline.
    enrichment_options
        The evidence of every method (enrichment baseline, rule and models): overrides of
        :data:`bftbio.knowledge.ENRICHMENT_OPTIONS` (``{"ontology": "BP"}``: processes only).
    encoder
        The encoder of the similarity and percentile metrics and of the
        ``"central"`` baseline (see :func:`process_name_scores`); None for ROUGE
        only (and no ``"central"``).
    max_new_tokens, batch_size
        Generation settings of :func:`name_gene_sets`.
    cache, store
        The store of answers and name vectors (a rerun continues where a killed
        one stopped).
    progress
        Progress bars; default :attr:`bftbio.settings.progress`.
    return_per_set
        Also return the per-set scores (e.g. for
        :func:`bftbio.pl.similarity_distributions` or :func:`paired_bootstrap`).

    Returns
    -------
    Tidy DataFrame: ``task, dataset, split, method, metric, value, n`` with
    metrics ``rougeL``, ``rouge1``, ``rouge2`` (mean F-measures, stemmed),
    ``similarity``, ``percentile``, ``share_p90``, ``share_p95`` and
    ``background_n`` (with an encoder; see :func:`score_process_names`),
    ``no_answer`` (sets the method left unnamed; they score 0), and for language
    models ``flagged`` (share of generated answers without a ``Process:``
    header), ``revised`` (share of names changed by verification), ``confidence``
    (mean log-probability of the names' tokens) and ``wall_s`` (seconds the
    method took, both rounds for a verified one; near 0 when the store held the
    answers). With ``return_per_set``, ``(table, per_set)``, ``per_set`` holding
    ``dataset, method, set_id, truth, predicted, rouge1, rouge2, rougeL,
    similarity, percentile`` (shuffled: means over the permutations, no
    ``predicted``).

    Examples
    --------
    >>> from bftbio.tasks import benchmark_gene_set_naming
    >>> table, per_set = benchmark_gene_set_naming(
    ...     models={"base": {"choose": "rank"}}, sample=200, return_per_set=True
    ... )  # doctest: +SKIP
    """
    unknown = [m for m in methods if m not in _METHODS]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; choose from {', '.join(_METHODS)}")
    models = dict(models or {})
    for label, spec in models.items():
        if not isinstance(spec, Mapping) or set(spec) - _MODEL_KEYS:
            raise ValueError(f"models[{label!r}] must be a dict with keys among {sorted(_MODEL_KEYS)}, got {spec!r}")
    the_store = open_store(store, cache=cache)
    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict]] = {}
    per_set: list[pd.DataFrame] = []
    prepared = {}

    def add(dataset, method, sets, predicted, scorer, extra=None):
        scores = scores_with(scorer, predicted, sets["name"].tolist(), sets["set_id"].tolist())
        rows[dataset] += tidy_rows({**summary_metrics(scores), **(extra or {})}, dataset=dataset, method=method,
                                   split="test", n=len(sets))
        per_set.append(scores.assign(dataset=dataset, method=method))

    for dataset in datasets:
        whole = geneagent_gene_sets(dataset, path=data)
        sets = whole.iloc[:limit] if limit is not None else whole
        positions = _sample(sets, sample, seed) if dataset == "GO" else np.arange(len(sets))
        sets = sets.iloc[positions].reset_index(drop=True)
        scorer = None
        if encoder is not None:
            scorer = _NameScorer(encoder, default_background(whole["name"].tolist()), store=the_store,
                                 progress=progress)
        prepared[dataset] = (sets, scorer)
        rows[dataset] = []
        references = sets["name"].tolist()
        for method in methods:
            if method == "enrichment":
                for setting in _SETTINGS.get(dataset, ("none", "related")):
                    named = enrichment_names(sets, exclude=setting, **dict(enrichment_options or {}))
                    add(dataset, _LABELS[setting], sets, named["process"].tolist(), scorer)
            elif method == "central" and scorer is not None:
                evidence = set_evidence(sets, exclude=EVIDENCE_EXCLUSION.get(dataset, "none"),
                                        enrichment_options=enrichment_options)
                add(dataset, CENTRAL_LABEL, sets, central_candidates(scorer, evidence), scorer)
            elif method in ("GeneAgent", "GPT-4"):
                answers = geneagent_answers(dataset, method, path=data).iloc[positions]
                add(dataset, f"{method} (published)", sets, answers["answer"].tolist(), scorer)
            elif method == "shuffled":
                runs, frames = [], []
                for _ in range(n_shuffles):
                    # A random non-zero rotation: no set keeps its own name.
                    shift = int(rng.integers(1, len(references))) if len(references) > 1 else 0
                    scores = scores_with(scorer, references[shift:] + references[:shift], references,
                                         sets["set_id"].tolist())
                    runs.append(summary_metrics(scores))
                    frames.append(scores)
                label = "shuffled curated names (trivial)"
                mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
                rows[dataset] += tidy_rows(mean, dataset=dataset, method=label, split="test", n=len(sets))
                numeric = ["rouge1", "rouge2", "rougeL", "similarity", "percentile"]
                average = frames[0].assign(predicted=None)
                average[numeric] = sum(f[numeric] for f in frames) / len(frames)
                per_set.append(average.assign(dataset=dataset, method=label))

    options = dict(max_new_tokens=max_new_tokens, batch_size=batch_size, progress=progress)
    for label, spec in models.items():
        model, adapter = spec.get("model", "default"), spec.get("adapter", "default")
        variants = tuple(dict.fromkeys(bool(v) for v in spec.get("verify", verify)))
        for dataset in datasets:
            sets, scorer = prepared[dataset]
            for checked in variants:
                started = time.perf_counter()
                named = name_gene_sets(sets, model=model, adapter=adapter, choose=spec.get("choose", "generate"),
                                       evidence=spec.get("evidence", True),
                                       exclude=EVIDENCE_EXCLUSION.get(dataset, "none"), verify=checked,
                                       enrichment_options=enrichment_options,
                                       cache=the_store is not None, store=the_store, **options)
                extra = {"flagged": float(named["flagged"].mean()), "confidence": float(named["confidence"].mean()),
                         "wall_s": time.perf_counter() - started}
                predicted = named["process"]
                if checked:
                    predicted = named["verified_process"]
                    extra.update(revised=float(named["revised"].mean()),
                                 confidence=float(named["verified_confidence"].mean()))
                add(dataset, f"{label} + verify" if checked else label, sets, predicted.tolist(), scorer, extra)

    table = pd.DataFrame([r for d in datasets for r in rows[d]], columns=COLUMNS)
    if not return_per_set:
        return table
    details = pd.concat(per_set, ignore_index=True) if per_set else pd.DataFrame(columns=_PER_SET)
    return table, details[_PER_SET]
