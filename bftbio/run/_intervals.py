"""95 % intervals of the report's headline figures (percentile bootstraps)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tasks import paired_bootstrap


def mean_intervals(values: pd.DataFrame, *, by: str = "method", seed: int = 0) -> dict[str, tuple[float, float]]:
    """``{group: (low, high)}`` of each group's mean ``value`` (NaN values left out, one value: no interval)."""
    out = {}
    for key, frame in values.dropna(subset=["value"]).groupby(by, sort=False):
        v = frame["value"].to_numpy(dtype=float)
        if len(v) > 1:
            ci = paired_bootstrap(v, np.zeros(len(v)), seed=seed)
            out[key] = (ci["low"], ci["high"])
    return out


def auroc_intervals(scores: pd.DataFrame, *, n_boot: int = 500, seed: int = 0) -> dict[str, tuple[float, float]]:
    """``{method: (low, high)}`` of each method's AUROC: a bootstrap over its scored pairs."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    out = {}
    for method, frame in scores.dropna(subset=["score"]).groupby("method", sort=False):
        y, s = frame["label"].to_numpy(dtype=int), frame["score"].to_numpy(dtype=float)
        draws = [rng.integers(0, len(y), len(y)) for _ in range(n_boot)]
        aucs = [roc_auc_score(y[i], s[i]) for i in draws if 0 < y[i].sum() < len(i)]
        if aucs:
            out[method] = (float(np.quantile(aucs, 0.025)), float(np.quantile(aucs, 0.975)))
    return out
