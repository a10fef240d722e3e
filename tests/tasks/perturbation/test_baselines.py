import numpy as np
import pytest

from bftbio.tasks import Additive, NoChange, TrainMean, parse_condition, perturbation_split


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
