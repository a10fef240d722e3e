"""run_main_job: check the data, prepare the run directory, run the steps in order, write the report."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from datetime import datetime
from pathlib import Path

from .._settings import logger, settings
from ._config import RunConfig


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
    from ..datasets import dataset_dir, packaged_sources

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
    from ._store import STORE_KINDS, RecordingStore

    store = RecordingStore()
    started = time.perf_counter()
    steps: list[tuple[str, float]] = []
    plan = ["knowledge base", *(["fine-tuning"] if cfg.train else []), "example profiles",
            "gene-gene interactions", "perturbation (simulated)", "gene-set naming"]

    def run_step(name: str, work, *args):
        """One step: say it starts (i/n), run it, record and say its time."""
        logger.info("step %d/%d: %s", plan.index(name) + 1, len(plan), name)
        t0 = time.perf_counter()
        result = work(*args)
        steps.append((name, time.perf_counter() - t0))
        logger.info("step done: %s, %.1f s", name, steps[-1][1])
        return result

    from ._interactions import interactions_step
    from ._knowledge import knowledge_step
    from ._naming import naming_step
    from ._perturbation import perturbation_step
    from ._profiles import profiles_step
    from ._report import summary, write_report
    from ._training import held_out_genes, not_trained, training_step

    try:
        sections = [run_step("knowledge base", knowledge_step, path)]
        adapters = {}
        if cfg.train:
            held_out = held_out_genes(cfg, gene2vec)
            trained, adapters = run_step("fine-tuning", training_step, path, cfg, geneagent, held_out)
            sections.append(trained)
        else:
            logger.info("fine-tuning: not asked for (bftbio run --train adds it); the job uses the base model "
                        "and, for naming, the adapter that ships with bftbio")
            sections.append(not_trained(cfg))
        models = {"base": None, **{loss.upper(): adapter for loss, adapter in adapters.items()}}
        sections += [
            run_step("example profiles", profiles_step, path, cfg, models, store),
            run_step("gene-gene interactions", interactions_step, path, cfg, models, gene2vec, store),
            run_step("perturbation (simulated)", perturbation_step, path, cfg, models, gene2vec, store),
            run_step("gene-set naming", naming_step, path, cfg, geneagent, store),
        ]
        kept = [ns for ns in store.used if ns.split("-")[0] in STORE_KINDS]
        store.export(path / "store.sqlite", namespaces=sorted(kept), overwrite=True)
        total = time.perf_counter() - started
        write_report(path, sections, cfg=cfg, quick=quick, data={"geneagent": geneagent, "gene2vec": gene2vec},
                     steps=steps, total=total)
        print("\n".join(summary(sections, path, total=total, quick=quick)))
    finally:
        logger.removeHandler(handler)
        handler.close()
        store.close()
    return path
