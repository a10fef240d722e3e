import itertools

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bftbio import cli
from bftbio.datasets import simulate_perturbseq
from bftbio.knowledge import _snapshot
from bftbio.knowledge import genes as kb_genes
from bftbio.tasks import (
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
    random_embeddings,
)

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
        yield {"adata": adata, "prepared": prepared, "emb": emb, "truth": conditions, "pairs": pairs}


# --- conditions and metrics ---------------------------------------------------------
def test_parse_condition():
    assert parse_condition("CBL+ctrl") == ("CBL",)
    assert parse_condition("ctrl+CBL") == ("CBL",)
    assert parse_condition("CBL+CNN1") == ("CBL", "CNN1")
    assert parse_condition("ctrl") == ()
    assert parse_condition("TP53_non-targeting", control="non-targeting", separator="_") == ("TP53",)
    with pytest.raises(ValueError, match="empty gene name"):
        parse_condition("CBL++CNN1")


def test_metrics_by_hand():
    observed = np.array([[1.0, 2.0, 3.0, 0.0]])
    predicted = np.array([[2.0, 4.0, 6.0, 1.0]])
    scores = perturbation_metrics(observed, predicted, de_genes=[[0, 1]], top_expressed=[0, 3])
    # pearson over all genes: deviations (-.5, .5, 1.5, -1.5) and (-1.25, .75, 2.75, -2.25):
    # 8.5 / sqrt(5 * 14.75)
    assert scores["pearson_delta"].item() == pytest.approx(8.5 / np.sqrt(5 * 14.75))
    assert scores["pearson_delta_de"].item() == pytest.approx(1.0)  # (1, 2) vs (2, 4)
    assert scores["mse_de"].item() == pytest.approx(((2 - 1) ** 2 + (4 - 2) ** 2) / 2)
    assert scores["l2_top1000"].item() == pytest.approx(np.sqrt((2 - 1) ** 2 + (1 - 0) ** 2))


def test_metrics_with_frames_and_a_constant_prediction():
    genes = ["A", "B", "C"]
    observed = pd.DataFrame([[1.0, -1.0, 0.0], [0.0, 2.0, 2.0]], index=["x", "y"], columns=genes)
    predicted = pd.DataFrame(0.0, index=["y", "x"], columns=genes[::-1])  # aligned by names
    de = pd.DataFrame([["A", "B"], ["B", "C"]], index=["x", "y"])
    scores = perturbation_metrics(observed, predicted, de_genes=de, top_expressed=["B"])
    assert list(scores.index) == ["x", "y"]
    assert scores["pearson_delta"].isna().all()  # a constant prediction has no correlation
    assert scores["mse_de"].tolist() == pytest.approx([1.0, 4.0])
    assert scores["l2_top1000"].tolist() == pytest.approx([1.0, 2.0])
    with pytest.raises(KeyError, match="'Z'"):
        perturbation_metrics(observed, predicted, top_expressed=["Z"])


# --- preparation ----------------------------------------------------------------------
def test_prepare_computes_exact_pseudobulk_and_de(planted):
    prepared, truth = planted["prepared"], planted["truth"]
    assert prepared.obs_names[0] == "ctrl" and prepared.n_obs == 46
    for condition in list(truth)[:5] + list(truth)[-3:]:  # control, singles and doubles
        np.testing.assert_allclose(prepared[condition].layers["delta"].ravel(), truth[condition], atol=1e-9)
    np.testing.assert_allclose(prepared["ctrl"].X.ravel(), BASE, atol=1e-9)
    assert prepared.obs.loc["ctrl", "kind"] == "control"
    assert prepared.obs["kind"].value_counts().to_dict() == {"single": 30, "combo": 15, "control": 1}
    # equal noise in every gene: the t-test ranks by |delta|, so the DE genes are the largest changes
    condition = prepared.obs_names[5]
    expected = set(prepared.var_names[np.argsort(-np.abs(truth[condition]))[:20]])
    assert set(prepared.uns["top_de"].loc[condition]) == expected
    assert prepared.uns["bftbio_pseudobulk"]["de_method"] == "t-test"


def test_prepare_writes_where_scanpy_users_look(planted, tmp_path):
    adata = planted["adata"].copy()
    prepare_perturbation(adata, n_top_de=5)
    stored = adata.uns["bftbio_perturbation"]
    assert set(stored) == {"params", "pseudobulk", "delta", "n_cells", "top_de"}
    assert stored["top_de"].shape == (45, 5)
    assert stored["n_cells"].loc["ctrl", "n_cells"] == 6
    assert adata.uns["rank_genes_groups"]["params"]["method"] == "t-test"
    assert adata.uns["rank_genes_groups"]["params"]["reference"] == "ctrl"
    adata.write_h5ad(tmp_path / "cells.h5ad")  # everything written is storable
    back = ad.read_h5ad(tmp_path / "cells.h5ad")
    pd.testing.assert_frame_equal(back.uns["bftbio_perturbation"]["delta"], stored["delta"])


def test_sparse_and_dense_give_the_same_pseudobulk(planted):
    dense = planted["adata"].copy()
    sparse_copy = planted["adata"].copy()
    sparse_copy.X = sparse.csr_matrix(sparse_copy.X)
    a, b = prepare_perturbation(dense), prepare_perturbation(sparse_copy)
    np.testing.assert_allclose(a.layers["delta"], b.layers["delta"], atol=1e-10)
    assert a.uns["top_de"].equals(b.uns["top_de"])


def test_gears_files_use_gene_name_for_symbols(planted):
    adata = planted["adata"].copy()
    adata.var["gene_name"] = adata.var_names
    adata.var_names = [f"ENSG{i:011d}" for i in range(adata.n_vars)]
    prepared = prepare_perturbation(adata)
    assert list(prepared.var_names) == list(planted["prepared"].var_names)


@pytest.mark.fault
def test_bad_inputs_name_the_problem(planted, real_kb):
    adata = planted["adata"].copy()
    with pytest.raises(KeyError, match="perturbation_key='perturbation' is not a column.*condition"):
        prepare_perturbation(adata, perturbation_key="perturbation")
    with pytest.raises(ValueError, match="no control cells.*'non-targeting'.*pass control="):
        prepare_perturbation(adata, control="non-targeting")
    with pytest.raises(KeyError, match="gene_symbols='symbol' is not a column"):
        prepare_perturbation(adata, gene_symbols="symbol")
    missing = adata.copy()
    missing.obs["condition"] = missing.obs["condition"].astype(object)
    missing.obs.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="1 cells have no label"):
        prepare_perturbation(missing)
    broken = adata.copy()
    broken.obs["condition"] = broken.obs["condition"].astype(str)
    broken.obs.iloc[-4:, 0] = "NOTAGENE1+ctrl"
    with pytest.warns(UserWarning, match=r"perturb a gene the knowledge base does not know \('NOTAGENE1'\): "
                                         r"'NOTAGENE1\+ctrl'"):
        prepare_perturbation(broken)
    one_cell = adata.copy()
    one_cell.obs["condition"] = one_cell.obs["condition"].astype(str)
    one_cell.obs.iloc[-1, 0] = "TP53+ctrl"
    with pytest.warns(UserWarning, match=r"fewer than 2 cells and are left out: 'TP53\+ctrl'"):
        prepared = prepare_perturbation(one_cell)
    assert "TP53+ctrl" not in prepared.obs_names
    counts = adata.copy()
    counts.X = np.round(counts.X * 20)  # non-negative integers up to ~500
    with pytest.warns(UserWarning, match="raw counts"):
        prepare_perturbation(counts)
    empty = adata.copy()
    empty.obs["condition"] = empty.obs["condition"].astype(str)
    empty.obs.iloc[-4:, 0] = "A1BG++ctrl"
    with pytest.raises(ValueError, match="empty gene name"):
        prepare_perturbation(empty)
    for bad_value in (np.nan, np.inf):  # dense and sparse: named with the count and the first cell
        for matrix in (np.array(adata.X, dtype=np.float32), sparse.csr_matrix(adata.X)):
            faulty = adata.copy()
            matrix[3, 5] = bad_value
            matrix[7, 5] = bad_value
            faulty.X = matrix
            with pytest.raises(ValueError, match=rf"adata.X holds 2 NaN or infinite values in 2 of its "
                                                 rf"{adata.n_obs:,} rows \(first: row '{adata.obs_names[3]}'"):
                prepare_perturbation(faulty)


# --- splits ---------------------------------------------------------------------------
def genes_in(conditions):
    return {g for c in conditions for g in parse_condition(c)}


def singles_in(conditions):
    return {parse_condition(c)[0] for c in conditions if len(parse_condition(c)) == 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulation_split_holds_out_genes_and_counts_seen_genes(planted, seed):
    split = perturbation_split(planted["prepared"], mode="simulation", seed=seed)
    everything = split.train + split.val + split.test
    assert len(everything) == len(set(everything)) == 45 and "ctrl" not in everything
    seen = singles_in(split.train)
    for condition in split.test:
        genes = parse_condition(condition)
        if len(genes) == 1:
            assert split.subgroup[condition] == "unseen_single"
            assert genes[0] not in genes_in(split.train)  # no test gene in training at all
        else:
            assert split.subgroup[condition] == f"combo_seen{sum(g in seen for g in genes)}"
    assert genes_in(split.train) <= seen  # training combos only combine genes seen alone
    assert split.to_frame()["split"].value_counts().sum() == 45
    again = perturbation_split(planted["prepared"], mode="simulation", seed=seed)
    assert (again.train, again.test) == (split.train, split.test)


def test_simulation_split_fractions():
    singles = [f"G{i}+ctrl" for i in range(40)]
    combos = [f"G{i}+G{i + 1}" for i in range(0, 40, 2)]
    split = perturbation_split(["ctrl"] + singles + combos, mode="simulation", seed=0, val_fraction=0)
    unseen = [c for c in split.test if split.subgroup[c] == "unseen_single"]
    assert len(unseen) == 10  # 25% of 40 genes held out
    assert split.val == []
    other = perturbation_split(["ctrl"] + singles + combos, mode="simulation", seed=5, val_fraction=0)
    assert other.test != split.test


def test_single_and_combo_splits():
    singles = [f"G{i}+ctrl" for i in range(20)]
    combos = [f"G{i}+G{i + 1}" for i in range(0, 20, 2)]
    single = perturbation_split(singles + combos, mode="single", seed=0, test_fraction=0.2, val_fraction=0)
    assert len(single.test) == 4 and all(len(parse_condition(c)) == 1 for c in single.test)
    assert {single.subgroup[c] for c in single.test} == {"unseen_single"}
    test_genes = genes_in(single.test)
    assert all(not (set(parse_condition(c)) & test_genes) for c in single.train)
    assert sorted(single.excluded) == sorted(c for c in combos if set(parse_condition(c)) & test_genes)
    combo = perturbation_split(singles + combos, mode="combo", seed=0, test_fraction=0.3, val_fraction=0)
    assert len(combo.test) == 3 and all(len(parse_condition(c)) == 2 for c in combo.test)
    assert {combo.subgroup[c] for c in combo.test} == {"combo_seen2"}
    with pytest.raises(ValueError, match="needs combinations"):
        perturbation_split(singles, mode="combo")
    with pytest.raises(ValueError, match="mode must be"):
        perturbation_split(singles, mode="random")


def test_a_given_split_gears_style():
    conditions = ["ctrl", "A+ctrl", "B+ctrl", "C+ctrl", "A+B", "B+C"]
    split = perturbation_split(conditions, mode={"train": ["ctrl", "A+ctrl", "B+ctrl", "A+B"], "test": ["C+ctrl",
                                                                                                    "B+C"]})
    assert split.train == ["A+ctrl", "B+ctrl", "A+B"] and split.val == []
    assert split.subgroup["C+ctrl"] == "unseen_single" and split.subgroup["B+C"] == "combo_seen1"
    assert split.mode == "given" and split["test"] == ["C+ctrl", "B+C"]
    with pytest.raises(ValueError, match=r"both 'train' and 'test': 'A\+ctrl'"):
        perturbation_split(conditions, mode={"train": ["A+ctrl"], "test": ["A+ctrl"]})
    with pytest.warns(UserWarning, match=r"1 conditions that are not in the data.*'D\+ctrl'"):
        perturbation_split(conditions, mode={"train": ["A+ctrl", "D+ctrl"], "test": ["C+ctrl"]})
    with pytest.raises(KeyError, match="'train', 'val' and 'test'"):
        split["validation"]


# --- models ---------------------------------------------------------------------------
def prediction_error(model, planted, conditions):
    predicted = model.predict(conditions).layers["delta"]
    truth = np.array([planted["truth"][c] for c in conditions])
    return np.abs(predicted - truth).max(), np.abs(truth).max()


@pytest.mark.parametrize("model", [EmbeddingRidge(alpha=1e-8), LinearModel(n_components=4, ridge=1e-8)])
def test_embedding_models_recover_a_planted_linear_effect(planted, model, real_kb):
    split = perturbation_split(planted["prepared"], mode="simulation", seed=0)
    model.set_params(embeddings=planted["emb"])
    model.fit(planted["prepared"], split)
    error, scale = prediction_error(model, planted, split.test)
    assert error < 1e-4 * scale  # unseen singles and combinations alike
    assert model.n_fallback_ == 0
    # a heavy penalty shrinks towards the mean training delta, so the fit is no longer exact
    model.set_params(**({"alpha": 1e4} if isinstance(model, EmbeddingRidge) else {"ridge": 1e4}))
    assert prediction_error(model.fit(planted["prepared"], split), planted, split.test)[0] > 0.1 * scale


def test_predict_returns_labelled_pseudobulk(planted, real_kb):
    split = perturbation_split(planted["prepared"], mode="simulation", seed=0)
    model = EmbeddingRidge(planted["emb"], alpha=1e-8).fit(planted["prepared"], split)
    out = model.predict(split.test[:3] + ["ctrl"])
    assert list(out.obs_names) == split.test[:3] + ["ctrl"]
    assert list(out.var_names) == list(planted["prepared"].var_names)
    np.testing.assert_allclose(out.X, BASE + out.layers["delta"], atol=1e-9)
    np.testing.assert_allclose(out["ctrl"].layers["delta"], 0.0)
    with pytest.raises(ValueError, match="not fitted yet"):
        EmbeddingRidge(planted["emb"]).predict(["A1BG+ctrl"])
    with pytest.raises(TypeError, match=r"use perturbation_split\(prepared, mode='simulation'\)"):
        TrainMean().fit(planted["prepared"], "simulation")


def test_missing_embeddings_are_left_out_and_counted(planted, real_kb):
    split = perturbation_split(planted["prepared"], mode="simulation", seed=0)
    unseen = [c for c in split.test if split.subgroup[c] == "unseen_single"][0]
    trained = split.train[0]
    gone = {parse_condition(unseen)[0], parse_condition(trained)[0]}
    emb = planted["emb"].drop(index=list(gone))
    with pytest.warns(UserWarning, match="left out of the fit"):
        model = EmbeddingRidge(emb, alpha=1e-8).fit(planted["prepared"], split)
    assert model.n_missing_fit_ >= 1
    out = model.predict([unseen, split.test[-1]])
    assert out.obs.loc[unseen, "fallback"] and model.n_fallback_ >= 1
    np.testing.assert_allclose(out[unseen].layers["delta"].ravel(), model.train_mean_)


def test_baselines(planted):
    prepared = planted["prepared"]
    split = perturbation_split(prepared, mode="simulation", seed=0)
    train_mean = np.mean([planted["truth"][c] for c in split.train], axis=0)
    np.testing.assert_allclose(TrainMean().fit(prepared, split).predict(split.test).layers["delta"],
                               np.tile(train_mean, (len(split.test), 1)), atol=1e-9)
    assert np.all(NoChange().fit(prepared, split).predict(split.test).layers["delta"] == 0)

    additive = Additive().fit(prepared, split)
    out = additive.predict(split.test)
    for condition in split.test:
        genes = parse_condition(condition)
        if split.subgroup[condition] == "combo_seen2":  # planted additive: exact
            assert not out.obs.loc[condition, "fallback"]
            np.testing.assert_allclose(out[condition].layers["delta"].ravel(), planted["truth"][condition],
                                       atol=1e-9)
        else:
            assert out.obs.loc[condition, "fallback"], (condition, genes)
            np.testing.assert_allclose(out[condition].layers["delta"].ravel(), train_mean, atol=1e-9)
    assert additive.n_fallback_ == sum(split.subgroup[c] != "combo_seen2" for c in split.test)
    assert np.all(Additive(fallback="no_change").fit(prepared, split).predict(
        [c for c in split.test if split.subgroup[c] == "unseen_single"]).layers["delta"] == 0)
    with pytest.raises(ValueError, match="fallback must be one of"):
        Additive(fallback="zero").fit(prepared, split)


# --- evaluation -----------------------------------------------------------------------
def test_evaluate_gives_a_tidy_table(planted, real_kb):
    models = {"NoChange": NoChange(), "TrainMean": TrainMean(), "Additive": Additive(),
              "EmbeddingRidge (planted)": EmbeddingRidge(planted["emb"], alpha=1e-8)}
    table, per = evaluate_perturbation(planted["prepared"], models, "simulation", per_condition=True)
    assert list(table.columns) == ["task", "dataset", "split", "subgroup", "method", "metric", "value", "n"]
    assert set(table["task"]) == {"perturbation"} and set(table["split"]) == {"test"}
    assert set(table["metric"]) == {"pearson_delta", "pearson_delta_de", "mse_de", "l2_top1000", "n_fallback"}
    value = table.set_index(["subgroup", "method", "metric"])["value"]
    assert value["all", "EmbeddingRidge (planted)", "pearson_delta"] == pytest.approx(1.0)
    assert value["all", "EmbeddingRidge (planted)", "mse_de"] == pytest.approx(0.0, abs=1e-8)
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


@pytest.fixture(scope="module")
def ring():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(_snapshot.ENV_VAR, raising=False)
        names = protein_coding(0, 80)
        yield pd.DataFrame([(names[i], names[(i + k) % 80]) for i in range(80) for k in (1, 2, 5)],
                           columns=["gene_a", "gene_b"])


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


def test_split_object_behaves_like_gears_set2conditions():
    split = PerturbationSplit(train=["A+ctrl"], val=[], test=["B+ctrl"], subgroup={"B+ctrl": "unseen_single"})
    assert split["train"] == ["A+ctrl"]
    assert split.to_frame().to_dict("list") == {"condition": ["A+ctrl", "B+ctrl"], "split": ["train", "test"],
                                                "subgroup": [None, "unseen_single"]}
