"""Perturbation response prediction, one room: predict the expression change that
perturbing a gene (or two) causes, from the gene's embedding.

The benchmark follows GEARS (Roohani et al., Nature Biotechnology 2024) in data format,
splits and metrics, Ahlmann-Eltze, Huber & Anders (Nature Methods 2025) in its
baselines and linear model, and the Arc Institute's cell-eval in its metric names.
Each step is usable alone:

* :func:`parse_condition`: the genes of a condition label (:mod:`._conditions`);
* :func:`pseudobulk`, :func:`group_statistics`, :func:`welch_de` (pure arrays, streamed
  over row blocks of in-memory, on-disk or Dask matrices) and :func:`prepare_perturbation`
  (AnnData, scanpy's ``copy=`` contract): pseudobulk, delta against control, top DE genes
  (:mod:`._prepare`);
* :func:`perturbation_split`, :class:`PerturbationSplit`: seeded GEARS-style splits with
  test subgroups (:mod:`._splits`);
* :class:`NoChange`, :class:`TrainMean`, :class:`Additive`: the baselines
  (:mod:`._baselines`); :class:`EmbeddingRidge`, :class:`LinearModel`, :func:`ridge_solve`
  (:mod:`._embedding_models`);
* :func:`perturbation_metrics` and its pure parts (:func:`pearson_delta`,
  :func:`mse_delta`, :func:`mae_delta`, :func:`discrimination_score`, :func:`de_overlap`;
  :mod:`._metrics`);
* :func:`evaluate_perturbation`, :func:`benchmark_perturbation`: tidy tables
  (:mod:`._benchmark`).
"""

from ._baselines import Additive, NoChange, TrainMean
from ._benchmark import TASK, benchmark_perturbation, evaluate_perturbation
from ._conditions import parse_condition
from ._embedding_models import EmbeddingRidge, LinearModel, ridge_solve
from ._metrics import (
    METRICS,
    RENAMED_METRICS,
    de_overlap,
    discrimination_score,
    mae_delta,
    mse_delta,
    pearson_delta,
    perturbation_metrics,
)
from ._prepare import CHUNK_SIZE, PSEUDOBULK_KEY, group_statistics, prepare_perturbation, pseudobulk, welch_de
from ._splits import PERTURBATION_SUBGROUPS, PerturbationSplit, perturbation_split

__all__ = [
    "CHUNK_SIZE",
    "METRICS",
    "PERTURBATION_SUBGROUPS",
    "PSEUDOBULK_KEY",
    "RENAMED_METRICS",
    "TASK",
    "Additive",
    "EmbeddingRidge",
    "LinearModel",
    "NoChange",
    "PerturbationSplit",
    "TrainMean",
    "benchmark_perturbation",
    "de_overlap",
    "discrimination_score",
    "evaluate_perturbation",
    "group_statistics",
    "mae_delta",
    "mse_delta",
    "parse_condition",
    "pearson_delta",
    "perturbation_metrics",
    "perturbation_split",
    "prepare_perturbation",
    "pseudobulk",
    "ridge_solve",
    "welch_de",
]
