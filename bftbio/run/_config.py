"""The main job's settings: one dataclass, read from a dict, a YAML file or the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .._config import Config, option


@dataclass
class RunConfig(Config):
    """The main job's settings (see each field's help); ``bftbio run --config run.yaml``.

    Examples
    --------
    >>> RunConfig().losses
    ['bft', 'sft']
    >>> RunConfig.quick().max_steps
    4
    """

    _what = "run options"

    seed: int = option(0, "Seeds the training data, the samples of genes and gene sets, and the simulation.")
    # Training.
    train: bool = option(False, "Fine-tune with each of `losses` and compare the adapters beside the base model "
                     "(about 6 minutes more on 2 CPU cores with the default budget). Off: nothing is trained; naming uses the adapter "
                     "that ships with bftbio.")
    losses: list = option(["bft", "sft"], "Losses to fine-tune with, on the same budget (first: the one the run features).")
    n_genes: int = option(24, "Genes drawn for profile examples of the training data.")
    n_gene_sets: int = option(12, "GO BP terms drawn for gene-set examples (the GeneAgent sets are kept out).")
    num_epochs: float = option(1.0, "Passes over the training data.")
    max_steps: int = option(-1, "Stop training after this many steps (-1: use num_epochs).")
    # Embeddings and gene-gene interactions.
    interaction_genes: list = option([500, 150, 350], "Genes sampled from the Gene2vec train, validation, test splits.")
    sources: list = option(["hidden"], "Model embedding sources besides the knowledge profiles: 'hidden' and/or "
                       "'profile' (model-written profiles: the paper's route, slow on a CPU).")
    profile_tokens: int = option(64, "Length of model-written profiles, in tokens.")
    # Perturbation (simulated).
    perturbation_cells: int = option(6000, "Simulated cells.")
    perturbation_genes: int = option(1000, "Simulated measured genes.")
    perturbation_singles: int = option(60, "Simulated single-gene perturbations.")
    perturbation_combos: int = option(20, "Simulated two-gene perturbations.")
    # Gene-set naming.
    naming_sets: int = option(10, "Gene sets per dataset: the first N of NeST and MSigDB, a seeded sample of N of GO.")
    naming_verify: bool = option(False, "Also name the sets with the shipped naming adapter plus a verification round.")
    naming_tokens: int = option(64, "Length of each naming answer, in tokens.")
    naming_similarity: bool = option(True, "Score names by encoder similarity and background percentile too (the "
                                 "first run encodes ~28,000 GO names once); False: ROUGE only.")

    @classmethod
    def quick(cls, **overrides) -> RunConfig:
        """Smaller budgets than the default (a smoke run, not a measurement)."""
        values = dict(n_genes=8, n_gene_sets=4, max_steps=4, interaction_genes=[300, 100, 200],
                      perturbation_cells=2000, perturbation_genes=400, perturbation_singles=30,
                      perturbation_combos=10, naming_sets=3, naming_verify=False, naming_tokens=48,
                      naming_similarity=False)
        return cls(**{**values, **overrides})

    @classmethod
    def from_dict(cls, values: dict, *, quick: bool = False) -> RunConfig:
        """From a mapping of field: value; with ``quick`` the values override the quick budget."""
        base = super().from_dict(values)  # checks the names
        return cls.quick(**values) if quick else base

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, *, quick: bool = False) -> RunConfig:
        return cls.from_dict(cls.read_yaml(path), quick=quick)

    def __post_init__(self) -> None:
        from ..train import LOSSES

        bad = [x for x in self.losses if x not in LOSSES]
        if not self.losses or bad:
            raise ValueError(f"losses must be a non-empty list of {LOSSES}, got {self.losses!r}")
        bad = [x for x in self.sources if x not in ("hidden", "profile")]
        if bad:
            raise ValueError(f"sources may hold 'hidden' and 'profile', got {bad}")
        if len(self.interaction_genes) != 3 or min(self.interaction_genes) < 2:
            raise ValueError(f"interaction_genes needs three sizes >= 2 (train, validation, test), "
                             f"got {self.interaction_genes!r}")
        if self.naming_sets < 1:
            raise ValueError(f"naming_sets must be >= 1, got {self.naming_sets}")
