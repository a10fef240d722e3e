"""Models that predict a perturbation's expression change from its genes' embeddings:
:class:`EmbeddingRidge` (GenePert) and :class:`LinearModel` (Ahlmann-Eltze et al. 2025)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._interaction import GeneLookup
from ._baselines import PerturbationModel
from ._conditions import listing


class EmbeddingModel(PerturbationModel):
    """A model whose features are the summed embeddings of a condition's genes."""

    def _features(self, conditions: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Summed embedding per condition, and a mask of conditions whose genes all have one."""
        if not isinstance(self.embeddings, pd.DataFrame):
            raise TypeError(f"embeddings must be a gene x dimension DataFrame (e.g. from bftbio.embed_genes), "
                            f"got {type(self.embeddings).__name__}")
        if getattr(self, "_lookup_key", None) != id(self.embeddings):
            self._lookup = GeneLookup(self.embeddings)
            self._lookup_key = id(self.embeddings)
        genes = [self._genes(c) for c in conditions]
        flat = [g for gs in genes for g in gs]
        rows = self._lookup.rows(flat)
        x = np.zeros((len(conditions), self._lookup.values.shape[1]))
        ok = np.ones(len(conditions), dtype=bool)
        start = 0
        for i, gs in enumerate(genes):
            r = rows[start:start + len(gs)]
            start += len(gs)
            if (r < 0).any():
                ok[i] = False
            else:
                x[i] = self._lookup.values[r].sum(axis=0)
        self.missing_genes_ = sorted({g for g, r in zip(flat, rows) if r < 0})
        return x, ok

    def _fit(self, train, delta):
        x, ok = self._features(train)
        self.n_missing_fit_ = int((~ok).sum())
        if self.n_missing_fit_:
            warnings.warn(f"{self.n_missing_fit_} of {len(train)} training conditions perturb a gene without an "
                          f"embedding ({listing(self.missing_genes_)}); they are left out of the fit",
                          UserWarning, stacklevel=3)
        if not ok.any():
            raise ValueError(f"none of the {len(train)} training conditions has an embedding for all its genes; "
                             "check that the embedding table's index holds gene symbols")
        self._fit_features(x[ok], delta[ok])

    def _predict_delta(self, conditions):
        x, ok = self._features(conditions)
        out = np.tile(self.train_mean_, (len(conditions), 1))  # fallback: the mean training delta
        if ok.any():
            out[ok] = self._predict_features(x[ok])
        return out, ~ok


def ridge_solve(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """``argmin_W |Y - X W|² + alpha |W|²`` = ``(XᵀX + αI)⁻¹ XᵀY``, via the smaller Gram matrix."""
    n, d = x.shape
    if n < d:  # W = Xᵀ (X Xᵀ + αI)⁻¹ Y, the same solution
        return x.T @ np.linalg.solve(x @ x.T + alpha * np.eye(n), y)
    return np.linalg.solve(x.T @ x + alpha * np.eye(d), x.T @ y)


class EmbeddingRidge(EmbeddingModel):
    """Ridge regression from a perturbation's gene embedding to its expression delta.

    GenePert's model (ridge on GenePT embeddings): the feature of a condition is the
    embedding of its gene, summed over the genes of a combination; features and
    deltas are centred on the training conditions, so the intercept is the mean
    training delta. Genes are matched through the knowledge base
    (:func:`bftbio.knowledge.resolve_symbols`), so aliases find their embedding.
    Training conditions with a gene lacking an embedding are left out (warned,
    ``n_missing_fit_``); such conditions at prediction get the mean training delta
    (``obs["fallback"]``, ``n_fallback_``).

    Parameters
    ----------
    embeddings
        Gene × dimension DataFrame, e.g. from :func:`bftbio.embed_genes`; rows of NaN
        mean "no embedding".
    alpha
        Ridge penalty.

    Examples
    --------
    >>> import bftbio
    >>> from bftbio.tasks import EmbeddingRidge
    >>> emb = bftbio.embed_genes(genes, source="knowledge")  # doctest: +SKIP
    >>> model = EmbeddingRidge(emb, alpha=1.0).fit(prepared, split)  # doctest: +SKIP
    >>> model.predict(split.test)  # doctest: +SKIP
    """

    def __init__(self, embeddings=None, alpha: float = 1.0) -> None:
        self.embeddings = embeddings
        self.alpha = alpha

    def _fit_features(self, x, y):
        self.x_mean_ = x.mean(axis=0)
        self.y_mean_ = y.mean(axis=0)
        self.coef_ = ridge_solve(x - self.x_mean_, y - self.y_mean_, self.alpha)

    def _predict_features(self, x):
        return self.y_mean_ + (x - self.x_mean_) @ self.coef_


class LinearModel(EmbeddingModel):
    """The linear model of Ahlmann-Eltze, Huber & Anders (Nature Methods 2025).

    ``Y ≈ G W Pᵀ + b`` with ``Y`` the training deltas (genes × conditions), ``b`` their
    mean over conditions, ``G`` the first ``n_components`` principal components of
    the centred training deltas (genes × K) and ``P`` the perturbation embedding
    (conditions × d; summed over a combination's genes, centred on the training
    conditions as the paper's PCA scores are). ``W`` in closed form (their equation):
    ``W = (GᵀG + λI)⁻¹ Gᵀ (Y − b) P (PᵀP + λI)⁻¹``; a new condition with embedding
    ``p`` is predicted as ``G W (p − p̄) + b``. Missing embeddings are handled as in
    :class:`EmbeddingRidge`.

    Parameters
    ----------
    embeddings
        Gene × dimension DataFrame (perturbation embedding of each gene).
    n_components
        K, the number of principal components of the deltas (10 in the paper).
    ridge
        λ (0.1 in the paper).

    Examples
    --------
    >>> from bftbio.tasks import LinearModel
    >>> model = LinearModel(emb, n_components=10, ridge=0.1).fit(prepared, split)  # doctest: +SKIP
    """

    def __init__(self, embeddings=None, n_components: int = 10, ridge: float = 0.1) -> None:
        self.embeddings = embeddings
        self.n_components = n_components
        self.ridge = ridge

    def _fit_features(self, p, y):
        # P is centred on the training conditions, as PCA scores (the paper's own P)
        # are: b is then the prediction for the average training perturbation.
        self.p_mean_ = p.mean(axis=0)
        p = p - self.p_mean_
        y = y.T  # genes x conditions
        self.b_ = y.mean(axis=1)
        centred = y - self.b_[:, None]
        # PCA of the deltas through the small conditions x conditions Gram matrix (eigh):
        # the same G as an SVD of the genes x conditions matrix, and far cheaper.
        values, vectors = np.linalg.eigh(centred.T @ centred)
        top = np.argsort(values)[::-1]
        top = top[values[top] > values.max() * 1e-10][: max(1, self.n_components)]
        g = centred @ vectors[:, top] / np.sqrt(values[top])
        k = g.shape[1]
        left = np.linalg.solve(g.T @ g + self.ridge * np.eye(k), g.T @ centred @ p)
        self.W_ = np.linalg.solve(p.T @ p + self.ridge * np.eye(p.shape[1]), left.T).T  # left (PᵀP + λI)⁻¹
        self.G_ = g

    def _predict_features(self, p):
        return (self.G_ @ self.W_ @ (p - self.p_mean_).T).T + self.b_
