import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bftbio.pl import prc_curves, roc_curves  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def two_methods(n=200, seed=0):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    frames = [
        pd.DataFrame({"method": "knowledge", "label": label, "score": label + rng.normal(0, 0.5, n)}),
        pd.DataFrame({"method": "gene2vec", "label": label, "score": rng.normal(0, 1, n)}),
    ]
    return pd.concat(frames, ignore_index=True)


def test_perfect_scorer_has_auroc_one():
    scores = pd.DataFrame({"method": "knowledge", "label": [0, 0, 1, 1, 0, 1], "score": [0.1, 0.2, 0.7, 0.9, 0.3, 0.8]})
    ax = roc_curves(scores, title="interaction")
    assert legend_texts(ax) == ["knowledge (AUROC 1.000, n=6)", "chance"]
    assert ax.get_xlabel() == "False positive rate"
    assert ax.get_ylabel() == "True positive rate"
    assert ax.get_xlim() == (0, 1) and ax.get_ylim() == (0, 1)
    assert ax.get_title() == "interaction"


def test_two_methods_give_two_curves_and_chance_in_order_of_appearance():
    from sklearn.metrics import roc_auc_score

    scores = two_methods()
    ax = roc_curves(scores)
    lines = ax.get_lines()
    assert len(lines) == 3
    texts = legend_texts(ax)
    assert texts[0].startswith("knowledge (AUROC ") and texts[1].startswith("gene2vec (AUROC ")
    assert texts[2] == "chance"
    rows = scores[scores.method == "knowledge"]
    assert f"AUROC {roc_auc_score(rows.label, rows.score):.3f}, n=200)" in texts[0]
    assert lines[0].get_color() != lines[1].get_color()
    np.testing.assert_array_equal(lines[2].get_xdata(), [0, 1])
    np.testing.assert_array_equal(lines[2].get_ydata(), [0, 1])
    assert lines[2].get_linestyle() == "--"


def test_show_chance_false_draws_only_the_methods():
    ax = roc_curves(two_methods(), show_chance=False)
    assert len(ax.get_lines()) == 2


def test_nan_scores_are_dropped_per_method():
    scores = two_methods()
    scores.loc[scores.index[scores.method == "gene2vec"][:30], "score"] = np.nan
    texts = legend_texts(roc_curves(scores))
    assert texts[0].endswith("n=200)")
    assert texts[1].endswith("n=170)")


def test_thousands_separator_in_n():
    texts = legend_texts(roc_curves(two_methods(n=1500)))
    assert texts[0].endswith("n=1,500)")


def test_draws_into_the_given_axes():
    _, ax = plt.subplots()
    assert roc_curves(two_methods(), ax=ax) is ax


def test_groupby_draws_one_panel_per_split():
    scores = two_methods()
    scores["split"] = np.where(np.arange(len(scores)) % 4 == 0, "test", "train")
    axes = roc_curves(scores, groupby="split", title="Gene2vec pairs")
    assert isinstance(axes, np.ndarray) and axes.shape == (2,)
    assert [a.get_title() for a in axes] == ["split = test", "split = train"]
    assert axes[0].figure.get_suptitle() == "Gene2vec pairs"
    n_test = (scores[scores.method == "knowledge"].split == "test").sum()
    assert legend_texts(axes[0])[0].endswith(f"n={n_test})")
    assert all(len(a.get_lines()) == 3 for a in axes)
    # a method keeps its colour in every panel
    assert axes[0].get_lines()[1].get_color() == axes[1].get_lines()[1].get_color()


def test_groupby_names_the_group_of_a_one_class_method():
    scores = two_methods()
    scores["split"] = "train"
    scores.loc[0, "split"] = "valid"
    with pytest.raises(ValueError, match="method 'knowledge' in split='valid' has labels of one class only"):
        roc_curves(scores, groupby="split")


def test_groupby_with_ax_raises():
    scores = two_methods()
    scores["split"] = "test"
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax=None"):
        roc_curves(scores, groupby="split", ax=ax)


def test_missing_column_is_named_with_the_columns():
    scores = two_methods().rename(columns={"score": "cosine"})
    with pytest.raises(KeyError, match=r"score_key='score'.*\['method', 'label', 'cosine'\]"):
        roc_curves(scores)
    with pytest.raises(KeyError, match="groupby='split'"):
        prc_curves(two_methods(), groupby="split")


def test_one_class_method_is_named():
    scores = two_methods()
    scores.loc[scores.method == "gene2vec", "label"] = 1
    with pytest.raises(ValueError, match="method 'gene2vec' has labels of one class only.*AUROC is undefined"):
        roc_curves(scores)
    with pytest.raises(ValueError, match="AUPRC is undefined"):
        prc_curves(scores)


def test_one_class_after_dropping_nan_is_named():
    scores = pd.DataFrame({"method": "knowledge", "label": [0, 1, 1], "score": [np.nan, 0.2, 0.3]})
    with pytest.raises(ValueError, match="method 'knowledge' has labels of one class only"):
        roc_curves(scores)


def test_empty_frame_raises():
    with pytest.raises(ValueError, match="scores is empty"):
        roc_curves(pd.DataFrame(columns=["method", "label", "score"]))


def test_non_binary_labels_raise():
    scores = pd.DataFrame({"method": "knowledge", "label": [0, 1, 2], "score": [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="0/1"):
        roc_curves(scores)


def test_prc_legend_holds_average_precision_and_positive_rate_line():
    from sklearn.metrics import average_precision_score

    # 3 positives in 8 items; the positive ranked 3rd gives AP = (1 + 1 + 3/5) / 3
    scores = pd.DataFrame({
        "method": "knowledge",
        "label": [1, 1, 0, 0, 1, 0, 0, 0],
        "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2],
    })
    ax = prc_curves(scores)
    ap = (1 + 1 + 3 / 5) / 3
    assert average_precision_score(scores.label, scores.score) == pytest.approx(ap)
    assert legend_texts(ax) == [f"knowledge (AUPRC {ap:.3f}, n=8)", "chance (positive rate 0.375)"]
    chance = ax.get_lines()[-1]
    np.testing.assert_allclose(chance.get_ydata(), [0.375, 0.375])
    np.testing.assert_array_equal(chance.get_xdata(), [0, 1])
    assert chance.get_linestyle() == "--"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Recall", "Precision")


def test_prc_groupby_positive_rate_per_panel():
    scores = pd.DataFrame({
        "method": "knowledge",
        "split": ["train"] * 4 + ["test"] * 4,
        "label": [1, 0, 0, 0, 1, 1, 0, 0],
        "score": [0.9, 0.1, 0.2, 0.3, 0.9, 0.8, 0.1, 0.2],
    })
    axes = prc_curves(scores, groupby="split")
    assert [a.get_lines()[-1].get_ydata()[0] for a in axes] == [0.25, 0.5]
