"""Gene-set naming, one room: evidence, naming, verification, scoring, baselines, benchmark.

* :func:`set_evidence`: each set's top enriched GO terms (:mod:`._evidence`);
* :func:`name_gene_sets`: a language model names each set from its evidence, by
  writing or by ranking the evidence's terms (:mod:`._naming`), with the model's
  answers and scores cached (:mod:`._model_calls`) and an optional second round of
  verification (:mod:`._verify`);
* :func:`score_process_names`, :func:`process_name_scores`: GeneAgent's metrics
  (:mod:`._scores`);
* :func:`enrichment_names`, :func:`evidence_rule_names`: names without a model
  (:mod:`._baselines`); :func:`paired_bootstrap`, :func:`mean_interval` (:mod:`._intervals`);
* :func:`benchmark_gene_set_naming`: all of it on GeneAgent's gene sets (:mod:`._benchmark`).

The prompt itself lives in :mod:`bftbio.prompts`, shared with :mod:`bftbio.train`.
"""

from ._baselines import EVIDENCE_RULES, enrichment_names, evidence_rule_names
from ._benchmark import EVIDENCE_EXCLUSION, HEADLINE_ENRICHMENT, benchmark_gene_set_naming
from ._evidence import set_evidence
from ._intervals import mean_interval, paired_bootstrap
from ._model_calls import parse_answer
from ._naming import name_gene_sets
from ._scores import process_name_scores, score_process_names

__all__ = [
    "EVIDENCE_EXCLUSION",
    "EVIDENCE_RULES",
    "HEADLINE_ENRICHMENT",
    "benchmark_gene_set_naming",
    "enrichment_names",
    "evidence_rule_names",
    "mean_interval",
    "name_gene_sets",
    "paired_bootstrap",
    "parse_answer",
    "process_name_scores",
    "score_process_names",
    "set_evidence",
]
