"""Step (with ``--train``): LoRA fine-tuning with each loss on one budget, adapters cached by configuration."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

from .._settings import logger, settings
from ._config import RunConfig
from ._section import Section, markdown_table, save_figure


def held_out_genes(cfg: RunConfig, gene2vec: Path) -> list[str]:
    """The genes of the sampled interaction validation and test pairs: training never sees them."""
    from ..datasets import gene2vec_interactions
    from ..tasks import sample_pairs

    genes: set[str] = set()
    for split, n in zip(("validation", "test"), cfg.interaction_genes[1:]):
        pairs = sample_pairs(gene2vec_interactions(split, path=gene2vec), n, seed=cfg.seed)
        genes |= set(pairs["gene_a"]) | set(pairs["gene_b"])
    return sorted(genes)


def train_config(cfg: RunConfig, loss: str, geneagent: Path | None, held_out: list[str]):
    from ..train import TrainConfig

    return TrainConfig(loss=loss, n_genes=cfg.n_genes, n_gene_sets=cfg.n_gene_sets, num_epochs=cfg.num_epochs,
                       max_steps=cfg.max_steps, seed=cfg.seed, exclude="geneagent" if geneagent else None,
                       benchmark_data=str(geneagent) if geneagent else None, exclude_genes=held_out,
                       logging_steps=2)


def cached_adapter(config) -> tuple[Path, bool]:
    """Train into a cache folder named by the configuration's hash; reuse a finished run."""
    from ..train import finetune

    values = {k: v for k, v in config.to_dict().items() if k not in ("output_dir", "overwrite", "benchmark_data")}
    key = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:12]
    folder = Path(settings.cachedir) / "adapters" / f"{config.loss}-{key}"
    if (folder / "bftbio_provenance.json").exists():
        logger.info("reusing the finished %s run in %s", config.loss, folder)
        return folder, True
    finetune(config=dataclasses.replace(config, output_dir=str(folder)))
    return folder, False


def training_step(path: Path, cfg: RunConfig, geneagent: Path | None,
                  held_out: list[str]) -> tuple[Section, dict[str, Path]]:
    """Train (or reuse) one adapter per loss; the section and ``{loss: adapter folder}``."""
    import pandas as pd

    from ..pl import training_curves

    rows, history, adapters = [], [], {}
    for loss in cfg.losses:
        folder, reused = cached_adapter(train_config(cfg, loss, geneagent, held_out))
        target = path / "adapters" / loss
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("checkpoint-*"), dirs_exist_ok=True)
        adapters[loss] = target
        prov = json.loads((folder / "bftbio_provenance.json").read_text())
        for entry in json.loads((folder / "log_history.json").read_text()):
            history += [{"loss": loss, "step": entry["step"], "metric": k, "value": entry[k]}
                        for k in ("ce", "mean_sample_weight") if k in entry]
        rows.append({"loss": loss, "steps": prov["steps"], "train_examples": prov["n_train_examples"],
                     "validation_examples": prov["n_validation_examples"],
                     "validation_ce_before": prov["validation_ce_before"],
                     "validation_ce_after": prov["validation_ce_after"], "train_seconds": prov["train_seconds"],
                     "reused_from_cache": reused})
    table = pd.DataFrame(rows)
    table.to_csv(path / "training.csv", index=False)
    history = pd.DataFrame(history, columns=["loss", "step", "metric", "value"])
    history.to_csv(path / "training_log.csv", index=False)
    axes = training_curves(history)
    save_figure(axes[0].figure, path / "training.png")

    data = json.loads((adapters[cfg.losses[0]] / "bftbio_provenance.json").read_text())["data"]
    results = table.melt(id_vars="loss", value_vars=["validation_ce_before", "validation_ce_after"],
                         var_name="metric").rename(columns={"loss": "method"})
    results.insert(0, "task", "training")
    results.insert(1, "dataset", "knowledge snapshot (held-out genes and GO terms)")
    results.insert(2, "split", "validation")
    return Section(
        "training",
        fields={
            "losses": ", ".join(cfg.losses),
            "n_records": data.get("n_records", {}).get("train", "?"),
            "n_genes": data.get("n_genes", {}).get("train", "?"),
            "n_terms": data.get("n_gene_sets", {}).get("train", "?"),
            "n_excluded": f"{data.get('exclusion', {}).get('n_terms_excluded', 0):,}",
            "held_out": len(held_out),
            "table": markdown_table(table),
        },
        results=results,
        summary=["  fine-tuning: " + ", ".join(f"{row.loss} validation CE {row.validation_ce_before:.2f} -> "
                                                f"{row.validation_ce_after:.2f}" for row in table.itertuples())],
    ), adapters


def not_trained(cfg: RunConfig) -> Section:
    """The report's fine-tuning section when nothing was trained."""
    return Section("not_trained", fields={"losses": ", ".join(cfg.losses)})
