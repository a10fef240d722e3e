"""The training configuration: one dataclass for Python, YAML and the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._config import Config, option


@dataclass
class TrainConfig(Config):
    """Everything that defines a fine-tuning run (see each field's help).

    Examples
    --------
    >>> cfg = TrainConfig(loss="sft", max_steps=50)
    >>> cfg.lora_r
    16
    >>> TrainConfig.from_yaml("run.yaml")  # doctest: +SKIP
    >>> TrainConfig().exclude_genes is TrainConfig().exclude_genes  # defaults are never shared
    False
    """

    _what = "training options"

    # Model and loss.
    model: str = option("default", "Base model: 'default' (SmolLM2-135M-Instruct), a Hugging Face id or a local folder.")
    loss: str = option("bft", "Loss: 'sft', 'dft', 'bft' (the paper's released form) or 'bft-local' (the revised form).")
    group_size: int = option(256, "BFT window G: target tokens per group for the minimum group confidence.")
    gamma: float = option(1.0, "BFT exponent: the sample confidence p_b is raised to gamma before s_b = 1 - p_b.")
    # LoRA.
    lora_r: int = option(16, "LoRA rank.")
    lora_alpha: int = option(32, "LoRA alpha (scale = alpha / r).")
    lora_dropout: float = option(0.05, "Dropout on the LoRA branch.")
    target_modules: str = option("all-linear", "Modules that get LoRA: 'all-linear' or a comma-separated list of names.")
    # Optimisation.
    learning_rate: float = option(2e-4, "Peak learning rate (cosine schedule with warm-up).")
    warmup_ratio: float = option(0.05, "Fraction of steps for linear warm-up.")
    weight_decay: float = option(0.0, "AdamW weight decay.")
    num_epochs: float = option(2.0, "Passes over the training data (ignored when max_steps > 0).")
    max_steps: int = option(-1, "Stop after this many optimiser steps (-1: use num_epochs).")
    batch_size: int = option(4, "Samples per device per micro-batch.")
    gradient_accumulation_steps: int = option(1, "Micro-batches per optimiser step.")
    max_length: int = option(256, "Tokens per sample (prompt + answer); longer samples are cut.")
    gradient_checkpointing: bool = option(False, "Recompute activations in backward to save memory (slower).")
    bf16: str = option("auto", "'auto' (bf16 on a GPU that has it), 'yes' or 'no'.")
    deepspeed: str | None = option(None, "A DeepSpeed config (JSON) for multi-GPU runs under `accelerate launch`, e.g. "
                                   "'zero3' for the packaged ZeRO-3 file (needs `pip install bftbio[deepspeed]`).")
    seed: int = option(0, "Seeds data, LoRA initialisation and batch order.")
    # Checkpoints and logs.
    output_dir: str = option("runs/train", "Where the adapter, tokenizer, checkpoints and provenance go.")
    save_steps: int = option(50, "Save a resumable checkpoint every N optimiser steps.")
    logging_steps: int = option(10, "Log loss, mean s_b, mean p_b and cross-entropy every N steps.")
    overwrite: bool = option(False, "Replace a finished run in output_dir (otherwise refuse; unfinished runs resume).")
    # Data.
    task: str = option("knowledge", "Training data: 'knowledge' (gene profiles and gene-set reasoning, "
                   "build_training_data) or 'naming' (gene set + evidence -> process, build_naming_data).")
    data_dir: str | None = option(None, "A folder of records written by TrainingData.to_jsonl (train.jsonl, ...): "
                              "train on it instead of building data.")
    n_terms: int | None = option(None, "task 'naming': GO terms drawn (null: every eligible term).")
    n_genes: int = option(40, "Genes drawn for profile examples (all splits).")
    n_gene_sets: int = option(20, "GO BP terms drawn for gene-set examples (all splits), after the exclusion.")
    wordings: int = option(3, "Question wordings per gene profile in training.")
    exclude: Any = option("geneagent", "Benchmark kept out of training: 'geneagent', null, or {go_ids: [...], gene_sets: [[...]]}.")
    exclude_lineage: bool = option(True, "Exclusion rule: also keep out ancestors and descendants of excluded GO terms.")
    exclude_jaccard: float | None = option(0.5, "Exclusion rule: keep out terms with gene Jaccard >= this (null: off).")
    benchmark_data: str | None = option(None, "Folder of the GeneAgent files (default: $BFTBIO_DATA/geneagent).")
    user_data: str | None = option(None, "Extra prompt/answer pairs to train on (.jsonl or .csv).")
    exclude_genes: list = option([], "Genes never drawn for profile examples (e.g. a benchmark's test genes).")

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
