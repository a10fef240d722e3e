"""Text metrics shared by training evaluation and the tasks: scores of names against references.

A low room (imports no other part of bftbio), so that `train` and `tasks` both use it.
"""

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


def name_similarity(encoder, predictions: Sequence[str | None], references: Sequence[str]):
    """Cosine similarity of each name's sentence embedding with its reference's (missing: 0).

    ``encoder`` is a :class:`bftbio.models.Encoder`; both lists are embedded in one
    call each.
    """
    import numpy as np

    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    present = [i for i, p in enumerate(predictions) if isinstance(p, str) and p.strip()]
    sims = np.zeros(len(predictions), dtype=np.float32)
    if present:
        a = encoder.encode([predictions[i] for i in present], progress=False)
        b = encoder.encode([references[i] for i in present], progress=False)
        sims[present] = (a * b).sum(axis=1)
    return sims
