import numpy as np
import pandas as pd
import pytest

from bftbio.tasks import perturbation_metrics
from bftbio.tasks.perturbation import de_overlap, discrimination_score, mae_delta, mse_delta, pearson_delta


def test_metrics_by_hand():
    observed = np.array([[1.0, 2.0, 3.0, 0.0]])
    predicted = np.array([[2.0, 4.0, 6.0, 1.0]])
    scores = perturbation_metrics(observed, predicted, de_genes=[[0, 1]], top_expressed=[0, 3])
    # pearson over all genes: deviations (-.5, .5, 1.5, -1.5) and (-1.25, .75, 2.75, -2.25):
    # 8.5 / sqrt(5 * 14.75)
    assert scores["pearson_delta"].item() == pytest.approx(8.5 / np.sqrt(5 * 14.75))
    assert scores["pearson_delta_de"].item() == pytest.approx(1.0)  # (1, 2) vs (2, 4)
    assert scores["mse_delta_de"].item() == pytest.approx(((2 - 1) ** 2 + (4 - 2) ** 2) / 2)
    assert scores["l2_top1000"].item() == pytest.approx(np.sqrt((2 - 1) ** 2 + (1 - 0) ** 2))


def test_metrics_with_frames_and_a_constant_prediction():
    genes = ["A", "B", "C"]
    observed = pd.DataFrame([[1.0, -1.0, 0.0], [0.0, 2.0, 2.0]], index=["x", "y"], columns=genes)
    predicted = pd.DataFrame(0.0, index=["y", "x"], columns=genes[::-1])  # aligned by names
    de = pd.DataFrame([["A", "B"], ["B", "C"]], index=["x", "y"])
    scores = perturbation_metrics(observed, predicted, de_genes=de, top_expressed=["B"])
    assert list(scores.index) == ["x", "y"]
    assert scores["pearson_delta"].isna().all()  # a constant prediction has no correlation
    assert scores["mse_delta_de"].tolist() == pytest.approx([1.0, 4.0])
    assert scores["l2_top1000"].tolist() == pytest.approx([1.0, 2.0])
    with pytest.raises(KeyError, match="'Z'"):
        perturbation_metrics(observed, predicted, top_expressed=["Z"])


def test_error_metrics_by_hand():
    observed, predicted = np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])
    assert mse_delta(observed, predicted).tolist() == [(1 + 4) / 2]
    assert mae_delta(observed, predicted).tolist() == [(1 + 2) / 2]
    assert np.isnan(pearson_delta([[1.0, 2.0, 3.0]], [[5.0, 5.0, 5.0]])).all()  # a constant prediction


def test_discrimination_score_by_hand():
    observed = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    predicted = [[0.9, 0.1], [0.9, 0.2], [1.0, 1.0]]
    # row 1: L1 distances to the observed rows 0.3, 1.7 (its own), 0.9: two are closer, 1 - 2/3
    np.testing.assert_allclose(discrimination_score(observed, predicted), [1.0, 1 / 3, 1.0])
    # leaving out gene 0 for row 1: distances 0.2, 0.8 (its own), 0.8: one is closer, 1 - 1/3
    np.testing.assert_allclose(discrimination_score(observed, predicted, targets=[[], [0], []]),
                               [1.0, 2 / 3, 1.0])
    # Euclidean: row 1 is sqrt(.01 + .04) from row 0 and sqrt(.81 + .64) from its own
    np.testing.assert_allclose(discrimination_score(observed, predicted, metric="l2"), [1.0, 1 / 3, 1.0])
    # an undefined prediction never scores as perfect: NaN values, or cosine of an all-zero (NoChange) row
    nan_row = [[1.0, 0.0], [np.nan, np.nan], [1.0, 1.0]]
    scores = discrimination_score(observed, nan_row)
    assert np.isnan(scores[1]) and scores[0] == 1.0 and scores[2] == 1.0  # rows 0 and 2 compare their own predictions
    assert np.isnan(discrimination_score(observed, np.zeros((3, 2)), metric="cosine")).all()
    with pytest.raises(ValueError, match="metric must be one of"):
        discrimination_score(observed, predicted, metric="l3")


def test_de_overlap_by_hand():
    # observed top 2 by |delta|: genes 0 and 1; predicted top 2: genes 2 and 0 -> one shared of two
    assert de_overlap([[3.0, -2.0, 0.1, 0.0]], [[0.5, 0.0, -0.9, 0.0]], k=2).tolist() == [0.5]
    # one observed change: k shrinks to 1; a gene predicted unchanged is never a predicted DE gene
    assert de_overlap([[1.0, 0.0, 0.0]], [[0.0, 0.0, 2.0]], k=2).tolist() == [0.0]
    assert de_overlap([[1.0, 0.0, 0.0]], [[0.1, 0.0, 0.0]], k=2).tolist() == [1.0]
    assert de_overlap([[0.0, 0.0]], [[1.0, 2.0]], k=2).tolist() == [0.0]  # nothing changes: 0, as cell-eval
    scores = perturbation_metrics(np.array([[1.0, 2.0, 3.0, 0.0]]), np.array([[2.0, 4.0, 6.0, 1.0]]), n_overlap=2)
    assert scores["mse_delta"].item() == pytest.approx((1 + 4 + 9 + 1) / 4)
    assert scores["mae_delta"].item() == pytest.approx((1 + 2 + 3 + 1) / 4)
    assert scores["overlap_at_2"].item() == 1.0 and scores["discrimination_score_l1"].item() == 1.0


def test_metrics_leave_out_target_genes_by_name():
    genes = ["A", "C", "B"]
    observed = pd.DataFrame([[-5.0, 0.0, 1.0], [0.0, -5.0, 1.0]], index=["A+ctrl", "C+ctrl"], columns=genes)
    predicted = pd.DataFrame([[5.0, -1.0, 1.0], [0.0, -5.0, 1.0]], index=observed.index, columns=genes)
    # A+ctrl gets its target wrong: over all genes it is nearer C's observation (L1 9) than its own (11);
    # without its target gene, nearer its own (1) than C's (4). Z is not measured: skipped.
    both = perturbation_metrics(observed, predicted, n_overlap=None)["discrimination_score_l1"]
    left_out = perturbation_metrics(observed, predicted, targets=[("A",), ("C", "Z")],
                                    n_overlap=None)["discrimination_score_l1"]
    assert both.tolist() == [0.5, 1.0] and left_out.tolist() == [1.0, 1.0]


def test_values_equal_cell_eval():
    pytest.importorskip("cell_eval")
    import anndata as ad
    import polars as pl
    from cell_eval import PerturbationAnndataPair, initialize_de_comparison
    from cell_eval.metrics import discrimination_score as ce_discrimination
    from cell_eval.metrics import mae_delta as ce_mae_delta
    from cell_eval.metrics import mse_delta as ce_mse_delta
    from cell_eval.metrics import pearson_delta as ce_pearson_delta

    from bftbio.tasks.perturbation import pseudobulk

    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(12)]
    perts = genes[:6]  # named after their target gene, as cell-eval expects to leave it out
    labels = np.repeat(["non-targeting"] + perts, 5)
    shift = np.vstack([np.zeros(12), rng.standard_normal((6, 12))])
    real_x = np.repeat(shift, 5, axis=0) + 0.3 * rng.standard_normal((35, 12))
    pred_x = np.repeat(shift + 0.8 * rng.standard_normal(shift.shape), 5, axis=0) + 0.3 * rng.standard_normal((35, 12))
    obs = pd.DataFrame({"target": labels}, index=[f"c{i}" for i in range(35)])
    var = pd.DataFrame(index=genes)
    pair = PerturbationAnndataPair(real=ad.AnnData(real_x, obs=obs, var=var), pred=ad.AnnData(pred_x, obs=obs, var=var),
                                   pert_col="target", control_pert="non-targeting")

    groups = ["non-targeting"] + sorted(perts)
    real_means, _ = pseudobulk(real_x, labels, groups)
    pred_means, _ = pseudobulk(pred_x, labels, groups)
    observed, predicted = real_means[1:] - real_means[0], pred_means[1:] - pred_means[0]
    targets = [[genes.index(p)] for p in groups[1:]]

    def theirs(values):
        return [values[p] for p in groups[1:]]

    np.testing.assert_allclose(pearson_delta(observed, predicted), theirs(ce_pearson_delta(pair)), rtol=1e-10)
    np.testing.assert_allclose(mse_delta(observed, predicted), theirs(ce_mse_delta(pair)), rtol=1e-10)
    np.testing.assert_allclose(mae_delta(observed, predicted), theirs(ce_mae_delta(pair)), rtol=1e-10)
    ours = discrimination_score(observed, predicted, targets=targets, metric="l1")
    np.testing.assert_allclose(ours, theirs(ce_discrimination(pair, metric="l1")))
    assert 0 < ours.min() < 1  # not a trivial agreement

    def de_frame(delta):  # every gene significant, so cell-eval ranks them all by |log fold change|
        return pl.DataFrame({"target": np.repeat(groups[1:], 12), "feature": np.tile(genes, 6),
                             "log2_fold_change": delta.ravel(), "p_value": 0.0, "fdr": 0.0})

    comparison = initialize_de_comparison(de_frame(observed), de_frame(predicted))
    for k in (3, 5):
        overlap = de_overlap(observed, predicted, k=k)
        np.testing.assert_allclose(overlap, theirs(comparison.compute_overlap(k=k, metric="overlap")))
        assert 0 < overlap.mean() < 1
