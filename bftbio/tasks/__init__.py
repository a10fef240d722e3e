"""Downstream tasks that use gene knowledge: gene-set naming (and, to come, interactions
and perturbation response). Results are tidy frames: task, dataset, split, method,
metric, value, n.
"""

from ._enrichment_names import enrichment_names
from ._geneset_benchmark import benchmark_gene_set_naming
from ..metrics import rouge_scores

__all__ = ["benchmark_gene_set_naming", "enrichment_names", "rouge_scores"]
