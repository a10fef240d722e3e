"""Evaluation of fitted models as one tidy table, and the whole benchmark (baselines and
embedding models per embedding source) in one call."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ._baselines import Additive, NoChange, PerturbationModel, TrainMean
from ._conditions import parse_condition
from ._embedding_models import EmbeddingRidge, LinearModel
from ._metrics import RENAMED_METRICS, perturbation_metrics
from ._prepare import PSEUDOBULK_KEY, as_prepared, dataset_name
from ._splits import PerturbationSplit, perturbation_split

TASK = "perturbation"


def evaluate_perturbation(
    adata,
    models: Mapping[str, PerturbationModel],
    split,
    *,
    splits: Sequence[str] = ("test",),
    n_top_expressed: int = 1000,
    dataset: str | None = None,
    per_condition: bool = False,
    seed: int = 0,
    **prepare_options,
):
    """Fit every model on the training conditions and score its predictions, as a tidy table.

    Parameters
    ----------
    adata
        An AnnData prepared by :func:`prepare_perturbation`, or cells (prepared here
        with ``prepare_options``; the cells' AnnData is left untouched).
    models
        ``{method name: model}``; each is fitted in place.
    split
        A :class:`PerturbationSplit`, a dict of condition lists, or a mode for
        :func:`perturbation_split` (``"simulation"``, ``"single"``, ``"combo"``) drawn
        with ``seed``.
    splits
        Which sets to score (``"test"``, ``"val"``, ``"train"``).
    n_top_expressed
        Genes of ``l2_top1000``: the most expressed in the control mean.
    dataset
        The name in the table (default the prepared data's; always containing
        "simulated" for simulated data).
    per_condition
        Also return one row per condition, method and metric.

    Returns
    -------
    Tidy DataFrame ``task, dataset, split, subgroup, method, metric, value, n``, with
    the metrics of :func:`perturbation_metrics` (``pearson_delta``,
    ``pearson_delta_de``, ``mse_delta_de``, ``l2_top1000``, ``mse_delta``,
    ``mae_delta``, ``discrimination_score_l1`` among the conditions of the set
    scored, ``overlap_at_<k>`` with k the prepared data's ``n_top_de``, 20 by
    default): the mean of each metric over the conditions of a subgroup (``n`` conditions with a
    value; NaN values, e.g. :class:`NoChange`'s ``pearson_delta``, are left out) and
    over all of them (subgroup ``"all"``); metric ``n_fallback`` counts the
    conditions a model could not predict itself (value) out of ``n``. With
    ``per_condition``, also a frame ``task, dataset, split, subgroup, method,
    condition, metric, value``.

    Examples
    --------
    >>> from bftbio.tasks import NoChange, TrainMean, Additive, evaluate_perturbation
    >>> table = evaluate_perturbation(prepared, {"TrainMean": TrainMean(), "Additive": Additive()},
    ...                               "simulation")  # doctest: +SKIP
    """
    prepared = as_prepared(adata, **prepare_options)
    if isinstance(split, str) or (isinstance(split, Mapping) and not isinstance(split, PerturbationSplit)):
        split = perturbation_split(prepared, mode=split, seed=seed)
    if not isinstance(split, PerturbationSplit):
        raise TypeError(f"split must be a PerturbationSplit, a dict or a mode name, got {type(split).__name__}")
    name = dataset_name(prepared, dataset)[0]
    delta = pd.DataFrame(prepared.layers["delta"], index=prepared.obs_names, columns=prepared.var_names)
    top_de = prepared.uns["top_de"]
    params = prepared.uns[PSEUDOBULK_KEY]
    n_overlap = int(params.get("n_top_de", top_de.shape[1]))

    def genes_of(condition):
        return parse_condition(condition, control=params["control"], separator=params["separator"])

    order = np.argsort(-np.asarray(prepared.var["control_mean"]), kind="stable")
    top_expressed = order[: min(n_top_expressed, len(order))]
    long = []
    for method, model in models.items():
        model.fit(prepared, split)
        for which in splits:
            conditions = [c for c in split[which] if c in delta.index]
            if not conditions:
                continue
            predicted = model.predict(conditions)
            targets = [genes_of(c) for c in conditions]
            scores = perturbation_metrics(delta.loc[conditions], predicted.to_df(layer="delta"),
                                          de_genes=top_de.loc[conditions], top_expressed=top_expressed,
                                          targets=targets, n_overlap=n_overlap)
            scores["n_fallback"] = predicted.obs["fallback"].to_numpy().astype(float)
            scores = scores.rename_axis("condition").reset_index().melt(id_vars="condition", var_name="metric")
            scores.insert(0, "method", method)
            scores.insert(0, "subgroup", scores["condition"].map(split.subgroup))
            scores.insert(0, "split", which)
            long.append(scores)
    if not long:
        raise ValueError(f"no condition of the sets {list(splits)} is in the prepared data")
    per = pd.concat(long, ignore_index=True)
    per.insert(0, "dataset", name)
    per.insert(0, "task", TASK)
    both = pd.concat([per, per.assign(subgroup="all")], ignore_index=True)
    keys = ["task", "dataset", "split", "subgroup", "method", "metric"]
    fallback = both["metric"] == "n_fallback"
    scored = both[~fallback].groupby(keys, sort=False)["value"].agg(value="mean", n="count")  # NaN left out
    counted = both[fallback].groupby(keys, sort=False)["value"].agg(value="sum", n="size")
    table = pd.concat([scored, counted]).reset_index()
    table["n"] = table["n"].astype(int)
    table.attrs["renamed_metrics"] = dict(RENAMED_METRICS)  # pl.metric_bars names the new name of an old one
    if per_condition:
        return table, per[["task", "dataset", "split", "subgroup", "method", "condition", "metric", "value"]]
    return table


def _spec_embeddings(name: str, spec, genes: list[str], seed: int) -> pd.DataFrame:
    """The embeddings that a spec of :func:`benchmark_interactions` gives for ``genes``."""
    from .._interaction import random_embeddings

    if spec == "random":
        return random_embeddings(genes, seed=seed)
    if not isinstance(spec, Mapping):
        raise ValueError(f"method {name!r}: give a DataFrame, a function, 'random' or embed_genes options, "
                         f"got {spec!r}")
    from ...embed import embed_genes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # genes without an embedding are counted in n_fallback
        return embed_genes(genes, **spec)


def benchmark_perturbation(
    methods: Mapping[str, pd.DataFrame | Callable[[list[str]], pd.DataFrame] | Mapping | str],
    adata=None,
    *,
    seed: int = 0,
    n_cells: int = 20_000,
    n_genes: int = 2_000,
    n_conditions: int = 210,
    n_combos: int = 60,
    data=None,
    split: str = "simulation",
    alpha: float = 1.0,
    n_components: int = 10,
    ridge: float = 0.1,
    per_condition: bool = False,
):
    """The three baselines and both embedding models for each embedding source, on one split.

    Without ``adata`` the data are SIMULATED by :func:`bftbio.datasets.simulate_perturbseq`
    (``n_cells`` cells, ``n_genes`` genes, ``n_conditions`` conditions of which
    ``n_combos`` doubles; effects spread along the Gene2vec co-expression network
    read from ``data``), and the table's dataset name says "simulated".

    Parameters
    ----------
    methods
        ``{name: embeddings}``: a gene × dimension DataFrame, a function that takes
        the list of perturbed genes and returns one, or a spec as
        :func:`benchmark_interactions` takes it (``"random"``, or the keyword
        arguments of :func:`bftbio.embed_genes`); functions and specs embed only the
        perturbed genes. Each gives ``EmbeddingRidge (name)`` and ``LinearModel (name)``.
    adata
        Cells to use instead of simulating (prepared with the default options and
        left untouched), or an AnnData prepared by :func:`prepare_perturbation`.
    seed
        Seed of the simulation and of the split.
    n_cells, n_genes, n_conditions, n_combos, data
        Simulation sizes and the folder of the Gene2vec files.
    split
        Mode of :func:`perturbation_split`.
    alpha, n_components, ridge
        Options of :class:`EmbeddingRidge` and :class:`LinearModel`.
    per_condition
        See :func:`evaluate_perturbation`.

    Returns
    -------
    The tidy table of :func:`evaluate_perturbation` on the test set: methods
    ``NoChange``, ``TrainMean``, ``Additive``, ``EmbeddingRidge (name)``,
    ``LinearModel (name)``; subgroups ``unseen_single``, ``combo_seen0/1/2`` and
    ``all``; metrics ``pearson_delta``, ``pearson_delta_de``, ``mse_delta_de``,
    ``l2_top1000``, ``mse_delta``, ``mae_delta``, ``discrimination_score_l1``,
    ``overlap_at_20``, ``n_fallback`` (see :func:`perturbation_metrics`).

    Examples
    --------
    >>> from bftbio.tasks import benchmark_perturbation, random_embeddings
    >>> table = benchmark_perturbation({"random": lambda genes: random_embeddings(genes)},
    ...                                data=None)  # doctest: +SKIP
    """
    if adata is None:
        from ...datasets import simulate_perturbseq

        adata = simulate_perturbseq(n_cells=n_cells, n_genes=n_genes, n_conditions=n_conditions, n_combos=n_combos,
                                    seed=seed, data=data)
    prepared = as_prepared(adata)
    chosen = perturbation_split(prepared, mode=split, seed=seed)
    params = prepared.uns[PSEUDOBULK_KEY]
    genes = sorted({g for c in prepared.obs_names
                    for g in parse_condition(c, control=params["control"], separator=params["separator"])})
    models: dict[str, PerturbationModel] = {"NoChange": NoChange(), "TrainMean": TrainMean(), "Additive": Additive()}
    for name, source in methods.items():
        if isinstance(source, pd.DataFrame):
            table = source
        elif callable(source):
            table = source(genes)
        else:
            table = _spec_embeddings(name, source, genes, seed)
        models[f"EmbeddingRidge ({name})"] = EmbeddingRidge(table, alpha=alpha)
        models[f"LinearModel ({name})"] = LinearModel(table, n_components=n_components, ridge=ridge)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing embeddings are counted in n_fallback
        return evaluate_perturbation(prepared, models, chosen, per_condition=per_condition)
