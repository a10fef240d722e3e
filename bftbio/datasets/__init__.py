"""Benchmark data: readers of local copies, explicit checksummed downloads."""

from ._files import dataset_dir
from ._gene2vec import download_gene2vec, gene2vec_interactions
from ._geneagent import (
    download_geneagent,
    geneagent_answers,
    geneagent_gene_sets,
    parse_process_name,
)

__all__ = [
    "dataset_dir",
    "download_gene2vec",
    "download_geneagent",
    "gene2vec_interactions",
    "geneagent_answers",
    "geneagent_gene_sets",
    "parse_process_name",
]
