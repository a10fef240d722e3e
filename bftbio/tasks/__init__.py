"""Downstream tasks that use gene knowledge and embeddings: gene–gene interactions,
gene-set naming and perturbation response. Results are tidy frames: task, dataset,
split, method, metric, value, n.
"""

from ..metrics import rouge_scores
from ._enrichment_names import enrichment_names
from ._geneset_benchmark import EVIDENCE_EXCLUSION, HEADLINE_ENRICHMENT, benchmark_gene_set_naming
from ._geneset_scores import (
    EVIDENCE_RULES,
    evidence_rule_names,
    mean_interval,
    paired_bootstrap,
    process_name_scores,
    score_process_names,
)
from ._genesets import name_gene_sets, parse_answer, set_evidence
from ._interaction import (
    CLASSIFIERS,
    COMBINES,
    InteractionClassifier,
    annotation_counts,
    benchmark_interactions,
    combine_pair,
    evaluate_interactions,
    interaction_genes,
    predict_network,
    random_embeddings,
    sample_pairs,
)
from ._perturbation import (
    Additive,
    EmbeddingRidge,
    LinearModel,
    NoChange,
    PerturbationSplit,
    TrainMean,
    benchmark_perturbation,
    evaluate_perturbation,
    parse_condition,
    perturbation_metrics,
    perturbation_split,
    prepare_perturbation,
)

__all__ = [
    "EVIDENCE_EXCLUSION",
    "HEADLINE_ENRICHMENT",
    "EVIDENCE_RULES",
    "evidence_rule_names",
    "mean_interval",
    "paired_bootstrap",
    "set_evidence",
    "Additive",
    "CLASSIFIERS",
    "COMBINES",
    "EmbeddingRidge",
    "InteractionClassifier",
    "LinearModel",
    "NoChange",
    "PerturbationSplit",
    "TrainMean",
    "annotation_counts",
    "benchmark_gene_set_naming",
    "benchmark_interactions",
    "benchmark_perturbation",
    "combine_pair",
    "enrichment_names",
    "evaluate_interactions",
    "evaluate_perturbation",
    "interaction_genes",
    "name_gene_sets",
    "parse_answer",
    "parse_condition",
    "perturbation_metrics",
    "perturbation_split",
    "predict_network",
    "prepare_perturbation",
    "process_name_scores",
    "random_embeddings",
    "rouge_scores",
    "sample_pairs",
    "score_process_names",
]
