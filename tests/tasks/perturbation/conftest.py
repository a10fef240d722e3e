"""Shared fixtures of the perturbation tests: a planted linear world and a ring network."""

import itertools

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from bftbio.knowledge import _snapshot
from bftbio.knowledge import genes as kb_genes
from bftbio.tasks import prepare_perturbation

EPS = 0.01  # within-condition noise: +EPS/-EPS in alternate cells, so means are exact
BASE = 12.0  # control expression of every gene; planted deltas stay within +-BASE


def protein_coding(start: int, n: int) -> list[str]:
    table = kb_genes()
    return sorted(table.index[table["type"] == "protein-coding"])[start:start + n]


@pytest.fixture(scope="module")
def planted():
    """A planted linear world: delta(condition) = W @ (sum of its genes' 4-d embeddings), exactly.

    30 perturbed genes (singles) and 15 pairs of them (doubles), 40 measured genes, 4 cells
    per condition (6 controls) whose expression is BASE + delta +- EPS, the same EPS for every
    gene, so a t-test ranks genes by |delta|.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(_snapshot.ENV_VAR, raising=False)
        rng = np.random.default_rng(0)
        perturbed, measured = protein_coding(100, 30), protein_coding(300, 40)
        emb = pd.DataFrame(rng.standard_normal((30, 4)), index=perturbed)
        weights = 0.5 * rng.standard_normal((40, 4))
        pairs = [tuple(p) for p in np.array(list(itertools.combinations(perturbed, 2)))[
            rng.choice(435, size=15, replace=False)]]
        conditions = {"ctrl": np.zeros(40)}
        conditions.update({f"{g}+ctrl": weights @ emb.loc[g].to_numpy() for g in perturbed})
        conditions.update({f"{a}+{b}": weights @ (emb.loc[a] + emb.loc[b]).to_numpy() for a, b in pairs})
        rows, labels = [], []
        for condition, delta in conditions.items():
            n = 6 if condition == "ctrl" else 4
            rows += [BASE + delta + EPS * (-1) ** i for i in range(n)]
            labels += [condition] * n
        adata = ad.AnnData(X=np.array(rows), obs=pd.DataFrame({"condition": labels},
                                                              index=[f"c{i}" for i in range(len(labels))]),
                           var=pd.DataFrame(index=measured))
        prepared = prepare_perturbation(adata.copy())
        yield {"adata": adata, "prepared": prepared, "emb": emb, "truth": conditions, "pairs": pairs,
               "base": BASE}


@pytest.fixture(scope="module")
def ring():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(_snapshot.ENV_VAR, raising=False)
        names = protein_coding(0, 80)
        yield pd.DataFrame([(names[i], names[(i + k) % 80]) for i in range(80) for k in (1, 2, 5)],
                           columns=["gene_a", "gene_b"])
