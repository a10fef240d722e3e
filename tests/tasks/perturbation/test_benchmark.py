import numpy as np
import pandas as pd
import pytest

from bftbio import cli
from bftbio.datasets import simulate_perturbseq
from bftbio.pl import metric_bars
from bftbio.tasks import (
    Additive,
    EmbeddingRidge,
    NoChange,
    TrainMean,
    benchmark_perturbation,
    evaluate_perturbation,
    perturbation_metrics,
    perturbation_split,
    random_embeddings,
)


def test_evaluate_gives_a_tidy_table(planted, real_kb):
    models = {"NoChange": NoChange(), "TrainMean": TrainMean(), "Additive": Additive(),
              "EmbeddingRidge (planted)": EmbeddingRidge(planted["emb"], alpha=1e-8)}
    table, per = evaluate_perturbation(planted["prepared"], models, "simulation", per_condition=True)
    assert list(table.columns) == ["task", "dataset", "split", "subgroup", "method", "metric", "value", "n"]
    assert set(table["task"]) == {"perturbation"} and set(table["split"]) == {"test"}
    assert set(table["metric"]) == {"pearson_delta", "pearson_delta_de", "mse_delta_de", "l2_top1000", "mse_delta",
                                    "mae_delta", "discrimination_score_l1", "overlap_at_20", "n_fallback"}
    value = table.set_index(["subgroup", "method", "metric"])["value"]
    assert value["all", "EmbeddingRidge (planted)", "pearson_delta"] == pytest.approx(1.0)
    assert value["all", "EmbeddingRidge (planted)", "mse_delta_de"] == pytest.approx(0.0, abs=1e-8)
    assert value["all", "EmbeddingRidge (planted)", "mse_delta"] == pytest.approx(0.0, abs=1e-8)
    # an exact model picks out every condition and its DE genes
    assert value["all", "EmbeddingRidge (planted)", "discrimination_score_l1"] == pytest.approx(1.0)
    assert value["all", "EmbeddingRidge (planted)", "overlap_at_20"] == pytest.approx(1.0)
    assert value["all", "NoChange", "overlap_at_20"] == 0.0  # predicts no DE gene
    assert table.attrs["renamed_metrics"] == {"mse_de": "mse_delta_de"}
    with pytest.raises(ValueError, match="metric 'mse_de' was renamed 'mse_delta_de'"):  # old code is told
        metric_bars(table[table["split"] == "test"], metric="mse_de", groupby="subgroup")
    assert np.isnan(value["all", "NoChange", "pearson_delta"])
    n = table.set_index(["subgroup", "method", "metric"])["n"]
    assert n["all", "NoChange", "pearson_delta"] == 0
    assert value["all", "Additive", "n_fallback"] == (per.query("method == 'Additive' and metric == 'n_fallback'")
                                                      ["value"].sum())
    assert set(per.columns) == {"task", "dataset", "split", "subgroup", "method", "condition", "metric", "value"}
    by_hand = perturbation_metrics(
        planted["prepared"].to_df(layer="delta").loc[[per["condition"].iloc[0]]],
        TrainMean().fit(planted["prepared"], perturbation_split(planted["prepared"])).predict(
            [per["condition"].iloc[0]]).to_df(layer="delta"))["pearson_delta"].item()
    first = per[(per["method"] == "TrainMean") & (per["metric"] == "pearson_delta")].iloc[0]
    assert first["value"] == pytest.approx(by_hand)


def test_benchmark_on_simulated_data_is_labelled_simulated(ring, real_kb):
    adata = simulate_perturbseq(n_cells=2_000, n_genes=120, n_conditions=30, n_combos=10, network=ring, seed=1)
    table = benchmark_perturbation({"random": lambda genes: random_embeddings(genes, dim=16)}, adata=adata)
    assert table["dataset"].str.contains("simulated").all()
    assert set(table["method"]) == {"NoChange", "TrainMean", "Additive", "EmbeddingRidge (random)",
                                    "LinearModel (random)"}
    assert "unseen_single" in set(table["subgroup"])
    assert set(table["subgroup"]) <= {"unseen_single", "combo_seen0", "combo_seen1", "combo_seen2", "all"}


def test_cli_bench_perturbation(ring, tmp_path, capsys, real_kb):
    folder = tmp_path / "gene2vec"
    folder.mkdir()
    (folder / "train_text.txt").write_text("".join(f"{a} {b}\n" for a, b in ring.itertuples(index=False)))
    (folder / "train_label.txt").write_text("1\n" * len(ring))
    out = tmp_path / "perturbation.csv"
    code = cli.main(["bench", "perturbation", "--data", str(folder), "--methods", "random", "--cells", "1500",
                     "--genes", "120", "--singles", "20", "--combos", "8", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.startswith("SIMULATED DATA")
    assert "EmbeddingRidge (random)" in printed and "pearson_delta_de" in printed
    table = pd.read_csv(out)
    assert table["dataset"].str.contains("simulated").all()
    # The table is never replaced unasked: one line, exit code 2.
    assert cli.main(["bench", "perturbation", "--data", str(folder), "--out", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert pd.read_csv(out).equals(table)
