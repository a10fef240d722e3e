"""Tutorials 01, 03 and 04 run top to bottom with small settings and print sensible results."""

import math
import re

import pytest

from tests.tutorials.conftest import cell_text, run_notebook


def table_after(text: str, header: str) -> list[str]:
    """The lines printed after the line ``header``, up to the first empty line."""
    assert header in text, f"{header!r} not printed:\n{text}"
    out = []
    for line in text[text.index(header) + len(header):].lstrip("\n").splitlines():
        if not line.strip():
            break
        out.append(line)
    return out


def named_values(rows: list[str], n_values: int) -> dict[str, list[float]]:
    """``{name: values}`` of table rows whose last ``n_values`` fields are numbers (NaN allowed)."""
    out = {}
    for row in rows:
        name, *values = row.rsplit(maxsplit=n_values)
        out[name.strip()] = [float(v) for v in values]
    return out


@pytest.mark.slow
def test_gene_embeddings_scanpy():
    nb = run_notebook("01_gene_embeddings_scanpy.ipynb", {"MARKER": "CD79A", "N_NEAREST": 5, "N_NEIGHBORS": 10,
                                                          "N_SEEDS": 2, "N_FOLDS": 3})
    text = cell_text(nb)
    assert re.search(r"^7\d\d of 765 genes have an embedding of 384 dimensions$", text, re.M), text

    # The cell-level benchmark: four figures with intervals per representation.
    rows = table_after(text, "Cell types recovered, mean [95% interval]:")
    assert rows[0].split() == ["metric", "ari_kmeans", "ari_leiden", "f1_knn", "f1_logistic"]
    figures = {}
    for row in rows[2:]:
        name = re.split(r"\s{2,}", row.strip())[0]
        triples = [tuple(map(float, t)) for t in re.findall(r"(-?\d\.\d+) \[(-?\d\.\d+), (-?\d\.\d+)\]", row)]
        assert len(triples) == 4 and all(lo <= v <= hi for v, lo, hi in triples), row
        figures[name] = [v for v, _, _ in triples]
    assert set(figures) == {"PCA of expression", "random gene vectors [top 2 removed]",
                            "random gene vectors [GenePT-w]", "knowledge vectors [top 2 removed]",
                            "knowledge vectors [GenePT-w]",
                            "cell sentences (GenePT-s)"}
    # Ten cell types: chance macro-F1 is about 0.1 and chance ARI 0; every representation is far above.
    assert all(f[0] > 0.2 and f[2] > 0.3 for f in figures.values()), figures

    rows = table_after(text, "CD79A itself is highest in CD19+ B:")
    assert rows[0].split() == ["gene", "cosine", "name", "highest_in"]
    table = [row.split() for row in rows[1:]]
    genes, cosines = [r[0] for r in table], [float(r[1]) for r in table]
    assert len(table) == 5 and "CD79A" not in genes
    assert cosines == sorted(cosines, reverse=True) and all(-1 <= c <= 1 for c in cosines)
    # CD79B, CD79A's partner in the B-cell receptor (Ig-beta), is its nearest gene, and B cells express it most.
    assert genes[0] == "CD79B" and rows[1].endswith("CD19+ B")


@pytest.mark.slow
def test_gene_interactions(shared_data):
    params = {"N_GENES": {"train": 1000, "validation": 300, "test": 500}, "COMBINES": ["sum", "hadamard"],
              "THRESHOLD": 0.8}
    nb = run_notebook("03_gene_interactions.ipynb", params)
    text = cell_text(nb)
    match = re.search(r"Test AUROC, knowledge embeddings: (\S+) \(random vectors (\S+), "
                      r"annotation counts (\S+), prior (\S+)\)", text)
    assert match, text
    knowledge, random, annotations, prior = (float(x) for x in match.groups())
    assert all(0 <= v <= 1 for v in (knowledge, random, annotations))
    assert prior == 0.5
    # Knowledge about unseen genes predicts their interactions; random vectors for them cannot.
    assert knowledge > random + 0.1
    assert re.search(r"^chosen on validation: combine='(sum|hadamard)', classifier='logistic'$", text, re.M)

    match = re.search(r"^(\d+) predicted interactions among 9 genes \(probability >= 0\.8\):$", text, re.M)
    assert match, text
    rows = table_after(text, match.group(0))
    n_edges = int(match.group(1))
    assert 0 < n_edges <= 36, "the p53 genes and the two globins should give at least one strong edge"
    assert rows[0].split() == ["gene_a", "gene_b", "probability"] and len(rows) == n_edges + 1
    assert all(0.8 <= float(row.split()[2]) <= 1 for row in rows[1:])


@pytest.mark.slow
def test_perturbation(shared_data):
    params = {"N_CELLS": 2_000, "N_GENES": 200, "N_CONDITIONS": 30, "N_COMBOS": 8}
    nb = run_notebook("04_perturbation.ipynb", params)
    text = cell_text(nb)
    assert "SIMULATED data: simulated Perturb-seq (bftbio.datasets.simulate_perturbseq)" in text
    assert "Dataset: simulated Perturb-seq" in text

    rows = table_after(text, "SIMULATED data: mean Pearson correlation of predicted and observed change, "
                             "all genes (test conditions)")
    columns = rows[0].split()[1:]
    assert rows[0].split()[0] == "subgroup" and {"unseen_single", "all"} <= set(columns)
    scores = named_values(rows[2:], len(columns))
    assert set(scores) == {"Additive", "TrainMean", "EmbeddingRidge (knowledge)", "EmbeddingRidge (random)"}
    assert all(-1 <= v <= 1 for values in scores.values() for v in values if not math.isnan(v))
    # Additive has no single to add for an unseen gene and falls back to TrainMean.
    unseen = columns.index("unseen_single")
    assert scores["Additive"][unseen] == scores["TrainMean"][unseen]

    skipped = "Norman 2019 not found under" in text
    ran = "Norman 2019 (real): mean Pearson correlation" in text
    assert skipped != ran
    if skipped:
        assert "bftbio.datasets.download_norman2019(path=" in text
    if (shared_data / "gears" / "norman" / "perturb_processed.h5ad").is_file():
        assert ran, "the Norman 2019 file is there, so the notebook must use it"
