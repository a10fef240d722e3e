"""The main job: the whole pipeline, end to end, into one run directory.

``bftbio run`` (or :func:`run_main_job`) does, on the embedded defaults:

1. checks the knowledge base (NCBI Gene + GO snapshot);
2. fine-tunes the default model with LoRA, once with ``bft`` and once with ``sft`` on
   the same small budget, on training data built from the knowledge base with the
   GeneAgent benchmark's gene sets and the interaction benchmark's validation and
   test genes kept out (adapters are cached: a second run reuses them);
3. embeds the genes the tasks need: knowledge profiles, and the base model, the SFT
   and the BFT adapters (hidden states by default; model-written profiles on request);
4. gene–gene interactions on a seeded sample of the Gene2vec splits (model choice on
   validation, AUROC on test, random and annotation baselines beside);
5. perturbation response on SIMULATED Perturb-seq data, with the honest baselines;
6. gene-set naming on GeneAgent's sets (NeST, MSigDB, a seeded sample of GO) beside
   GeneAgent's and GPT-4's published answers;

and writes the adapters, the store entries it used, every table as CSV, the figures
as PNG and ``report.md`` that puts them together with the versions and settings.
Profiles, vectors and answers are cached in the store (:mod:`bftbio.store`), so a
second run does no model work it has done before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ._config import Config, option
from ._settings import logger, package_versions, settings
from .store import Store

DEMO_GENES = ["TP53", "MDM2", "HBB"]
DEMO_NAMES = ["p53", "HER2", "7157", "ENSG00000141510", "NOT_A_GENE"]
_STORE_KINDS = ("profile", "profile_vector", "knowledge_vector", "hidden_vector", "geneset_answer",
                "geneset_verification")  # what the run directory's store.sqlite keeps (not the name cache)


@dataclass
class RunConfig(Config):
    """The main job's settings (see each field's help); ``bftbio run --config run.yaml``.

    Examples
    --------
    >>> RunConfig().losses
    ['bft', 'sft']
    >>> RunConfig.quick().max_steps
    4
    """

    _what = "run options"

    seed: int = option(0, "Seeds the training data, the samples of genes and gene sets, and the simulation.")
    # Training.
    train: bool = option(False, "Fine-tune with each of `losses` and compare the adapters beside the base model "
                     "(about 6 minutes more on 2 CPU cores with the default budget). Off: nothing is trained; naming uses the adapter "
                     "that ships with bftbio.")
    losses: list = option(["bft", "sft"], "Losses to fine-tune with, on the same budget (first: the one the run features).")
    n_genes: int = option(24, "Genes drawn for profile examples of the training data.")
    n_gene_sets: int = option(12, "GO BP terms drawn for gene-set examples (the GeneAgent sets are kept out).")
    num_epochs: float = option(1.0, "Passes over the training data.")
    max_steps: int = option(-1, "Stop training after this many steps (-1: use num_epochs).")
    # Embeddings and gene-gene interactions.
    interaction_genes: list = option([500, 150, 350], "Genes sampled from the Gene2vec train, validation, test splits.")
    sources: list = option(["hidden"], "Model embedding sources besides the knowledge profiles: 'hidden' and/or "
                       "'profile' (model-written profiles: the paper's route, slow on a CPU).")
    profile_tokens: int = option(64, "Length of model-written profiles, in tokens.")
    # Perturbation (simulated).
    perturbation_cells: int = option(6000, "Simulated cells.")
    perturbation_genes: int = option(1000, "Simulated measured genes.")
    perturbation_singles: int = option(60, "Simulated single-gene perturbations.")
    perturbation_combos: int = option(20, "Simulated two-gene perturbations.")
    # Gene-set naming.
    naming_sets: int = option(10, "Gene sets per dataset: the first N of NeST and MSigDB, a seeded sample of N of GO.")
    naming_verify: bool = option(False, "Also name the sets with the shipped naming adapter plus a verification round.")
    naming_tokens: int = option(64, "Length of each naming answer, in tokens.")
    naming_similarity: bool = option(True, "Score names by encoder similarity and background percentile too (the "
                                 "first run encodes ~28,000 GO names once); False: ROUGE only.")

    @classmethod
    def quick(cls, **overrides) -> RunConfig:
        """Smaller budgets than the default (a smoke run, not a measurement)."""
        values = dict(n_genes=8, n_gene_sets=4, max_steps=4, interaction_genes=[300, 100, 200],
                      perturbation_cells=2000, perturbation_genes=400, perturbation_singles=30,
                      perturbation_combos=10, naming_sets=3, naming_verify=False, naming_tokens=48,
                      naming_similarity=False)
        return cls(**{**values, **overrides})

    @classmethod
    def from_dict(cls, values: dict, *, quick: bool = False) -> RunConfig:
        """From a mapping of field: value; with ``quick`` the values override the quick budget."""
        base = super().from_dict(values)  # checks the names
        return cls.quick(**values) if quick else base

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, *, quick: bool = False) -> RunConfig:
        return cls.from_dict(cls.read_yaml(path), quick=quick)

    def __post_init__(self) -> None:
        from .train import LOSSES

        bad = [x for x in self.losses if x not in LOSSES]
        if not self.losses or bad:
            raise ValueError(f"losses must be a non-empty list of {LOSSES}, got {self.losses!r}")
        bad = [x for x in self.sources if x not in ("hidden", "profile")]
        if bad:
            raise ValueError(f"sources may hold 'hidden' and 'profile', got {bad}")
        if len(self.interaction_genes) != 3 or min(self.interaction_genes) < 2:
            raise ValueError(f"interaction_genes needs three sizes >= 2 (train, validation, test), "
                             f"got {self.interaction_genes!r}")
        if self.naming_sets < 1:
            raise ValueError(f"naming_sets must be >= 1, got {self.naming_sets}")



class _RecordingStore(Store):
    """The default store, remembering which namespaces the run used (to export them)."""

    def __init__(self, path=None) -> None:
        super().__init__(path)
        self.used: set[str] = set()

    def namespace(self, kind: str, params) -> str:
        ns = super().namespace(kind, params)
        self.used.add(ns)
        return ns


def _prepare_out(out: str | Path | None, overwrite: bool) -> Path:
    path = Path(out) if out else Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise FileExistsError(f"run directory {path} is not empty; choose another --out or pass --overwrite")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _data_folder(dataset: str, data) -> Path:
    """The folder of a benchmark's files; a FileNotFoundError naming what is missing and where.

    ``data`` (a folder holding ``<dataset>/``) if given, else ``$BFTBIO_DATA`` or the copy
    that ships with bftbio. The files expected are those the packaged copy lists.
    """
    from .datasets import dataset_dir, packaged_sources

    if data is not None and not Path(data).is_dir():
        raise FileNotFoundError(f"--data {data}: no such folder. Give a folder that holds geneagent/ and gene2vec/ "
                                "(as data/benchmarks in the repository), or leave --data out to use the packaged copy.")
    folder = dataset_dir(dataset, Path(data) / dataset if data is not None else None)
    expected = [f for f in packaged_sources()["datasets"][dataset]["files"] if f != "LICENSE"]
    missing = [f for f in expected if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} lacks {len(missing)} of the {len(expected)} {dataset} files the main job reads "
            f"(first: {missing[0]}). Copy them from the packaged data/benchmarks/{dataset}, or leave --data "
            "(and $BFTBIO_DATA) unset to use the packaged copy.")
    return folder


def run_main_job(
    out: str | Path | None = None,
    *,
    config: RunConfig | dict | str | os.PathLike | None = None,
    quick: bool = False,
    overwrite: bool = False,
    data: str | Path | None = None,
    train: bool | None = None,
) -> Path:
    """Run the main job and return its run directory.

    Parameters
    ----------
    out
        The run directory (default ``runs/<date-time>``); it must be empty or new
        unless ``overwrite``.
    config
        A :class:`RunConfig`, a dict of its fields or a YAML file of them; default
        the default budget (about 4 minutes on 2 CPU cores with an empty cache; with
        ``train=True`` about 6 minutes more).
    quick
        Start from :meth:`RunConfig.quick` (smaller budgets: a smoke run) instead of the default.
    overwrite
        Allow writing into a non-empty run directory.
    data
        Folder holding the benchmark data (``geneagent/``, ``gene2vec/``); default
        ``$BFTBIO_DATA``, else the copy that ships with bftbio. A folder that does not
        exist or lacks a file is a FileNotFoundError before any work starts.
    train
        Fine-tune and compare the adapters (overrides ``config.train``; default off:
        nothing is trained and naming uses the adapter that ships with bftbio).

    Returns
    -------
    The run directory: ``report.md``, ``run.log``, ``settings.json``, ``adapters/``,
    ``store.sqlite`` and the tables (``*.csv``) and figures (``*.png``) of the report.
    """
    if isinstance(config, RunConfig):
        cfg = config
    elif isinstance(config, dict):
        cfg = RunConfig.from_dict(config, quick=quick)
    elif config is not None:
        cfg = RunConfig.from_yaml(config, quick=quick)
    else:
        cfg = RunConfig.quick() if quick else RunConfig()
    if train is not None:
        cfg = dataclasses.replace(cfg, train=train)
    # Check the data before any work: a wrong --data fails at once, not after the training.
    geneagent = _data_folder("geneagent", data)
    gene2vec = _data_folder("gene2vec", data)
    path = _prepare_out(out, overwrite)
    handler = logging.FileHandler(path / "run.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    if logger.level > logging.INFO or logger.level == logging.NOTSET:
        settings.verbosity = "info"
    store = _RecordingStore()
    started = time.perf_counter()
    steps: list[tuple[str, float]] = []
    report: dict[str, Any] = {"config": cfg, "quick": quick}

    plan = ["knowledge base", *(["fine-tuning"] if cfg.train else []), "example profiles",
            "gene-gene interactions", "perturbation (simulated)", "gene-set naming"]

    def run_step(name: str, work):
        """One step: say it starts (i/n), run it, record and say its time."""
        logger.info("step %d/%d: %s", plan.index(name) + 1, len(plan), name)
        t0 = time.perf_counter()
        result = work()
        steps.append((name, time.perf_counter() - t0))
        logger.info("step done: %s, %.1f s", name, steps[-1][1])
        return result

    try:
        report["data"] = {"geneagent": geneagent, "gene2vec": gene2vec}
        report["kb"] = run_step("knowledge base", lambda: _knowledge(path))
        adapters = {}
        if cfg.train:
            held_out = _interaction_held_out_genes(cfg, gene2vec)
            report["training"], adapters = run_step("fine-tuning",
                                                    lambda: _training(path, cfg, geneagent, held_out))
        else:
            logger.info("fine-tuning: not asked for (bftbio run --train adds it); the job uses the base model "
                        "and, for naming, the adapter that ships with bftbio")
        models = {"base": None, **{loss.upper(): adapter for loss, adapter in adapters.items()}}
        report["profiles"] = run_step("example profiles", lambda: _demo_profiles(path, cfg, models, store))
        report["interactions"] = run_step("gene-gene interactions",
                                          lambda: _interactions(path, cfg, models, gene2vec, store))
        report["perturbation"] = run_step("perturbation (simulated)",
                                          lambda: _perturbation(path, cfg, models, gene2vec, store))
        report["naming"] = run_step("gene-set naming", lambda: _naming(path, cfg, geneagent, store))

        kept = [ns for ns in store.used if ns.split("-")[0] in _STORE_KINDS]
        store.export(path / "store.sqlite", namespaces=sorted(kept), overwrite=True)
        total = time.perf_counter() - started
        report["steps"], report["total"] = steps, total
        _write_report(path, report)
        print("\n".join(_summary(report, path)))
    finally:
        logger.removeHandler(handler)
        handler.close()
        store.close()
    return path


# -- steps --------------------------------------------------------------------------------
def _knowledge(path: Path) -> dict:
    from . import knowledge

    table = knowledge.genes()
    resolved = knowledge.resolve_symbols(DEMO_NAMES, warn=False)
    resolved.rename("official symbol").rename_axis("name").to_frame().to_csv(path / "symbol_resolution.csv")
    return {
        "facts": {
            "genes": len(table),
            "protein-coding genes": int((table["type"] == "protein-coding").sum()),
            "GO BP gene sets (3-100 genes, propagated)": len(knowledge.gene_sets("BP", min_size=3, max_size=100)),
        },
        "resolved": resolved,
        "provenance": knowledge.provenance(),
    }


def _interaction_held_out_genes(cfg: RunConfig, gene2vec: Path) -> list[str]:
    """The genes of the sampled validation and test pairs: training never sees them."""
    from .datasets import gene2vec_interactions
    from .tasks import sample_pairs

    genes: set[str] = set()
    for split, n in zip(("validation", "test"), cfg.interaction_genes[1:]):
        pairs = sample_pairs(gene2vec_interactions(split, path=gene2vec), n, seed=cfg.seed)
        genes |= set(pairs["gene_a"]) | set(pairs["gene_b"])
    return sorted(genes)


def _train_config(cfg: RunConfig, loss: str, geneagent: Path | None, held_out: list[str]):
    from .train import TrainConfig

    return TrainConfig(loss=loss, n_genes=cfg.n_genes, n_gene_sets=cfg.n_gene_sets, num_epochs=cfg.num_epochs,
                       max_steps=cfg.max_steps, seed=cfg.seed, exclude="geneagent" if geneagent else None,
                       benchmark_data=str(geneagent) if geneagent else None, exclude_genes=held_out,
                       logging_steps=2)


def _cached_adapter(config) -> tuple[Path, bool]:
    """Train into a cache folder named by the configuration's hash; reuse a finished run."""
    from .train import finetune

    values = {k: v for k, v in config.to_dict().items() if k not in ("output_dir", "overwrite", "benchmark_data")}
    key = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:12]
    folder = Path(settings.cachedir) / "adapters" / f"{config.loss}-{key}"
    if (folder / "bftbio_provenance.json").exists():
        logger.info("reusing the finished %s run in %s", config.loss, folder)
        return folder, True
    finetune(config=dataclasses.replace(config, output_dir=str(folder)))
    return folder, False


def _training(path: Path, cfg: RunConfig, geneagent: Path | None, held_out: list[str]):
    import pandas as pd

    rows, logs, adapters = [], {}, {}
    for loss in cfg.losses:
        folder, reused = _cached_adapter(_train_config(cfg, loss, geneagent, held_out))
        target = path / "adapters" / loss
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("checkpoint-*"), dirs_exist_ok=True)
        adapters[loss] = target
        prov = json.loads((folder / "bftbio_provenance.json").read_text())
        logs[loss] = json.loads((folder / "log_history.json").read_text())
        rows.append({"loss": loss, "steps": prov["steps"], "train_examples": prov["n_train_examples"],
                     "validation_examples": prov["n_validation_examples"],
                     "validation_ce_before": prov["validation_ce_before"],
                     "validation_ce_after": prov["validation_ce_after"], "train_seconds": prov["train_seconds"],
                     "reused_from_cache": reused})
    table = pd.DataFrame(rows)
    table.to_csv(path / "training.csv", index=False)
    _training_figure(logs, path / "training.png")
    data_prov = json.loads((adapters[cfg.losses[0]] / "bftbio_provenance.json").read_text())["data"]
    return {"table": table, "held_out_genes": len(held_out), "data": data_prov}, adapters


def _demo_profiles(path: Path, cfg: RunConfig, models: dict, store: Store):
    import pandas as pd

    from .embed import gene_profiles

    table = pd.DataFrame({"gene": DEMO_GENES})
    table["knowledge"] = gene_profiles(DEMO_GENES, source="knowledge", store=store)["profile"].tolist()
    for label, adapter in models.items():
        texts = gene_profiles(DEMO_GENES, adapter=adapter, max_new_tokens=cfg.profile_tokens, store=store)
        table[label] = texts["profile"].tolist()
    table.to_csv(path / "profiles.csv", index=False)
    return table


def _embedding_methods(cfg: RunConfig, models: dict, store: Store) -> dict:
    """``{method: embed_genes options}``: knowledge, and each model with each source."""
    methods = {"knowledge": {"source": "knowledge", "store": store}}
    for source in cfg.sources:
        for label, adapter in models.items():
            spec = {"source": source, "adapter": adapter, "store": store}
            if source == "profile":
                spec["max_new_tokens"] = cfg.profile_tokens
            methods[f"{source} ({label})"] = spec
    return methods


def _interactions(path: Path, cfg: RunConfig, models: dict, gene2vec: Path, store: Store) -> dict:
    from .pl import roc_curves
    from .tasks import benchmark_interactions

    methods = {**_embedding_methods(cfg, models, store), "random": "random", "annotations": "annotations"}
    sample = dict(zip(("train", "validation", "test"), cfg.interaction_genes))
    table, scores = benchmark_interactions(methods, data=gene2vec, sample_genes=sample, seed=cfg.seed,
                                           combines=("sum", "concat"), return_scores=True)
    table.to_csv(path / "interactions.csv", index=False)
    ax = roc_curves(scores, title="Gene2vec test pairs (sampled genes)")
    ax.figure.savefig(path / "interactions_roc.png", dpi=120, bbox_inches="tight")
    _close(ax.figure)
    wide = table[table["metric"] == "auroc"].pivot_table(index="method", columns="split", values="value", sort=False)
    n = table[table["metric"] == "auroc"].groupby("split")["n"].max().to_dict()
    settings_ = table.drop_duplicates("method").set_index("method")["setting"]
    wide = wide.reindex(columns=[c for c in ("validation", "test") if c in wide.columns]).reset_index()
    if "test" in wide.columns:
        spans = _auroc_intervals(scores, seed=cfg.seed)
        wide.insert(wide.columns.get_loc("test") + 1, "test 95% interval", wide["method"].map(spans))
    wide["chosen on validation"] = wide["method"].map(settings_).fillna("")
    return {"table": wide, "n": n, "dataset": table["dataset"].iloc[0]}


def _mean_intervals(per_condition, *, seed: int = 0) -> dict:
    """Each method's mean over conditions, as a 95 % percentile bootstrap interval (NaN values left out)."""
    import numpy as np

    from .tasks import paired_bootstrap

    out = {}
    for method, frame in per_condition.dropna(subset=["value"]).groupby("method", sort=False):
        values = frame["value"].to_numpy(dtype=float)
        if len(values) > 1:
            ci = paired_bootstrap(values, np.zeros(len(values)), seed=seed)
            out[method] = f"[{ci['low']:.3f}, {ci['high']:.3f}]"
    return out


def _auroc_intervals(scores, *, n_boot: int = 500, seed: int = 0) -> dict:
    """Each method's test AUROC interval: a percentile bootstrap over the scored pairs."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    out = {}
    for method, frame in scores.dropna(subset=["score"]).groupby("method", sort=False):
        y, s = frame["label"].to_numpy(dtype=int), frame["score"].to_numpy(dtype=float)
        draws = [rng.integers(0, len(y), len(y)) for _ in range(n_boot)]
        aucs = [roc_auc_score(y[i], s[i]) for i in draws if 0 < y[i].sum() < len(i)]
        if aucs:
            out[method] = f"[{np.quantile(aucs, 0.025):.3f}, {np.quantile(aucs, 0.975):.3f}]"
    return out


def _perturbation(path: Path, cfg: RunConfig, models: dict, gene2vec: Path, store: Store) -> dict:
    from .tasks import benchmark_perturbation

    specs = {**_embedding_methods(cfg, models, store), "random": "random"}
    table, per = benchmark_perturbation(specs, seed=cfg.seed, n_cells=cfg.perturbation_cells,
                                        n_genes=cfg.perturbation_genes,
                                        n_conditions=cfg.perturbation_singles + cfg.perturbation_combos,
                                        n_combos=cfg.perturbation_combos, data=gene2vec, per_condition=True)
    table.to_csv(path / "perturbation.csv", index=False)
    subgroups = [g for g in ("unseen_single", "combo_seen0", "combo_seen1", "combo_seen2", "all")
                 if g in set(table["subgroup"])]
    shown = table[(table["metric"] == "pearson_delta") & table["subgroup"].isin(subgroups)]
    wide = shown.pivot_table(index="method", columns="subgroup", values="value", sort=False, dropna=False)
    wide = wide.reindex(columns=subgroups)
    n = shown.groupby("subgroup")["n"].max().reindex(subgroups).to_dict()
    _bars(wide, path / "perturbation.png", ylabel="Pearson r of predicted vs observed change (delta)",
          title=f"SIMULATED Perturb-seq ({cfg.perturbation_cells:,} cells): test conditions")
    if "all" in wide.columns:  # the headline, with its interval over the same conditions
        scored = per[(per["metric"] == "pearson_delta") & per["split"].isin(set(shown["split"]))]
        spans = _mean_intervals(scored, seed=cfg.seed)
        wide.insert(wide.columns.get_loc("all") + 1, "all 95% interval", [spans.get(m, "") for m in wide.index])
    return {"table": wide.reset_index(), "n": n, "dataset": table["dataset"].iloc[0]}


def _naming(path: Path, cfg: RunConfig, geneagent: Path, store: Store) -> dict:
    import pandas as pd

    from .pl import similarity_distributions
    from .tasks import benchmark_gene_set_naming

    # Naming is the shipped naming adapter's job (trained on thousands of gene sets with their
    # evidence); the run's own adapters learn gene knowledge on a small budget and are not shown here.
    verified = (False, True) if cfg.naming_verify else (False,)
    specs = {"base": {"adapter": None}, "shipped adapter": {"adapter": "default", "verify": verified}}
    options = dict(data=geneagent, encoder="default" if cfg.naming_similarity else None, models=specs,
                   max_new_tokens=cfg.naming_tokens, store=store, seed=cfg.seed, return_per_set=True)
    tables, per_sets = [], []
    for datasets, size in ((("NeST", "MSigDB"), {"limit": cfg.naming_sets}), (("GO",), {"sample": cfg.naming_sets})):
        table, per_set = benchmark_gene_set_naming(datasets, **size, **options)
        tables.append(table)
        per_sets.append(per_set)
    table, per_set = pd.concat(tables, ignore_index=True), pd.concat(per_sets, ignore_index=True)
    table.to_csv(path / "gene_set_naming.csv", index=False)
    per_set.to_csv(path / "gene_set_naming_per_set.csv", index=False)
    axes = similarity_distributions(per_set, value_key="similarity" if cfg.naming_similarity else "rougeL")
    figure = axes.flat[0].figure if hasattr(axes, "flat") else axes.figure
    figure.savefig(path / "gene_set_naming.png", dpi=120, bbox_inches="tight")
    _close(figure)
    import numpy as np

    from .tasks import HEADLINE_ENRICHMENT, paired_bootstrap

    metrics = ["rougeL", "similarity", "percentile", "flagged", "wall_s"]
    wides = {}
    for dataset, frame in table.groupby("dataset", sort=False):
        wide = frame.pivot_table(index="method", columns="metric", values="value", sort=False)
        wide = wide.reindex(columns=[m for m in metrics if m in wide.columns])
        # Intervals over the sets: of each method's mean ROUGE-L, and of its paired difference
        # from the top term of the same evidence (the anchor every model must beat).
        sets = per_set[per_set["dataset"] == dataset].pivot_table(index="set_id", columns="method", values="rougeL")
        anchor = HEADLINE_ENRICHMENT.get(dataset)
        spans, diffs = {}, {}
        for method in wide.index:
            if method not in sets.columns:
                continue
            values = sets[method].dropna()
            if len(values) > 1:
                ci = paired_bootstrap(values.to_numpy(), np.zeros(len(values)), seed=cfg.seed)
                spans[method] = f"[{ci['low']:.3f}, {ci['high']:.3f}]"
            if anchor in sets.columns and method != anchor:
                both = sets[[method, anchor]].dropna()
                if len(both) > 1:
                    d = paired_bootstrap(both[method].to_numpy(), both[anchor].to_numpy(), seed=cfg.seed)
                    diffs[method] = f"{d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
        if "rougeL" in wide.columns:
            wide.insert(wide.columns.get_loc("rougeL") + 1, "rougeL 95% interval", pd.Series(spans))
            wide.insert(wide.columns.get_loc("rougeL") + 2, "rougeL − top term", pd.Series(diffs))
        wides[dataset] = (wide.reset_index(), int(frame["n"].max()))
    background = table.loc[table["metric"] == "background_n", "value"]
    return {"tables": wides, "background_n": int(background.max()) if len(background) else None}


# -- figures ------------------------------------------------------------------------------
def _close(figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(figure)


def _training_figure(logs: dict, target: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for loss, history in logs.items():
        rows = [r for r in history if "ce" in r]
        axes[0].plot([r["step"] for r in rows], [r["ce"] for r in rows], marker="o", label=loss)
        weights = [r for r in rows if "mean_sample_weight" in r]
        if weights and loss.startswith("bft"):
            axes[1].plot([r["step"] for r in weights], [r["mean_sample_weight"] for r in weights], marker="o",
                         label=loss)
    axes[0].set(xlabel="optimiser step", ylabel="cross-entropy of the targets", title="Training batches")
    axes[1].set(xlabel="optimiser step", ylabel="mean sample weight s_b", title="BFT sample weights",
                ylim=(0, 1.02))
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=120)
    plt.close(fig)


def _bars(wide, target: Path, *, ylabel: str, title: str) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(max(6, 1.6 * wide.shape[1] + 3), 4))
    width = 0.8 / max(len(wide), 1)
    x = np.arange(wide.shape[1])
    colors = plt.get_cmap("tab20").colors  # one colour per method (tab10 repeats after ten)
    for i, (method, row) in enumerate(wide.iterrows()):
        ax.bar(x + i * width - 0.4 + width / 2, row.to_numpy(dtype=float), width, label=method,
               color=colors[i % len(colors)])
    ax.set_xticks(x, list(wide.columns))
    ax.axhline(0, color="black", lw=0.8)
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(target, dpi=120, bbox_inches="tight")
    plt.close(fig)


# -- the report ---------------------------------------------------------------------------
def _fmt(value) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"


def _summary(r: dict, path: Path) -> list[str]:
    """The few lines the terminal shows at the end: each task's headline beside its anchor and baseline."""
    lines = [f"bftbio run finished in {r['total']:.0f} s{' (quick settings: a smoke run)' if r['quick'] else ''}"]
    if r.get("training") is not None:
        table = r["training"]["table"]
        lines.append("  fine-tuning: " + ", ".join(f"{row.loss} validation CE {row.validation_ce_before:.2f} -> "
                                                   f"{row.validation_ce_after:.2f}" for row in table.itertuples()))
    it = r["interactions"]
    wide = it["table"].set_index("method")
    test = wide["test"] if "test" in wide.columns else None
    if test is not None:
        shown = [m for m in test.index if m not in ("random", "prior")][:3] + [m for m in ("random", "prior")
                                                                              if m in test.index]
        lines.append(f"  interactions, Gene2vec test ({it['n'].get('test', '?')} pairs), AUROC: "
                     + " | ".join(f"{m} {_fmt(test[m])}" for m in shown))
    pt = r["perturbation"]["table"].set_index("method")
    column = "all" if "all" in pt.columns else pt.columns[-1]
    values = pt[column].dropna()
    baselines = [m for m in ("TrainMean", "Additive") if m in values.index]
    models = values.drop(baselines + [m for m in values.index if "random" in m or m == "NoChange"], errors="ignore")
    shown = ([models.idxmax()] if len(models) else []) + baselines
    lines.append(f"  perturbation (SIMULATED), Pearson delta ({column}): best model "
                 + " | ".join(f"{m} {_fmt(values[m])}" for m in shown))
    from .tasks import HEADLINE_ENRICHMENT  # the top term of the very evidence the models read

    for dataset, (wide, n) in r["naming"]["tables"].items():
        scores = wide.set_index("method")["rougeL"]
        top = HEADLINE_ENRICHMENT.get(dataset)
        shown = [m for m in ("shipped adapter", top, "base", "GeneAgent (published)") if m in scores.index]
        lines.append(f"  naming {dataset} ({n} sets), ROUGE-L: "
                     + " | ".join(f"{m.split(' (')[0] if m == top else m} {_fmt(scores[m])}" for m in shown))
    lines.append(f"  report: {path / 'report.md'}")
    return lines


def _training_section(cfg: RunConfig, tr: dict) -> list[str]:
    """The report's fine-tuning section, for a run with ``--train``."""
    return [
        "## Fine-tuning",
        "",
        f"LoRA on the default model, {', '.join(cfg.losses)} on the same data and budget "
        f"({tr['data'].get('n_records', {}).get('train', '?')} training records from "
        f"{tr['data'].get('n_genes', {}).get('train', '?')} genes and "
        f"{tr['data'].get('n_gene_sets', {}).get('train', '?')} GO terms; the GeneAgent benchmark's sets "
        f"({tr['data'].get('exclusion', {}).get('n_terms_excluded', 0):,} related GO terms) and "
        f"{tr['held_out_genes']} genes of the interaction validation and test pairs kept out). "
        "Validation cross-entropy is on held-out genes and GO terms. Adapters: `adapters/`; table: `training.csv`.",
        "",
        _markdown_table(tr["table"]),
        "",
        "![training](training.png)",
        "",
        "*Left: cross-entropy of the training batches by step, per loss. Right: the mean BFT sample weight "
        "s_b = 1 - p_b (p_b the minimum group confidence); near 1 means every sample still counts fully.*",
        "",
    ]


def _write_report(path: Path, r: dict) -> None:
    cfg: RunConfig = r["config"]
    kb = r["kb"]
    prov = kb["provenance"]
    tr = r.get("training")
    lines = [
        "# bftbio run report",
        "",
        f"Finished {datetime.now():%Y-%m-%d %H:%M} in {r['total']:.0f} s{' (quick settings: a smoke run)' if r['quick'] else ''}"
        f" on device `{settings.resolve_device()}`; model `{settings.default_model}`, encoder "
        f"`{settings.default_encoder}`. Settings: `settings.json`; log: `run.log`.",
        "",
        "## Knowledge base",
        "",
        *[f"- {k}: {v:,}" for k, v in kb["facts"].items()],
        "- sources: " + ", ".join(f"{k} {v}" for k, v in prov.get("source_dates", {}).items())
        + " (Debian " + ", ".join(f"{p['debian_package']} {p['debian_version']}"
                                  for p in prov.get("packages", {}).values()) + ")",
        "- symbol resolution: " + ", ".join(f"{n} → {s if isinstance(s, str) else '(unknown)'}"
                                            for n, s in kb["resolved"].items()),
        "",
        *(_training_section(cfg, tr) if tr else [
            "## Fine-tuning", "",
            "Not run: this job trains nothing (`bftbio run --train` adds LoRA fine-tuning with "
            f"{', '.join(cfg.losses)} and compares the adapters). The models below are the base model and, for "
            "gene-set naming, the naming adapter that ships with bftbio (`data/adapters/naming`; its training "
            "kept the GeneAgent benchmark's sets and every related GO term out; see docs/training.md).", ""]),
        "## What the models write",
        "",
        f"Profiles of {', '.join(DEMO_GENES)} (first 240 characters; `profiles.csv` has them whole):",
        "",
    ]
    profiles = r["profiles"]
    for column in profiles.columns[1:]:
        lines.append(f"**{column}**")
        lines.append("")
        lines += [f"- {g}: {str(t)[:240].replace(chr(10), ' ')}" for g, t in zip(profiles["gene"], profiles[column])]
        lines.append("")
    if "interactions" in r:
        it = r["interactions"]
        lines += [
            "## Gene–gene interactions",
            "",
            f"{it['dataset']}; pairs: " + ", ".join(f"{k} {v}" for k, v in it["n"].items()) + ". AUROC; "
            "combination (sum or concat of the two genes' vectors) chosen on validation; `prior` always says the "
            "training share of positives, `random` embeddings and `annotations` (GO term counts) are the trivial "
            "baselines; the test interval is a 95 % percentile bootstrap over the test pairs. Table: "
            "`interactions.csv`.",
            "",
            _markdown_table(it["table"]),
            "",
            "![ROC curves](interactions_roc.png)",
            "",
            "*ROC curves of every method on the test pairs; the diagonal is chance.*",
            "",
        ]
    if "perturbation" in r:
        pt = r["perturbation"]
        lines += [
            "## Perturbation response — SIMULATED DATA",
            "",
            f"**Simulated, not measured:** {pt['dataset']}. Real Perturb-seq data cannot reach this machine; the "
            "simulator spreads effects along the Gene2vec network. Pearson r between predicted and observed "
            "expression change on held-out conditions (GEARS simulation split), per subgroup; test conditions: "
            + ", ".join(f"{k} {int(v)}" for k, v in pt["n"].items() if v == v) + "; the interval of `all` is a "
            "95 % percentile bootstrap over those conditions. Table: `perturbation.csv`.",
            "",
            _markdown_table(pt["table"]),
            "",
            "![perturbation](perturbation.png)",
            "",
            "*Bars: Pearson r of predicted vs observed change per method and subgroup, on simulated data. "
            "NoChange predicts no change (r undefined, no bar).*",
            "",
        ]
    if "naming" in r:
        nm = r["naming"]
        lines += [
            "## Gene-set naming beside GeneAgent",
            "",
            f"GeneAgent's benchmark: the first {cfg.naming_sets} NeST and MSigDB sets and a seeded sample of "
            f"{cfg.naming_sets} GO sets. ROUGE-L (stemmed)"
            + (f", cosine similarity of encoder vectors of the predicted and curated names, and the percentile of "
               f"the curated name among {nm['background_n']:,} background process names ranked by similarity to "
               "the prediction. " if nm["background_n"] else " only (`naming_similarity` is off). ") +
            "`base` is SmolLM2-135M-Instruct and `shipped adapter` the same with the naming adapter bftbio ships, "
            "both reading each set's evidence (its top enriched GO terms); `top enriched GO term` is that "
            "evidence with no model (on GO sets with the set's own term and its relatives excluded); "
            "`GeneAgent` and `GPT-4` are their published answers; `shuffled` (other sets' names) is the trivial "
            "baseline. Intervals are 95 % percentile bootstraps over the sets; `rougeL − top term` is the paired "
            "difference from the top term of the same evidence (the anchor a model must beat). `flagged`: share "
            "of answers without a `Process:` header. "
            "Tables: `gene_set_naming.csv`, per set `gene_set_naming_per_set.csv`.",
            "",
        ]
        for dataset, (wide, n) in nm["tables"].items():
            lines += [f"**{dataset}** ({n} sets)", "", _markdown_table(wide), ""]
        lines += [
            "![naming](gene_set_naming.png)",
            "",
            f"*Distribution over gene sets of the {'encoder similarity' if cfg.naming_similarity else 'ROUGE-L'} "
            "between each method's name and the curated name (ECDF: a curve further right names more sets "
            "well), one panel per dataset.*",
            "",
        ]
    lines += [
        "## Steps",
        "",
        *[f"- {name}: {sec:.1f} s" for name, sec in r["steps"]],
        "",
        "## Versions",
        "",
        *[f"- {k}: {v}" for k, v in package_versions().items()],
        "",
    ]
    (path / "report.md").write_text("\n".join(lines))
    (path / "settings.json").write_text(json.dumps(
        {"quick": r["quick"], "config": cfg.to_dict(), "settings": repr(settings),
         "data": {k: str(v) if v else None for k, v in r["data"].items()}, "versions": package_versions()},
        indent=1))


def _markdown_table(frame) -> str:
    """A small DataFrame as a markdown table (no tabulate dependency)."""
    def cell(v):
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, float):
            return "" if v != v else f"{v:.3f}"
        return str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)
