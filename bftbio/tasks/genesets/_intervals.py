"""Intervals for paired comparisons over sets and for means over seeds."""

from __future__ import annotations

import numpy as np


def paired_bootstrap(values, baseline, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Mean paired difference ``values - baseline`` over sets, with a percentile bootstrap interval.

    Sets are resampled with replacement ``n_boot`` times (seeded), keeping each
    set's pair together.

    Returns
    -------
    dict with ``diff``, ``low``, ``high`` and ``n``.

    Examples
    --------
    >>> out = paired_bootstrap([0.5, 0.6, 0.7], [0.4, 0.5, 0.6])
    >>> round(out["diff"], 2), round(out["low"], 2), round(out["high"], 2)
    (0.1, 0.1, 0.1)
    """
    a, b = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or not a.size:
        raise ValueError(f"need two equal-length, non-empty 1-d arrays, got shapes {a.shape} and {b.shape}")
    d = a - b
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    tail = (1 - level) / 2
    return {"diff": float(d.mean()), "low": float(np.quantile(means, tail)),
            "high": float(np.quantile(means, 1 - tail)), "n": int(d.size)}


def mean_interval(values, *, level: float = 0.95) -> dict:
    """Mean of a few values (e.g. seeds) with a Student-t interval (NaN bounds for one value)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if not x.size:
        raise ValueError("need at least one value")
    mean = float(x.mean())
    if x.size == 1:
        return {"mean": mean, "low": float("nan"), "high": float("nan"), "n": 1}
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": int(x.size)}
