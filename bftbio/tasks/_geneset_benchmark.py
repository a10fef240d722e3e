"""Gene-set naming, benchmarked side by side on GeneAgent's gene sets."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..datasets import geneagent_answers, geneagent_gene_sets
from ._enrichment_names import enrichment_names
from ..metrics import rouge_scores

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


def _rows(dataset: str, method: str, scores: pd.DataFrame, no_answer: int) -> list[dict]:
    base = {"task": "gene_set_naming", "dataset": dataset, "split": "test", "method": method, "n": len(scores)}
    rows = [{**base, "metric": m, "value": float(scores[m].mean())} for m in ("rougeL", "rouge1", "rouge2")]
    rows.append({**base, "metric": "no_answer", "value": float(no_answer)})
    return rows


def benchmark_gene_set_naming(
    datasets: Sequence[str] = ("NeST", "MSigDB", "GO"),
    *,
    methods: Sequence[str] = ("enrichment", "GeneAgent", "GPT-4", "shuffled"),
    data: str | os.PathLike | None = None,
    limit: int | None = None,
    seed: int = 0,
    n_shuffles: int = 20,
) -> pd.DataFrame:
    """Score process names for the GeneAgent gene sets, method by method.

    Methods: ``"enrichment"`` (the top enriched GO BP term, under each exclusion
    setting of :data:`bftbio.knowledge.EXCLUSION_SETTINGS` that applies), the
    published answers of ``"GeneAgent"`` and ``"GPT-4"``, and ``"shuffled"``, the
    trivial baseline: each set named by another set's curated name from the same
    dataset (mean over ``n_shuffles`` seeded permutations), which measures what
    generic words alone score.

    Parameters
    ----------
    datasets
        Any of ``"NeST"``, ``"MSigDB"``, ``"GO"``.
    data
        Folder of the GeneAgent files (see :func:`bftbio.datasets.geneagent_gene_sets`).
    limit
        Score only the first ``limit`` sets of each dataset (a quick look).

    Returns
    -------
    Tidy DataFrame: ``task, dataset, split, method, metric, value, n`` with
    metrics ``rougeL``, ``rouge1``, ``rouge2`` (mean F-measures, stemmed) and
    ``no_answer`` (sets the method left unnamed; they score 0).
    """
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for dataset in datasets:
        sets = geneagent_gene_sets(dataset, path=data)
        if limit is not None:
            sets = sets.iloc[:limit].reset_index(drop=True)
        references = sets["name"].tolist()
        for method in methods:
            if method == "enrichment":
                for setting in _SETTINGS.get(dataset, ("none", "related")):
                    named = enrichment_names(sets, exclude=setting)
                    rows += _rows(dataset, _LABELS[setting], rouge_scores(named["process"].tolist(), references),
                                  int(named["process"].isna().sum()))
            elif method in ("GeneAgent", "GPT-4"):
                answers = geneagent_answers(dataset, method, path=data).iloc[: len(sets)]
                rows += _rows(dataset, f"{method} (published)", rouge_scores(answers["answer"].tolist(), references),
                              int(answers["answer"].isna().sum()))
            elif method == "shuffled":
                runs = []
                for _ in range(n_shuffles):
                    # A random non-zero rotation: no set keeps its own name.
                    shift = int(rng.integers(1, len(references))) if len(references) > 1 else 0
                    runs.append(rouge_scores(references[shift:] + references[:shift], references))
                rows += _rows(dataset, "shuffled curated names (trivial)", sum(runs) / len(runs), 0)
            else:
                raise ValueError(f"unknown method {method!r}; choose from enrichment, GeneAgent, GPT-4, shuffled")
    return pd.DataFrame(rows, columns=["task", "dataset", "split", "method", "metric", "value", "n"])
