"""Distributions of per-set scores (e.g. name similarity) by method, one panel per dataset."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

_KINDS = ("ecdf", "violin")


def _check(frame, columns: dict[str, str | None], kind: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    if len(frame) == 0:
        raise ValueError("frame is empty: expected one row per scored gene set")
    for argument, column in columns.items():
        if column is not None and column not in frame.columns:
            raise KeyError(f"{argument}={column!r} is not a column of frame (columns: {list(frame.columns)})")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")


def _values(rows: pd.DataFrame, value_key: str, method, where: str) -> np.ndarray:
    try:
        values = rows[value_key].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"column {value_key!r} must hold numbers; method {method!r}{where} has dtype "
                         f"{rows[value_key].dtype}") from None
    return values[~np.isnan(values)]


def _panel(ax, rows, *, methods, colors, method_key, value_key, kind, where, xlabel):
    drawn = []
    for method in methods:
        subset = rows[rows[method_key] == method]
        if subset.empty:
            continue  # a method absent from this dataset keeps its colour for the others
        values = _values(subset, value_key, method, where)
        if values.size:
            drawn.append((method, values))
    if not drawn:
        raise ValueError(f"no method{where} has a number in column {value_key!r}")
    if kind == "ecdf":
        for method, values in drawn:
            x = np.sort(values)
            y = np.arange(1, x.size + 1) / x.size
            ax.step(np.r_[x[0], x], np.r_[0, y], where="post", color=colors[method], linewidth=1.5,
                    label=f"{method} (mean {values.mean():.3f}, n={values.size:,})")
        ax.set_ylim(0, 1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Share of gene sets at or below")
        # Below the panel: with ten or more methods a legend inside would hide the curves.
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.14), fontsize="small", frameon=False)
    else:
        # matplotlib 3.10 renamed vert=False to orientation="horizontal"; bftbio supports 3.8 on.
        sideways = ({"orientation": "horizontal"} if "orientation" in inspect.signature(ax.violinplot).parameters
                    else {"vert": False})
        parts = ax.violinplot([v for _, v in drawn], showmeans=True, showextrema=False, **sideways)
        for body, (method, _) in zip(parts["bodies"], drawn):
            body.set_facecolor(colors[method])
            body.set_edgecolor(colors[method])
            body.set_alpha(0.6)
        ax.set_yticks(np.arange(1, len(drawn) + 1))
        ax.set_yticklabels([f"{m} (mean {v.mean():.3f}, n={v.size:,})" for m, v in drawn], fontsize="small")
        ax.invert_yaxis()  # first method on top
        ax.set_xlabel(xlabel)


def similarity_distributions(
    frame: pd.DataFrame,
    *,
    value_key: str = "similarity",
    method_key: str = "method",
    groupby: str | None = "dataset",
    methods=None,
    kind: str = "ecdf",
    ax=None,
    title: str | None = None,
):
    """How per-set scores are distributed, method by method: ECDFs or violins.

    Draws what a mean hides: how many gene sets each method names well. Made
    for the per-set frame of :func:`bftbio.tasks.benchmark_gene_set_naming`
    (``return_per_set=True``) or :func:`bftbio.tasks.process_name_scores`; any
    tidy frame with one row per scored item works.

    Parameters
    ----------
    frame
        One row per scored gene set, with a method column and a value column
        (NaN values are dropped).
    value_key
        The column drawn: ``"similarity"`` (cosine similarity of the proposed and
        the curated name), ``"percentile"``, ``"rougeL"``, ...
    method_key
        The column naming the method; methods keep one colour across panels.
    groupby
        One panel per value of this column (default ``"dataset"``), side by side
        in a new figure (``ax`` must then be None); None for one panel. A missing
        ``groupby`` column is an error unless it is the default, which then
        draws one panel.
    methods
        Methods to draw, in this order (default: all, in order of appearance).
    kind
        ``"ecdf"`` (the share of sets at or below each value, one step curve per
        method) or ``"violin"`` (one horizontal violin per method, mean marked).
    ax
        Axes to draw into when there is one panel; a new figure when None.
    title
        Title of the Axes, or of the figure with several panels.

    Returns
    -------
    The matplotlib Axes, or a 1-d array of Axes (one per group) with ``groupby``.
    Legend entries (ECDF) and tick labels (violin) read ``method (mean 0.512, n=50)``.

    Examples
    --------
    >>> import bftbio
    >>> from bftbio import pl
    >>> table, per_set = bftbio.tasks.benchmark_gene_set_naming(return_per_set=True)  # doctest: +SKIP
    >>> pl.similarity_distributions(per_set)  # doctest: +SKIP
    """
    if groupby == "dataset" and isinstance(frame, pd.DataFrame) and "dataset" not in frame.columns:
        groupby = None
    _check(frame, {"value_key": value_key, "method_key": method_key, "groupby": groupby}, kind)
    import matplotlib.pyplot as plt

    present = list(pd.unique(frame[method_key].dropna()))
    if methods is None:
        methods = present
    else:
        methods = list(methods)
        missing = [m for m in methods if m not in present]
        if missing:
            raise ValueError(f"methods {missing} are not in column {method_key!r} (found: {present})")
    if not methods:
        raise ValueError(f"column {method_key!r} holds no method names")
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    if len(methods) > len(cycle):  # one distinct colour per method, up to 20
        cycle = [plt.get_cmap("tab20")(i) for i in range(20)]
    colors = {m: cycle[i % len(cycle)] for i, m in enumerate(methods)}
    options = dict(methods=methods, colors=colors, method_key=method_key, value_key=value_key, kind=kind,
                   xlabel=value_key.replace("_", " ").capitalize())
    height = 0.45 * len(methods) + 1.5 if kind == "violin" else 4.5 + 0.2 * len(methods)
    if groupby is None:
        if ax is None:
            _, ax = plt.subplots(figsize=(6, height))
        _panel(ax, frame, where="", **options)
        if title is not None:
            ax.set_title(title)
        return ax
    if ax is not None:
        raise ValueError(f"groupby={groupby!r} draws one panel per group in a new figure; pass ax=None")
    groups = list(pd.unique(frame[groupby].dropna()))
    if not groups:
        raise ValueError(f"column groupby={groupby!r} holds no values")
    fig, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), height), squeeze=False)
    axes = axes.ravel()
    for panel, group in zip(axes, groups):
        _panel(panel, frame[frame[groupby] == group], where=f" in {groupby}={group!r}", **options)
        panel.set_title(f"{groupby} = {group}")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return axes
