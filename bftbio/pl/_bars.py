"""Grouped bars of one metric from a tidy result frame."""

from __future__ import annotations

import numpy as np
import pandas as pd


def metric_bars(
    frame: pd.DataFrame,
    *,
    metric: str,
    groupby: str,
    groups=None,
    method_key: str = "method",
    value_key: str = "value",
    ax=None,
    title: str | None = None,
    ylabel: str | None = None,
):
    """One bar per method in each group, for one metric of a tidy result frame.

    Parameters
    ----------
    frame
        Tidy rows with ``metric``, ``method_key``, ``groupby`` and ``value_key`` columns,
        as :func:`bftbio.tasks.benchmark_perturbation` returns (one value per method and group).
    metric
        The rows drawn (``frame["metric"] == metric``).
    groupby
        The column whose values sit on the x axis (``"subgroup"``, ``"split"``, ``"dataset"``).
    groups
        Groups to draw, in this order (default: all, in order of appearance); missing ones are an error.
    ax
        Axes to draw into; a new figure when None.

    Returns
    -------
    The matplotlib Axes. A NaN value (a metric undefined for that method) draws no bar.

    Examples
    --------
    >>> from bftbio import pl
    >>> table = bftbio.tasks.benchmark_perturbation({"random": "random"})  # doctest: +SKIP
    >>> pl.metric_bars(table, metric="pearson_delta", groupby="subgroup")  # doctest: +SKIP
    """
    missing = [c for c in ("metric", method_key, groupby, value_key) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks the columns {missing} (has {list(frame.columns)})")
    rows = frame[frame["metric"] == metric]
    if rows.empty:
        renamed = frame.attrs.get("renamed_metrics", {}).get(metric)  # a task's table names its old metric names
        hint = f"; metric {metric!r} was renamed {renamed!r}" if renamed else ""
        raise ValueError(f"no rows with metric {metric!r} (metrics: {sorted(frame['metric'].unique())}){hint}")
    present = list(pd.unique(rows[groupby]))
    groups = present if groups is None else list(groups)
    absent = [g for g in groups if g not in present]
    if absent:
        raise ValueError(f"groups {absent} are not in column {groupby!r} (found: {present})")
    wide = rows.pivot_table(index=method_key, columns=groupby, values=value_key, sort=False, dropna=False)
    wide = wide.reindex(columns=groups)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 1.6 * len(groups) + 3), 4))
    width = 0.8 / max(len(wide), 1)
    x = np.arange(len(groups))
    colors = plt.get_cmap("tab20").colors  # one colour per method (tab10 repeats after ten)
    for i, (method, row) in enumerate(wide.iterrows()):
        ax.bar(x + i * width - 0.4 + width / 2, row.to_numpy(dtype=float), width, label=method,
               color=colors[i % len(colors)])
    ax.set_xticks(x, [str(g) for g in groups])
    ax.axhline(0, color="black", lw=0.8)
    ax.set(ylabel=ylabel or metric, title=title)
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.figure.tight_layout()
    return ax
