"""Downstream tasks that use gene knowledge and embeddings: gene–gene interactions and
gene-set naming (perturbation response to come). Results are tidy frames: task, dataset,
split, method, metric, value, n.
"""

from ..metrics import rouge_scores
from ._enrichment_names import enrichment_names
from ._geneset_benchmark import benchmark_gene_set_naming
from ._interaction import (
    CLASSIFIERS,
    COMBINES,
    InteractionClassifier,
    combine_pair,
    evaluate_interactions,
    interaction_genes,
    predict_network,
    random_embeddings,
    sample_pairs,
)

__all__ = [
    "CLASSIFIERS",
    "COMBINES",
    "InteractionClassifier",
    "benchmark_gene_set_naming",
    "combine_pair",
    "enrichment_names",
    "evaluate_interactions",
    "interaction_genes",
    "predict_network",
    "random_embeddings",
    "rouge_scores",
    "sample_pairs",
]
