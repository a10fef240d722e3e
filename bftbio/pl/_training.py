"""Training curves: cross-entropy and BFT sample weights by optimiser step."""

from __future__ import annotations

import pandas as pd


def training_curves(history: pd.DataFrame, *, loss_key: str = "loss", title: str | None = None):
    """Two panels: the cross-entropy of the training batches, and the mean BFT sample weight.

    Parameters
    ----------
    history
        Tidy rows ``loss, step, metric, value`` with metrics ``"ce"`` and, for the BFT
        losses, ``"mean_sample_weight"``; :func:`bftbio.train.log_history_frame` reads them
        from training runs.
    loss_key
        The column naming the run (one curve per value).

    Returns
    -------
    A 1-d array of two Axes.
    """
    missing = [c for c in (loss_key, "step", "metric", "value") if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks the columns {missing} (has {list(history.columns)})")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for loss, rows in history.groupby(loss_key, sort=False):
        ce = rows[rows["metric"] == "ce"]
        axes[0].plot(ce["step"], ce["value"], marker="o", label=loss)
        weights = rows[rows["metric"] == "mean_sample_weight"]
        if len(weights):
            axes[1].plot(weights["step"], weights["value"], marker="o", label=loss)
    axes[0].set(xlabel="optimiser step", ylabel="cross-entropy of the targets", title="Training batches")
    axes[1].set(xlabel="optimiser step", ylabel="mean sample weight s_b", title="BFT sample weights", ylim=(0, 1.02))
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes
