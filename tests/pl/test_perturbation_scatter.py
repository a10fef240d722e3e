import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bftbio.pl import perturbation_scatter  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


GENES = ["CBL", "CNN1", "TP53", "MDM2", "GAPDH"]
OBSERVED = pd.Series([1.0, -2.0, 0.5, 0.0, 0.1], index=GENES)
PREDICTED = pd.Series([2.0, -4.0, 0.0, 0.5, 0.0], index=GENES)


def legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_de_genes_are_highlighted_and_correlations_given():
    ax = perturbation_scatter(OBSERVED, PREDICTED, "CBL+ctrl", de_genes=["CBL", "CNN1"], method="EmbeddingRidge")
    everything, de = ax.collections
    assert len(everything.get_offsets()) == 3 and len(de.get_offsets()) == 2
    np.testing.assert_allclose(np.asarray(de.get_offsets()), [[1.0, 2.0], [-2.0, -4.0]])
    r_all = np.corrcoef(OBSERVED, PREDICTED)[0, 1]
    assert legend(ax) == [f"all genes (r = {r_all:.2f}, n=5)", "DE genes (r = 1.00, n=2)"]
    assert sorted(t.get_text() for t in ax.texts) == ["CBL", "CNN1"]
    assert ax.get_title() == "CBL+ctrl"
    assert ax.get_ylabel() == "predicted change (EmbeddingRidge)"
    diagonal = ax.get_lines()[0]
    np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())


def test_simulated_data_say_so_in_the_title():
    ax = perturbation_scatter(OBSERVED, PREDICTED, "CBL+ctrl", simulated=True)
    assert ax.get_title() == "CBL+ctrl (simulated)"
    ax = perturbation_scatter(OBSERVED, PREDICTED, "CBL+ctrl", simulated=True, title="LinearModel")
    assert ax.get_title() == "LinearModel (simulated)"


def test_frames_pick_the_condition_and_align_genes():
    observed = pd.DataFrame([OBSERVED.to_numpy(), -OBSERVED.to_numpy()], index=["CBL+ctrl", "TP53+ctrl"],
                            columns=GENES)
    predicted = pd.DataFrame([PREDICTED.to_numpy()[::-1]], index=["CBL+ctrl"], columns=GENES[::-1])
    ax = perturbation_scatter(observed, predicted, "CBL+ctrl", de_genes=pd.Series(["CBL", None]))
    np.testing.assert_allclose(np.asarray(ax.collections[1].get_offsets()), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="pass condition="):
        perturbation_scatter(observed, predicted)
    with pytest.raises(KeyError, match="'CNN1\\+ctrl' is not a row of observed"):
        perturbation_scatter(observed, predicted, "CNN1+ctrl")


def test_arrays_take_positions_or_masks():
    obs, pred = OBSERVED.to_numpy(), PREDICTED.to_numpy()
    ax = perturbation_scatter(obs, pred, de_genes=[0, 1], label_de=True)
    assert len(ax.collections[1].get_offsets()) == 2 and not ax.texts  # no names to write
    ax = perturbation_scatter(obs, pred, de_genes=np.array([True, False, False, False, True]))
    assert len(ax.collections[1].get_offsets()) == 2
    with pytest.raises(ValueError, match="need observed as a Series or DataFrame"):
        perturbation_scatter(obs, pred, de_genes=["CBL"])
    with pytest.raises(ValueError, match="differ in length"):
        perturbation_scatter(obs, pred[:3])
    with pytest.raises(KeyError, match="DE genes not among"):
        perturbation_scatter(OBSERVED, PREDICTED, de_genes=["EGFR"])


def test_draws_into_the_given_axes():
    _, ax = plt.subplots()
    assert perturbation_scatter(OBSERVED, PREDICTED, "CBL+ctrl", ax=ax) is ax
