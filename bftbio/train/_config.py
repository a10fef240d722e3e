"""The training configuration: one dataclass for Python, YAML and the command line."""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _f(default, help: str, **kw):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: default, metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


@dataclass
class TrainConfig:
    """Everything that defines a fine-tuning run (see each field's help).

    Examples
    --------
    >>> cfg = TrainConfig(loss="sft", max_steps=50)
    >>> cfg.lora_r
    16
    >>> TrainConfig.from_yaml("run.yaml")  # doctest: +SKIP
    """

    # Model and loss.
    model: str = _f("default", "Base model: 'default' (SmolLM2-135M-Instruct), a Hugging Face id or a local folder.")
    loss: str = _f("bft", "Loss: 'sft', 'dft', 'bft' (the paper's released form) or 'bft-local' (the revised form).")
    group_size: int = _f(256, "BFT window G: target tokens per group for the minimum group confidence.")
    gamma: float = _f(1.0, "BFT exponent: the sample confidence p_b is raised to gamma before s_b = 1 - p_b.")
    # LoRA.
    lora_r: int = _f(16, "LoRA rank.")
    lora_alpha: int = _f(32, "LoRA alpha (scale = alpha / r).")
    lora_dropout: float = _f(0.05, "Dropout on the LoRA branch.")
    target_modules: str = _f("all-linear", "Modules that get LoRA: 'all-linear' or a comma-separated list of names.")
    # Optimisation.
    learning_rate: float = _f(2e-4, "Peak learning rate (cosine schedule with warm-up).")
    warmup_ratio: float = _f(0.05, "Fraction of steps for linear warm-up.")
    weight_decay: float = _f(0.0, "AdamW weight decay.")
    num_epochs: float = _f(2.0, "Passes over the training data (ignored when max_steps > 0).")
    max_steps: int = _f(-1, "Stop after this many optimiser steps (-1: use num_epochs).")
    batch_size: int = _f(4, "Samples per device per micro-batch.")
    gradient_accumulation_steps: int = _f(1, "Micro-batches per optimiser step.")
    max_length: int = _f(256, "Tokens per sample (prompt + answer); longer samples are cut.")
    gradient_checkpointing: bool = _f(False, "Recompute activations in backward to save memory (slower).")
    bf16: str = _f("auto", "'auto' (bf16 on a GPU that has it), 'yes' or 'no'.")
    seed: int = _f(0, "Seeds data, LoRA initialisation and batch order.")
    # Checkpoints and logs.
    output_dir: str = _f("runs/train", "Where the adapter, tokenizer, checkpoints and provenance go.")
    save_steps: int = _f(50, "Save a resumable checkpoint every N optimiser steps.")
    logging_steps: int = _f(10, "Log loss, mean s_b, mean p_b and cross-entropy every N steps.")
    overwrite: bool = _f(False, "Replace a finished run in output_dir (otherwise refuse; unfinished runs resume).")
    # Data.
    task: str = _f("knowledge", "Training data: 'knowledge' (gene profiles and gene-set reasoning, "
                   "build_training_data) or 'naming' (gene set + evidence -> process, build_naming_data).")
    data_dir: str | None = _f(None, "A folder of records written by TrainingData.to_jsonl (train.jsonl, ...): "
                              "train on it instead of building data.")
    n_terms: int | None = _f(None, "task 'naming': GO terms drawn (null: every eligible term).")
    n_genes: int = _f(40, "Genes drawn for profile examples (all splits).")
    n_gene_sets: int = _f(20, "GO BP terms drawn for gene-set examples (all splits), after the exclusion.")
    wordings: int = _f(3, "Question wordings per gene profile in training.")
    exclude: Any = _f("geneagent", "Benchmark kept out of training: 'geneagent', null, or {go_ids: [...], gene_sets: [[...]]}.")
    exclude_lineage: bool = _f(True, "Exclusion rule: also keep out ancestors and descendants of excluded GO terms.")
    exclude_jaccard: float | None = _f(0.5, "Exclusion rule: keep out terms with gene Jaccard >= this (null: off).")
    benchmark_data: str | None = _f(None, "Folder of the GeneAgent files (default: $BFTBIO_DATA/geneagent).")
    user_data: str | None = _f(None, "Extra prompt/answer pairs to train on (.jsonl or .csv).")
    exclude_genes: list = _f([], "Genes never drawn for profile examples (e.g. a benchmark's test genes).")

    def __post_init__(self) -> None:
        from ._loss import LOSSES

        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if isinstance(self.n_terms, str):  # from the command line, where the default None gives no type
            self.n_terms = int(self.n_terms)
        if self.task not in ("knowledge", "naming"):
            raise ValueError(f"task must be 'knowledge' or 'naming', got {self.task!r}")
        if self.bf16 not in ("auto", "yes", "no"):
            raise ValueError(f"bf16 must be 'auto', 'yes' or 'no', got {self.bf16!r}")
        for name in ("group_size", "lora_r", "batch_size", "gradient_accumulation_steps", "max_length", "save_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training options {unknown}; known: {sorted(known)}")
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> TrainConfig:
        import yaml

        with open(path) as fh:
            values = yaml.safe_load(fh) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path} must hold a mapping of option: value")
        return cls.from_dict(values)

    def to_yaml(self, path: str | os.PathLike) -> Path:
        import yaml

        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        return Path(path)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """One ``--field`` option per field, with its help; unset options stay None."""
        for f in dataclasses.fields(cls):
            kind = type(f.default) if f.default is not dataclasses.MISSING and f.default is not None else str
            if kind is bool:
                parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                                    type=lambda s: s.lower() in ("1", "true", "yes"), help=f.metadata["help"])
            else:
                parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                                    type=kind if kind in (int, float) else str, help=f.metadata["help"])
