"""The perturbation models' shared plumbing and the three baselines every model must
beat: :class:`NoChange`, :class:`TrainMean` and :class:`Additive`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ._conditions import parse_condition
from ._prepare import PSEUDOBULK_KEY, as_prepared
from ._splits import train_conditions


class PerturbationModel(BaseEstimator):
    """Shared plumbing: fit on the training deltas of a prepared AnnData, predict AnnData."""

    def fit(self, prepared, split=None):
        """Fit on the training conditions of ``split`` (see :func:`perturbation_split`).

        ``prepared`` is the output of :func:`prepare_perturbation` (a cell-level
        AnnData is prepared with the default options). Returns ``self``.
        """
        prepared = as_prepared(prepared)
        params = prepared.uns[PSEUDOBULK_KEY]
        self.control_ = params["control"]
        self.separator_ = params["separator"]
        self.dataset_ = prepared.uns.get("dataset")
        self.simulated_ = bool(prepared.uns.get("simulated", False))
        self.genes_ = pd.Index(prepared.var_names)
        control_row = prepared.obs_names.get_loc(self.control_)
        self.control_mean_ = np.asarray(prepared.X[control_row], dtype=np.float64)
        train = train_conditions(split, prepared)
        delta = np.asarray(prepared[train].layers["delta"], dtype=np.float64)
        self.train_conditions_ = train
        self.train_mean_ = delta.mean(axis=0)
        self._fit(train, delta)
        return self

    def _fit(self, train: list[str], delta: np.ndarray) -> None:
        pass

    def _genes(self, condition: str) -> tuple[str, ...]:
        return parse_condition(condition, control=self.control_, separator=self.separator_)

    def predict(self, conditions):
        """Predicted pseudobulk of each condition: AnnData, obs = conditions, var = genes.

        ``X`` is the predicted mean expression (control mean + predicted delta),
        ``layers["delta"]`` the predicted delta, ``obs["fallback"]`` marks conditions
        the model could not predict itself (see the model), also counted in
        ``n_fallback_``.
        """
        import anndata as ad

        if not hasattr(self, "train_mean_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(prepared, split) first")
        if isinstance(conditions, str):
            conditions = [conditions]
        conditions = [str(c) for c in conditions]
        delta = np.zeros((len(conditions), len(self.genes_)))
        fallback = np.zeros(len(conditions), dtype=bool)
        rows = [i for i, c in enumerate(conditions) if self._genes(c)]
        if rows:
            delta[rows], fallback[rows] = self._predict_delta([conditions[i] for i in rows])
        self.n_fallback_ = int(fallback.sum())
        out = ad.AnnData(X=self.control_mean_[None, :] + delta,
                         obs=pd.DataFrame({"fallback": fallback}, index=pd.Index(conditions, name="condition")),
                         var=pd.DataFrame(index=self.genes_.copy()), layers={"delta": delta})
        out.uns["method"] = type(self).__name__
        out.uns["dataset"] = self.dataset_
        out.uns["simulated"] = self.simulated_
        return out

    def _predict_delta(self, conditions: list[str]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class NoChange(PerturbationModel):
    """Baseline: every perturbation leaves expression at the control mean (delta 0).

    Its ``pearson_delta`` is undefined (a constant prediction) and reported as NaN.

    Examples
    --------
    >>> model = NoChange().fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(split.test).layers["delta"].max()  # doctest: +SKIP
    0.0
    """

    def _predict_delta(self, conditions):
        return np.zeros((len(conditions), len(self.genes_))), np.zeros(len(conditions), dtype=bool)


class TrainMean(PerturbationModel):
    """Baseline: every perturbation changes expression by the mean training delta.

    The "mean" baseline of Ahlmann-Eltze, Huber & Anders (Nature Methods 2025), which
    none of GEARS, scGPT or scFoundation beat on unseen single perturbations.

    Examples
    --------
    >>> model = TrainMean().fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(["CBL+ctrl"]).layers["delta"]  # doctest: +SKIP
    """

    def _predict_delta(self, conditions):
        return np.tile(self.train_mean_, (len(conditions), 1)), np.zeros(len(conditions), dtype=bool)


_FALLBACKS = ("train_mean", "no_change")


class Additive(PerturbationModel):
    """Baseline: a combination's delta is the sum of its genes' single deltas.

    The additive model of Ahlmann-Eltze, Huber & Anders (2025) and Norman et al.
    (2019). It needs every gene's single perturbation in training; any other
    condition (an unseen single, a combination with an unseen single) gets the
    ``fallback``, is flagged in ``obs["fallback"]`` and counted in ``n_fallback_``.

    Parameters
    ----------
    fallback
        ``"train_mean"`` (the mean training delta) or ``"no_change"`` (delta 0).

    Examples
    --------
    >>> model = Additive().fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(["CBL+CNN1"]).obs["fallback"].item()  # doctest: +SKIP
    False
    """

    def __init__(self, fallback: str = "train_mean") -> None:
        self.fallback = fallback

    def _fit(self, train, delta):
        if self.fallback not in _FALLBACKS:
            raise ValueError(f"fallback must be one of {_FALLBACKS}, got {self.fallback!r}")
        self.singles_ = {self._genes(c)[0]: delta[i] for i, c in enumerate(train) if len(self._genes(c)) == 1}

    def _predict_delta(self, conditions):
        default = self.train_mean_ if self.fallback == "train_mean" else np.zeros(len(self.genes_))
        out = np.empty((len(conditions), len(self.genes_)))
        fallback = np.zeros(len(conditions), dtype=bool)
        for i, c in enumerate(conditions):
            genes = self._genes(c)
            if len(genes) > 1 and all(g in self.singles_ for g in genes):
                out[i] = np.sum([self.singles_[g] for g in genes], axis=0)
            else:
                out[i], fallback[i] = default, True
        return out, fallback
