"""LoRA fine-tuning with Balanced Fine-Tuning (Tang et al., arXiv:2511.21075), SFT and DFT.

>>> from bftbio import train
>>> path = train.finetune(loss="bft", max_steps=200, output_dir="runs/bft")  # doctest: +SKIP
>>> llm = train.load(path)                                                   # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from ._config import TrainConfig

# Everything else needs torch: it is imported on first use, so that `bftbio --help` and
# the config of a run stay light (PEP 562).
_LAZY = {
    "TrainingData": "_data", "benchmark_exclusion": "_data", "build_training_data": "_data", "read_records": "_data",
    "compare_losses": "_evaluate", "evaluate": "_evaluate",
    "export_adapter": "_export",
    "finetune": "_finetune", "load": "_finetune", "DEEPSPEED_CONFIGS": "_finetune", "deepspeed_config": "_finetune",
    "LOSSES": "_loss", "lm_loss": "_loss",
    "build_naming_data": "_naming_data", "naming_answer": "_naming_data",
    "knowledge_probes": "_probes",
}

if TYPE_CHECKING:  # for readers and static tools
    from ._data import TrainingData, benchmark_exclusion, build_training_data, read_records
    from ._evaluate import compare_losses, evaluate
    from ._export import export_adapter
    from ._finetune import DEEPSPEED_CONFIGS, deepspeed_config, finetune, load
    from ._loss import LOSSES, lm_loss
    from ._naming_data import build_naming_data, naming_answer
    from ._probes import knowledge_probes


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEEPSPEED_CONFIGS",
    "LOSSES",
    "TrainConfig",
    "TrainingData",
    "benchmark_exclusion",
    "build_naming_data",
    "build_training_data",
    "compare_losses",
    "deepspeed_config",
    "evaluate",
    "export_adapter",
    "finetune",
    "knowledge_probes",
    "lm_loss",
    "naming_answer",
    "load",
    "read_records",
]
