"""Scores of predicted against observed expression changes: pure array functions,
named as the Arc Institute's cell-eval names them where it has the metric.

Every function takes deltas (expression minus the control's), conditions × genes,
and returns one score per condition (row). The names and formulas, with ``o`` the
observed and ``p`` the predicted delta of one condition over its G genes:

===========================  ====================================================  =====================
name                         formula                                               cell-eval name
===========================  ====================================================  =====================
``pearson_delta``            Pearson r(o, p) over all genes                        ``pearson_delta``
``pearson_delta_de``         the same over the condition's DE genes (GEARS)        (none)
``mse_delta``                (1/G) Σ (o_g − p_g)²                                  ``mse_delta``
``mse_delta_de``             the same over the DE genes (GEARS's ``mse_de``)       (none)
``mae_delta``                (1/G) Σ |o_g − p_g|                                   ``mae_delta``
``l2_top1000``               sqrt(Σ_g∈top (o_g − p_g)²), 1,000 most expressed      (none; Ahlmann-Eltze)
``discrimination_score_l1``  1 − rank_i / n (see :func:`discrimination_score`)     ``discrimination_score_l1``
``overlap_at_<k>``           |top_k(o) ∩ top_k(p)| / k (see :func:`de_overlap`)    ``overlap_at_<k>``
===========================  ====================================================  =====================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._conditions import listing

#: The metrics :func:`perturbation_metrics` computes (``overlap_at_<k>`` with k = n_overlap).
METRICS = ("pearson_delta", "pearson_delta_de", "mse_delta_de", "l2_top1000", "mse_delta", "mae_delta",
           "discrimination_score_l1", "overlap_at_20")
#: Old metric name → its name since bftbio follows cell-eval's names.
RENAMED_METRICS = {"mse_de": "mse_delta_de"}
_DISTANCES = {"l1": "cityblock", "l2": "euclidean", "cosine": "cosine"}


def _rows(observed, predicted) -> tuple[np.ndarray, np.ndarray]:
    obs = np.atleast_2d(np.asarray(observed, dtype=np.float64))
    pred = np.atleast_2d(np.asarray(predicted, dtype=np.float64))
    if obs.shape != pred.shape:
        raise ValueError(f"observed and predicted differ in shape: {obs.shape} vs {pred.shape}")
    return obs, pred


def pearson_delta(observed, predicted) -> np.ndarray:
    """Pearson correlation of observed and predicted deltas, per condition (row).

    NaN where either row is constant (e.g. :class:`NoChange`'s zero delta). cell-eval:
    ``pearson_delta``.

    Examples
    --------
    >>> pearson_delta([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]]).round(3)
    array([0.993])
    """
    a, b = _rows(observed, predicted)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=1) / den
    r[~(den > 0)] = np.nan
    return r


def mse_delta(observed, predicted) -> np.ndarray:
    """Mean squared error of the deltas over the genes, per condition: (1/G) Σ_g (o_g − p_g)².

    cell-eval: ``mse_delta``; over a condition's DE genes it is GEARS's ``mse_de``
    (``mse_delta_de`` here).

    Examples
    --------
    >>> mse_delta([[1.0, 2.0]], [[2.0, 4.0]])
    array([2.5])
    """
    obs, pred = _rows(observed, predicted)
    return ((obs - pred) ** 2).mean(axis=1)


def mae_delta(observed, predicted) -> np.ndarray:
    """Mean absolute error of the deltas over the genes, per condition: (1/G) Σ_g |o_g − p_g|.

    cell-eval: ``mae_delta``.

    Examples
    --------
    >>> mae_delta([[1.0, 2.0]], [[2.0, 4.0]])
    array([1.5])
    """
    obs, pred = _rows(observed, predicted)
    return np.abs(obs - pred).mean(axis=1)


def discrimination_score(observed, predicted, *, targets=None, metric: str = "l1") -> np.ndarray:
    """How well each prediction picks out its own condition among the observed ones.

    For condition i, the distance ``d_ij`` from its predicted delta to the observed
    delta of every condition j is computed (L1 by default), leaving out the genes
    ``targets[i]`` (the perturbed genes: knocking a gene down makes its own column
    give the answer away). With ``rank_i = #{j : d_ij < d_ii}``, the score is
    ``1 − rank_i / n`` for n conditions: 1 when the prediction is closest to its own
    observation, down to 1/n. A prediction whose distance to its own observation is
    undefined (NaN values; ``"cosine"`` with an all-zero prediction such as NoChange's)
    scores NaN, never 1. cell-eval: ``discrimination_score_l1`` (``_l2``,
    ``_cosine`` for the other metrics), which leaves out the gene named like the
    perturbation.

    Parameters
    ----------
    observed, predicted
        Deltas, conditions × genes, in the same row order; the conditions compared
        are these rows.
    targets
        Per condition, the positions of the genes to leave out (a list of lists);
        None leaves none out.
    metric
        ``"l1"`` (Manhattan), ``"l2"`` (Euclidean) or ``"cosine"``.

    Examples
    --------
    >>> obs = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    >>> pred = [[0.9, 0.1], [0.9, 0.2], [1.0, 1.0]]
    >>> discrimination_score(obs, pred).round(3)  # the second is closest to the first
    array([1.   , 0.333, 1.   ])
    """
    from scipy.spatial.distance import cdist

    obs, pred = _rows(observed, predicted)
    if metric not in _DISTANCES:
        raise ValueError(f"metric must be one of {list(_DISTANCES)}, got {metric!r}")
    n = len(obs)
    if targets is not None and len(targets) != n:
        raise ValueError(f"targets has {len(targets)} rows for {n} conditions")
    scores = np.empty(n)
    for i in range(n):
        keep = np.ones(obs.shape[1], dtype=bool)
        if targets is not None:
            keep[np.asarray(targets[i], dtype=np.int64)] = False
        distances = cdist(pred[i:i + 1, keep], obs[:, keep], _DISTANCES[metric])[0]
        if not np.isfinite(distances[i]):  # e.g. a NaN prediction, or cosine of an all-zero one
            scores[i] = np.nan
            continue
        closer = (distances < distances[i]) | ~np.isfinite(distances)  # an undefined distance never helps
        scores[i] = 1.0 - np.sum(closer) / n
    return scores


def _top_genes(row: np.ndarray, k: int) -> np.ndarray:
    size = np.abs(row)
    order = np.argsort(-size, kind="stable")  # ties: the first gene first
    return order[size[order] > 0][:k]


def de_overlap(observed, predicted, *, k: int = 20) -> np.ndarray:
    """Share of the observed top-k DE genes that the prediction also puts in its top k.

    Genes are ranked by the absolute delta (in log-normalised expression, a log fold
    change), largest first; a gene whose delta is exactly 0 is not DE. With ``O`` the
    observed and ``P`` the predicted top genes and ``k' = min(k, |O|)``, the score is
    ``|O[:k'] ∩ P[:k']| / k'`` (0 when no gene changes). cell-eval: ``overlap_at_<k>``
    with its default ranking (absolute log2 fold change) once every gene passes its
    FDR filter.

    Examples
    --------
    >>> de_overlap([[3.0, -2.0, 0.1, 0.0]], [[0.5, 0.0, -0.9, 0.0]], k=2)
    array([0.5])
    """
    obs, pred = _rows(observed, predicted)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    out = np.zeros(len(obs))
    for i in range(len(obs)):
        real = _top_genes(obs[i], k)
        if len(real):
            out[i] = np.intersect1d(real, _top_genes(pred[i], len(real))).size / len(real)
    return out


def perturbation_metrics(observed, predicted, *, de_genes=None, top_expressed=None, targets=None,
                         n_overlap: int | None = 20) -> pd.DataFrame:
    """Per-condition scores of predicted against observed expression deltas.

    - ``pearson_delta``: Pearson correlation over all genes of the deltas (NaN when a
      delta is constant, e.g. :class:`NoChange`); cell-eval's ``pearson_delta``;
    - ``pearson_delta_de``: the same over the condition's DE genes (GEARS);
    - ``mse_delta_de``: mean squared error over the DE genes (GEARS's ``mse_de``;
      renamed after cell-eval's ``mse_delta``);
    - ``l2_top1000``: Euclidean distance over ``top_expressed`` (the 1,000 most
      expressed genes in :func:`evaluate_perturbation`). Deltas share the control, so
      it is also the distance between predicted and observed expression
      (Ahlmann-Eltze et al. 2025);
    - ``mse_delta``, ``mae_delta``: mean squared and absolute error over all genes
      (cell-eval's names);
    - ``discrimination_score_l1``: :func:`discrimination_score` among the rows given,
      leaving out each condition's ``targets``;
    - ``overlap_at_<n_overlap>``: :func:`de_overlap` with ``k = n_overlap``.

    Parameters
    ----------
    observed, predicted
        Deltas, conditions × genes (arrays, or DataFrames aligned on their index and
        columns); a 1-d array is one condition.
    de_genes
        Per condition, the positions (ints) of its DE genes: an int array
        (conditions × k) or a list of lists. With DataFrames, gene names work too.
    top_expressed
        Positions (or names) of the genes for ``l2_top1000``.
    targets
        Per condition, the positions (or names) of its perturbed genes, left out of
        the discrimination score (names that are not columns are skipped).
    n_overlap
        k of ``overlap_at_<k>``; None leaves the metric out.

    Returns
    -------
    DataFrame, one row per condition, one column per metric computed.

    Examples
    --------
    >>> import numpy as np
    >>> obs = np.array([[1.0, 2.0, 3.0, 0.0]])
    >>> pred = np.array([[2.0, 4.0, 6.0, 1.0]])
    >>> scores = perturbation_metrics(obs, pred, de_genes=[[0, 1]], top_expressed=[0, 3], n_overlap=2)
    >>> scores.round(3).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'pearson_delta': 0.986, 'pearson_delta_de': 1.0, 'mse_delta_de': 2.5, 'l2_top1000': 1.414,
      'mse_delta': 3.75, 'mae_delta': 1.75, 'discrimination_score_l1': 1.0, 'overlap_at_2': 1.0}]
    """
    index = None
    if isinstance(observed, pd.DataFrame):
        index = observed.index
        genes = observed.columns
        if isinstance(predicted, pd.DataFrame):
            predicted = predicted.reindex(index=index, columns=genes)

        def position(names):
            names = np.asarray(names)
            if names.dtype.kind in "iu":
                return names
            found = genes.get_indexer(names.ravel()).reshape(names.shape)
            if (found < 0).any():
                raise KeyError(f"genes not among the columns: {listing(list(names.ravel()[found.ravel() < 0]))}")
            return found

        if de_genes is not None:
            de_genes = [position(list(g)) for g in (de_genes.to_numpy() if isinstance(de_genes, pd.DataFrame)
                                                    else de_genes)]
        if top_expressed is not None:
            top_expressed = position(list(top_expressed))
        def measured(names):  # a perturbed gene that is not measured has no column to leave out
            if np.asarray(names).dtype.kind in "iu":
                return np.asarray(names)
            found = genes.get_indexer(list(names))
            return found[found >= 0]

        if targets is not None:
            targets = [measured(t) for t in targets]
    obs, pred = _rows(observed, predicted)
    out = {"pearson_delta": pearson_delta(obs, pred)}
    if de_genes is not None:
        de = [np.asarray(g, dtype=np.int64) for g in de_genes]
        if len(de) != len(obs):
            raise ValueError(f"de_genes has {len(de)} rows for {len(obs)} conditions")
        if len({len(g) for g in de}) == 1:
            idx = np.array(de)
            o, p = np.take_along_axis(obs, idx, 1), np.take_along_axis(pred, idx, 1)
            out["pearson_delta_de"] = pearson_delta(o, p)
            out["mse_delta_de"] = mse_delta(o, p)
        else:
            out["pearson_delta_de"] = np.array([pearson_delta(obs[i, g], pred[i, g])[0] for i, g in enumerate(de)])
            out["mse_delta_de"] = np.array([mse_delta(obs[i, g], pred[i, g])[0] for i, g in enumerate(de)])
    if top_expressed is not None:
        top = np.asarray(top_expressed, dtype=np.int64)
        out["l2_top1000"] = np.sqrt(((obs[:, top] - pred[:, top]) ** 2).sum(axis=1))
    out["mse_delta"] = mse_delta(obs, pred)
    out["mae_delta"] = mae_delta(obs, pred)
    out["discrimination_score_l1"] = discrimination_score(obs, pred, targets=targets)
    if n_overlap:
        out[f"overlap_at_{n_overlap}"] = de_overlap(obs, pred, k=n_overlap)
    return pd.DataFrame(out, index=index)
