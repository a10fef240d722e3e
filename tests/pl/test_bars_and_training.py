import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bftbio.pl import metric_bars, training_curves  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def results():
    return pd.DataFrame({
        "subgroup": ["single", "combo", "single", "combo", "single"],
        "method": ["a", "a", "b", "b", "a"],
        "metric": ["r", "r", "r", "r", "mse"],
        "value": [0.5, 0.25, np.nan, -0.1, 9.0],
    })


def test_metric_bars_one_bar_per_method_and_group_in_order():
    ax = metric_bars(results(), metric="r", groupby="subgroup", groups=["combo", "single"], title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["combo", "single"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    heights = [p.get_height() for p in ax.patches]
    # Method a over (combo, single), then b; b's NaN draws nothing visible; mse rows are left out.
    assert heights[:2] == [0.25, 0.5] and heights[2] == -0.1 and np.isnan(heights[3])
    assert ax.get_ylabel() == "r" and ax.get_title() == "t"


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "auroc", "groupby": "subgroup"}, "no rows with metric 'auroc'"),
    ({"metric": "r", "groupby": "split"}, "lacks the columns \\['split'\\]"),
    ({"metric": "r", "groupby": "subgroup", "groups": ["unseen"]}, "groups \\['unseen'\\]"),
])
def test_metric_bars_names_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric_bars(results(), **kwargs)


def test_training_curves_draw_ce_and_sample_weights():
    history = pd.DataFrame({
        "loss": ["bft", "bft", "bft", "bft", "sft", "sft"],
        "step": [2, 2, 4, 4, 2, 4],
        "metric": ["ce", "mean_sample_weight", "ce", "mean_sample_weight", "ce", "ce"],
        "value": [3.0, 0.9, 2.5, 0.8, 3.1, 2.9],
    })
    axes = training_curves(history)
    assert [line.get_label() for line in axes[0].get_lines()] == ["bft", "sft"]
    assert axes[0].get_lines()[1].get_ydata().tolist() == [3.1, 2.9]
    assert [line.get_label() for line in axes[1].get_lines()] == ["bft"]  # only BFT logs sample weights
    assert axes[1].get_lines()[0].get_ydata().tolist() == [0.9, 0.8]
    with pytest.raises(ValueError, match="lacks the columns"):
        training_curves(history.drop(columns="step"))
