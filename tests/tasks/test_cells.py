"""The cell-level benchmark: its scores by construction, and one real run on packaged data."""

import numpy as np
import pandas as pd
import pytest

from bftbio.datasets import CELL_DATASETS, cell_dataset
from bftbio.tasks import CELL_METRICS, benchmark_cells, evaluate_cell_embedding


def test_separated_types_score_one_and_noise_scores_near_zero():
    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b", "c"], 40)
    centres = {"a": [10, 0, 0], "b": [0, 10, 0], "c": [0, 0, 10]}
    separated = np.array([centres[lab] for lab in labels]) + rng.normal(scale=0.5, size=(120, 3))
    good = evaluate_cell_embedding(separated, labels, n_seeds=3, n_folds=4).set_index("metric")
    assert list(good.index) == list(CELL_METRICS)
    assert (good.drop(["ari_leiden", "nmi_leiden"])["value"] > 0.95).all(), good
    assert (good.loc[["ari_leiden", "nmi_leiden"], "value"] > 0.5).all()  # resolution 1 may split a type in two
    assert (good.loc[["f1_knn", "f1_logistic"], "split"] == "cv").all() and good.loc["ari_kmeans", "n_runs"] == 3
    noise = evaluate_cell_embedding(rng.normal(size=(120, 3)), labels, n_seeds=3, n_folds=4).set_index("metric")
    assert noise.loc["ari_kmeans", "value"] < 0.1 and noise.loc["f1_logistic", "value"] < 0.6
    assert (noise["low"] <= noise["value"]).all() and (noise["value"] <= noise["high"]).all()


def test_small_classes_leave_annotation_counted_and_bad_input_is_named():
    rng = np.random.default_rng(1)
    labels = np.array(["a"] * 20 + ["b"] * 20 + ["rare"] * 2)
    table = evaluate_cell_embedding(rng.normal(size=(42, 4)), labels, n_seeds=2, n_folds=5).set_index("metric")
    assert table.loc["f1_knn", "n"] == 40 and table.loc["ari_kmeans", "n"] == 42
    with pytest.raises(ValueError, match="one label per cell"):
        evaluate_cell_embedding(np.zeros((5, 2)), ["a"] * 4)
    bad = rng.normal(size=(42, 4))
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        evaluate_cell_embedding(bad, labels)


@pytest.mark.parametrize("name", sorted(CELL_DATASETS))
def test_cell_datasets_are_real_labelled_and_log_normalised(name):
    adata = cell_dataset(name)
    sizes = {"pbmc68k_reduced": (700, 765, 10), "oligodendroglioma": (184, 9450, 6), "wu2020": (200, 3000, 16)}
    assert (*adata.shape, adata.obs["label"].nunique()) == sizes[name]
    assert adata.X.min() >= 0 and 3 < adata.X.max() < 15  # log scale, not counts or TPM
    assert adata.uns["dataset"] == name and adata.var_names.is_unique
    with pytest.raises(ValueError, match="unknown cell data set"):
        cell_dataset("pbmc3k")


def test_benchmark_on_a_packaged_data_set():
    table = benchmark_cells(["oligodendroglioma"], {"PCA": "pca", "random": "random"}, n_genes=300, n_seeds=2,
                            n_folds=3)
    assert list(table.columns) == ["task", "dataset", "split", "method", "metric", "value", "low", "high", "n",
                                   "n_runs", "n_genes"]
    assert set(table["method"]) == {"PCA", "random"} and set(table["metric"]) == set(CELL_METRICS)
    assert table["value"].between(-0.5, 1).all() and (table["n_genes"] == 300).all()
    wide = table.pivot_table(index="method", columns="metric", values="value")
    # Six cell types: chance macro-F1 is about 1/6; expression separates them far better.
    assert (wide["f1_knn"] > 0.5).all()
    own = benchmark_cells(["oligodendroglioma"], {"own": lambda a: a.X.toarray()[:, :20]}, n_genes=300, n_seeds=1,
                          n_folds=2)
    assert set(own["method"]) == {"own"} and len(own) == len(CELL_METRICS)
    with pytest.raises(ValueError, match="must return cells x dimensions"):
        benchmark_cells(["oligodendroglioma"], {"bad": lambda a: np.zeros(3)}, n_genes=50, n_seeds=1, n_folds=2)
    with pytest.raises(ValueError, match="a cell method is"):
        benchmark_cells(["oligodendroglioma"], {"x": "umap"}, n_genes=50, n_seeds=1, n_folds=2)
    assert isinstance(table, pd.DataFrame)


def test_cli_bench_cells(tmp_path, capsys):
    from bftbio.cli import main

    out = tmp_path / "cells.csv"
    assert main(["bench", "cells", "--datasets", "wu2020", "--methods", "pca", "random", "--n-genes", "200",
                 "--seeds", "2", "--folds", "3", "--no-center", "--remove-pcs", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wu2020: 200 cells, 200 genes" in printed and "tidy table" in printed
    assert set(pd.read_csv(out)["method"]) == {"pca", "random"}
    assert main(["bench", "cells", "--datasets", "wu2020", "--out", str(out)]) == 2  # never replaced unasked
