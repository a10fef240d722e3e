import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bftbio.pl import similarity_distributions  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def per_set():
    return pd.DataFrame({
        "dataset": ["NeST"] * 5 + ["MSigDB"] * 3,
        "method": ["GeneAgent", "GeneAgent", "GeneAgent", "bft", "bft", "GeneAgent", "bft", "bft"],
        "similarity": [0.2, 0.6, 0.4, 0.9, np.nan, 0.5, 0.1, 0.3],
        "percentile": [10, 95, 50, 99, 0, 80, 20, 40],
    })


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_one_ecdf_panel_per_dataset():
    axes = similarity_distributions(per_set(), title="naming")
    assert len(axes) == 2 and [a.get_title() for a in axes] == ["dataset = NeST", "dataset = MSigDB"]
    assert legend_texts(axes[0]) == ["GeneAgent (mean 0.400, n=3)", "bft (mean 0.900, n=1)"]  # NaN dropped
    assert legend_texts(axes[1]) == ["GeneAgent (mean 0.500, n=1)", "bft (mean 0.200, n=2)"]
    line = axes[0].get_lines()[0]
    assert line.get_xdata().tolist() == [0.2, 0.2, 0.4, 0.6] and line.get_ydata().tolist()[-1] == 1
    # A method keeps its colour across panels.
    assert axes[0].get_lines()[1].get_color() == axes[1].get_lines()[1].get_color()
    assert axes[0].figure._suptitle.get_text() == "naming"


def test_violin_single_panel_with_chosen_methods():
    frame = per_set().drop(columns="dataset")
    ax = similarity_distributions(frame, value_key="percentile", kind="violin", methods=["bft"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bft (mean 39.750, n=4)"]
    assert ax.get_xlabel() == "Percentile"


def test_errors_name_the_problem():
    with pytest.raises(KeyError, match="value_key='rouge9'"):
        similarity_distributions(per_set(), value_key="rouge9")
    with pytest.raises(ValueError, match="kind must be one of"):
        similarity_distributions(per_set(), kind="pie")
    with pytest.raises(ValueError, match=r"methods \['GPT-4'\] are not in column"):
        similarity_distributions(per_set(), methods=["GPT-4"])
    with pytest.raises(ValueError, match="pass ax=None"):
        similarity_distributions(per_set(), ax=plt.subplots()[1])
    with pytest.raises(ValueError, match="empty"):
        similarity_distributions(per_set().iloc[:0])
