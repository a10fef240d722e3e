"""Scores of proposed process names against curated ones."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import pandas as pd


@lru_cache(maxsize=1)
def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge_scores(predictions: Sequence[str | None], references: Sequence[str]) -> pd.DataFrame:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measures of each name against its reference.

    As GeneAgent scores process names (Wang et al., Nature Methods 2025): the
    ``rouge-score`` package with Porter stemming. A missing prediction scores 0.

    Returns
    -------
    DataFrame with columns ``rouge1``, ``rouge2``, ``rougeL``, one row per pair.

    Examples
    --------
    >>> rouge_scores(["DNA repair process"], ["DNA repair"]).round(2).iloc[0].tolist()
    [0.8, 0.67, 0.8]
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    scorer = _scorer()
    rows = []
    for pred, ref in zip(predictions, references):
        if not isinstance(pred, str) or not pred.strip():
            rows.append({"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0})
            continue
        s = scorer.score(ref, pred)
        rows.append({k: v.fmeasure for k, v in s.items()})
    return pd.DataFrame(rows, columns=["rouge1", "rouge2", "rougeL"])
