"""LoRA fine-tuning with Balanced Fine-Tuning (Tang et al., arXiv:2511.21075), SFT and DFT.

>>> from bftbio import train
>>> path = train.finetune(loss="bft", max_steps=200, output_dir="runs/bft")  # doctest: +SKIP
>>> llm = train.load(path)                                                   # doctest: +SKIP
"""

from ._config import TrainConfig
from ._data import TrainingData, benchmark_exclusion, build_training_data, read_records
from ._evaluate import compare_losses, evaluate
from ._export import export_adapter
from ._finetune import finetune, load
from ._loss import LOSSES, lm_loss
from ._naming_data import build_naming_data, naming_answer
from ._probes import knowledge_probes

__all__ = [
    "LOSSES",
    "TrainConfig",
    "TrainingData",
    "benchmark_exclusion",
    "build_naming_data",
    "build_training_data",
    "compare_losses",
    "evaluate",
    "export_adapter",
    "finetune",
    "knowledge_probes",
    "lm_loss",
    "naming_answer",
    "load",
    "read_records",
]
