"""Benchmark data: readers of local copies, explicit checksummed downloads, and a Perturb-seq simulator."""

from ._cells import CELL_DATASETS, cell_dataset
from ._files import dataset_dir, packaged_dir, packaged_sources
from ._gene2vec import download_gene2vec, gene2vec_interactions
from ._geneagent import (
    download_geneagent,
    geneagent_answers,
    geneagent_gene_sets,
    parse_process_name,
    split_answer,
)
from ._gears import (
    adamson2016,
    download_adamson2016,
    download_norman2019,
    download_replogle2022_k562_essential,
    norman2019,
    replogle2022_k562_essential,
)
from ._pairs import gene_pairs
from ._simulate import simulate_perturbseq, simulated_effects

__all__ = [
    "CELL_DATASETS",
    "adamson2016",
    "cell_dataset",
    "dataset_dir",
    "download_adamson2016",
    "download_gene2vec",
    "download_geneagent",
    "download_norman2019",
    "download_replogle2022_k562_essential",
    "gene2vec_interactions",
    "gene_pairs",
    "geneagent_answers",
    "geneagent_gene_sets",
    "norman2019",
    "packaged_dir",
    "packaged_sources",
    "parse_process_name",
    "replogle2022_k562_essential",
    "simulate_perturbseq",
    "simulated_effects",
    "split_answer",
]
