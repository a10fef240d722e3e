"""Predicted against observed expression change of one perturbation condition."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _row(values, condition, name: str) -> pd.Series | np.ndarray:
    """One condition's deltas: a Series (gene → delta) or a 1-d array."""
    if isinstance(values, pd.DataFrame):
        if condition is None:
            raise ValueError(f"{name} is a conditions x genes DataFrame: pass condition=... to pick a row")
        if condition not in values.index:
            raise KeyError(f"condition {condition!r} is not a row of {name} (rows: {list(values.index[:5])}, ...)")
        return values.loc[condition].astype(float)
    if isinstance(values, pd.Series):
        return values.astype(float)
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-d (one condition's deltas), a Series or a DataFrame; "
                         f"got shape {array.shape}")
    return array


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def perturbation_scatter(
    observed,
    predicted,
    condition: str | None = None,
    *,
    de_genes=None,
    simulated: bool = False,
    method: str | None = None,
    label_de: bool = True,
    ax=None,
    title: str | None = None,
):
    """Scatter of predicted against observed expression change (delta) for one condition.

    Every gene is a grey dot; the condition's differentially expressed genes are
    highlighted (and labelled with ``label_de``). The diagonal marks a perfect
    prediction; the legend gives the Pearson correlation over all genes
    (``pearson_delta``) and over the DE genes (``pearson_delta_de``).

    Parameters
    ----------
    observed, predicted
        The deltas (expression minus control): Series indexed by gene, 1-d arrays
        of equal length, or conditions × genes DataFrames (then ``condition`` picks
        the row), e.g. ``prepared.to_df(layer="delta")`` and
        ``model.predict([c]).to_df(layer="delta")``. Series and DataFrames are
        aligned on the genes of ``observed``.
    condition
        The condition shown (and picked from DataFrames).
    de_genes
        Genes to highlight: names (with Series/DataFrames), positions or a boolean
        mask (with arrays), e.g. ``prepared.uns["top_de"].loc[condition]``.
    simulated
        The data are simulated: the title says so (pass
        ``prepared.uns["simulated"]``).
    method
        Name of the model, for the y-axis label.
    label_de
        Write the DE genes' names next to their dots.
    ax
        Axes to draw into; a new figure when ``None``.
    title
        Title; default ``"<condition> (simulated)"`` or ``"<condition>"``. A given
        title still gets ``" (simulated)"`` appended for simulated data.

    Returns
    -------
    The matplotlib Axes.

    Raises
    ------
    KeyError
        ``condition`` is not a row of a DataFrame, or a DE gene is not a gene of
        ``observed``.
    ValueError
        Shapes that do not match, or a DataFrame without ``condition``.

    Examples
    --------
    >>> import pandas as pd, bftbio
    >>> obs = pd.Series([1.0, -0.5, 0.1, 0.0], index=["A", "B", "C", "D"])
    >>> pred = pd.Series([0.8, -0.4, 0.0, 0.1], index=obs.index)
    >>> ax = bftbio.pl.perturbation_scatter(obs, pred, "A+ctrl", de_genes=["A", "B"], simulated=True)  # doctest: +SKIP
    >>> ax.get_title()  # doctest: +SKIP
    'A+ctrl (simulated)'
    """
    import matplotlib.pyplot as plt

    obs = _row(observed, condition, "observed")
    pred = _row(predicted, condition, "predicted")
    if isinstance(obs, pd.Series):
        genes = obs.index
        if isinstance(pred, pd.Series):
            missing = genes.difference(pred.index)
            if len(missing):
                raise KeyError(f"predicted lacks {len(missing)} genes of observed, e.g. {list(missing[:5])}")
            pred = pred.reindex(genes)
        pred = np.asarray(pred, dtype=float)
        obs = obs.to_numpy(dtype=float)
    else:
        genes = None
        pred = np.asarray(pred, dtype=float)
    if obs.shape != pred.shape:
        raise ValueError(f"observed and predicted differ in length: {obs.shape[0]} vs {pred.shape[0]}")

    mask = np.zeros(len(obs), dtype=bool)
    if de_genes is not None:
        de = np.asarray(pd.Series(de_genes).dropna().tolist() if not isinstance(de_genes, np.ndarray) else de_genes)
        if de.size == 0:
            pass
        elif de.dtype == bool:
            if de.shape != mask.shape:
                raise ValueError(f"a boolean de_genes mask needs {len(mask)} entries, got {de.shape[0]}")
            mask = de
        elif de.dtype.kind in "iu":
            mask[de] = True
        elif genes is None:
            raise ValueError("de_genes as names need observed as a Series or DataFrame (genes as index/columns)")
        else:
            found = genes.get_indexer(de)
            if (found < 0).any():
                raise KeyError(f"DE genes not among the genes of observed: {list(de[found < 0][:5])}")
            mask[found] = True

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    r_all = _pearson(obs, pred)
    ax.scatter(obs[~mask], pred[~mask], s=6, color="0.65", linewidths=0,
               label=f"all genes (r = {r_all:.2f}, n={len(obs):,})")
    if mask.any():
        r_de = _pearson(obs[mask], pred[mask])
        ax.scatter(obs[mask], pred[mask], s=18, color="C3", linewidths=0,
                   label=f"DE genes (r = {r_de:.2f}, n={int(mask.sum())})")
        if label_de and genes is not None:
            for i in np.flatnonzero(mask):
                ax.annotate(str(genes[i]), (obs[i], pred[i]), fontsize=6, xytext=(2, 2), textcoords="offset points")
    finite = np.concatenate([obs[np.isfinite(obs)], pred[np.isfinite(pred)]])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], linestyle="--", color="0.4", linewidth=1)
    ax.axhline(0, color="0.85", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.85", linewidth=0.8, zorder=0)
    ax.set_xlabel("observed change (delta vs control)")
    ax.set_ylabel(f"predicted change{f' ({method})' if method else ''}")
    text = title if title is not None else (condition or "")
    if simulated:
        text = f"{text} (simulated)".strip()
    ax.set_title(text)
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    return ax
