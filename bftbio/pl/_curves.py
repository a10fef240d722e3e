"""ROC and precision-recall curves of scored items (e.g. gene pairs), one curve per method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class _CurveKind:
    """What differs between a ROC and a precision-recall figure; the drawing is shared."""

    area_name: str  # "AUROC" or "AUPRC", in legends and errors
    xlabel: str
    ylabel: str
    legend_loc: str
    curve: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # (labels, scores) -> (x, y)
    area: Callable[[np.ndarray, np.ndarray], float]  # (labels, scores) -> area
    chance: Callable[[np.ndarray], tuple[list, list, str]]  # all labels drawn -> (x, y, legend text)
    drawstyle: str = "default"


def _roc(labels, scores):
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    return fpr, tpr


def _auroc(labels, scores):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _prc(labels, scores):
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(labels, scores)
    return recall, precision


def _auprc(labels, scores):
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels, scores))


def _roc_chance(labels):
    return [0, 1], [0, 1], "chance"


def _prc_chance(labels):
    # A random scorer's precision is the positive rate of the items drawn.
    rate = float(labels.mean())
    return [0, 1], [rate, rate], f"chance (positive rate {rate:.3f})"


_ROC = _CurveKind("AUROC", "False positive rate", "True positive rate", "lower right", _roc, _auroc, _roc_chance)
# Average precision is the area under the step-wise interpolated curve, so draw steps.
_PRC = _CurveKind("AUPRC", "Recall", "Precision", "lower left", _prc, _auprc, _prc_chance, drawstyle="steps-post")


def _check_frame(scores, columns: dict[str, str | None]) -> None:
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame, not {type(scores).__name__}")
    if len(scores) == 0:
        raise ValueError("scores is empty: expected one row per scored item")
    for argument, column in columns.items():
        if column is not None and column not in scores.columns:
            raise KeyError(f"{argument}={column!r} is not a column of scores (columns: {list(scores.columns)})")


def _method_data(rows: pd.DataFrame, *, method, label_key: str, score_key: str, kind: _CurveKind, where: str):
    """Labels (0/1) and scores of one method, rows with a NaN score dropped."""
    try:
        values = rows[score_key].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"column {score_key!r} must hold numbers (NaN for an unscored item); "
                         f"method {method!r}{where} has dtype {rows[score_key].dtype}") from None
    keep = ~np.isnan(values)
    if not keep.any():
        raise ValueError(f"method {method!r}{where} has no rows with a score in column {score_key!r}")
    labels = rows[label_key].to_numpy()[keep]
    if pd.isna(labels).any() or not np.isin(labels, [0, 1]).all():
        found = sorted({str(v) for v in pd.unique(labels)})[:10]
        raise ValueError(f"column {label_key!r} must hold 0/1 (or True/False) labels; "
                         f"method {method!r}{where} has {found}")
    labels = labels.astype(int)
    if labels.min() == labels.max():
        raise ValueError(f"method {method!r}{where} has labels of one class only (all {labels[0]}) "
                         f"in its {len(labels):,} scored rows: {kind.area_name} is undefined")
    return labels, values[keep]


def _draw_panel(ax, rows: pd.DataFrame, *, methods, colors, method_key, label_key, score_key, kind, where,
                show_chance):
    drawn_labels = []
    for method in methods:
        subset = rows[rows[method_key] == method]
        if subset.empty:
            continue  # a method absent from this group keeps its colour for the others
        labels, values = _method_data(subset, method=method, label_key=label_key, score_key=score_key, kind=kind,
                                      where=where)
        x, y = kind.curve(labels, values)
        area = kind.area(labels, values)
        ax.plot(x, y, color=colors[method], drawstyle=kind.drawstyle, linewidth=1.5,
                label=f"{method} ({kind.area_name} {area:.3f}, n={len(labels):,})")
        drawn_labels.append(labels)
    if show_chance:
        x, y, text = kind.chance(np.concatenate(drawn_labels))
        ax.plot(x, y, linestyle="--", color="0.5", linewidth=1, label=text)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(kind.xlabel)
    ax.set_ylabel(kind.ylabel)
    ax.legend(loc=kind.legend_loc, fontsize="small", frameon=False)


def _curves(scores, kind: _CurveKind, *, method_key, label_key, score_key, groupby, ax, title, show_chance):
    _check_frame(scores, {"method_key": method_key, "label_key": label_key, "score_key": score_key,
                          "groupby": groupby})
    if groupby is not None and ax is not None:
        raise ValueError(f"groupby={groupby!r} draws one panel per group in a new figure; pass ax=None")
    import matplotlib.pyplot as plt

    methods = list(pd.unique(scores[method_key].dropna()))
    if not methods:
        raise ValueError(f"column {method_key!r} holds no method names")
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    colors = {m: cycle[i % len(cycle)] for i, m in enumerate(methods)}
    options = dict(methods=methods, colors=colors, method_key=method_key, label_key=label_key, score_key=score_key,
                   kind=kind, show_chance=show_chance)

    if groupby is None:
        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4.5))
        _draw_panel(ax, scores, where="", **options)
        if title is not None:
            ax.set_title(title)
        return ax

    groups = list(pd.unique(scores[groupby].dropna()))
    if not groups:
        raise ValueError(f"column groupby={groupby!r} holds no values")
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 4.8), squeeze=False)
    axes = axes.ravel()
    for panel, group in zip(axes, groups):
        _draw_panel(panel, scores[scores[groupby] == group], where=f" in {groupby}={group!r}", **options)
        panel.set_title(f"{groupby} = {group}")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return axes


def roc_curves(
    scores: pd.DataFrame,
    *,
    method_key: str = "method",
    label_key: str = "label",
    score_key: str = "score",
    groupby: str | None = None,
    ax=None,
    title: str | None = None,
    show_chance: bool = True,
):
    """Receiver operating characteristic curves, one per method, AUROC in the legend.

    Parameters
    ----------
    scores
        A tidy frame with one row per scored item (e.g. a gene pair): the method
        (embedding source) that scored it, its true label (0/1 or bool) and the
        predicted score. Rows whose score is NaN are dropped per method.
    method_key, label_key, score_key
        Columns holding the method, the label and the score. Methods are drawn
        in their order of first appearance and keep one colour across panels.
    groupby
        A column (e.g. ``"split"``): one panel per value, side by side, in a new
        figure. ``ax`` must then be ``None``.
    ax
        Axes to draw into; a new figure when ``None`` (and ``groupby`` is not given).
    title
        Title of the Axes, or of the figure when ``groupby`` is given.
    show_chance
        Draw the diagonal of a random scorer as a dashed line labelled "chance".

    Returns
    -------
    The matplotlib Axes, or a 1-d array of Axes (one per group) when ``groupby`` is
    given. Each method's legend entry reads ``method (AUROC 0.812, n=21,448)`` with
    :func:`sklearn.metrics.roc_auc_score` and the number of rows drawn.

    Raises
    ------
    KeyError
        A column named by the arguments is missing (the message lists the columns).
    ValueError
        The frame is empty, a method's labels are all one class (AUROC is undefined)
        or are not 0/1, or ``groupby`` is given together with ``ax``.

    Examples
    --------
    >>> import pandas as pd, bftbio
    >>> scores = pd.DataFrame({"method": ["knowledge"] * 4, "label": [0, 1, 0, 1],
    ...                        "score": [0.1, 0.8, 0.3, 0.6]})
    >>> ax = bftbio.pl.roc_curves(scores)  # doctest: +SKIP
    >>> ax.get_legend().get_texts()[0].get_text()  # doctest: +SKIP
    'knowledge (AUROC 1.000, n=4)'
    """
    return _curves(scores, _ROC, method_key=method_key, label_key=label_key, score_key=score_key, groupby=groupby,
                   ax=ax, title=title, show_chance=show_chance)


def prc_curves(
    scores: pd.DataFrame,
    *,
    method_key: str = "method",
    label_key: str = "label",
    score_key: str = "score",
    groupby: str | None = None,
    ax=None,
    title: str | None = None,
    show_chance: bool = True,
):
    """Precision-recall curves, one per method, average precision (AUPRC) in the legend.

    The frame and the arguments are those of :func:`roc_curves`. Curves are drawn
    as steps, the interpolation under which
    :func:`sklearn.metrics.average_precision_score` is their area. With
    ``show_chance`` a dashed horizontal line marks the precision of a random
    scorer: the positive rate of the rows drawn in the panel (all methods
    together, so one line when the methods score the same items).

    Returns
    -------
    The matplotlib Axes, or a 1-d array of Axes (one per group) when ``groupby`` is
    given. Legend entries read ``method (AUPRC 0.412, n=21,448)``.

    Raises
    ------
    KeyError
        A column named by the arguments is missing (the message lists the columns).
    ValueError
        The frame is empty, a method's labels are all one class (AUPRC is undefined)
        or are not 0/1, or ``groupby`` is given together with ``ax``.

    Examples
    --------
    >>> import pandas as pd, bftbio
    >>> scores = pd.DataFrame({"method": ["knowledge"] * 4, "label": [0, 1, 0, 0],
    ...                        "score": [0.1, 0.8, 0.3, 0.6]})
    >>> ax = bftbio.pl.prc_curves(scores)  # doctest: +SKIP
    >>> ax.get_legend().get_texts()[0].get_text()  # doctest: +SKIP
    'knowledge (AUPRC 1.000, n=4)'
    """
    return _curves(scores, _PRC, method_key=method_key, label_key=label_key, score_key=score_key, groupby=groupby,
                   ax=ax, title=title, show_chance=show_chance)
