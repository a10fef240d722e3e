import numpy as np
import pytest

from bftbio.tasks import EmbeddingRidge, LinearModel, TrainMean, parse_condition, perturbation_split
from bftbio.tasks.perturbation import ridge_solve


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
    np.testing.assert_allclose(out.X, planted["base"] + out.layers["delta"], atol=1e-9)
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


@pytest.mark.parametrize("shape", [(6, 3), (3, 6)])  # the d x d and the n x n Gram matrix
def test_ridge_solve_is_the_closed_form(shape):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(shape), rng.standard_normal((shape[0], 2))
    expected = np.linalg.inv(x.T @ x + 0.5 * np.eye(shape[1])) @ x.T @ y
    np.testing.assert_allclose(ridge_solve(x, y, 0.5), expected, atol=1e-10)
