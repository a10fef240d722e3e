import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from bftbio.knowledge import genes as kb_genes
from bftbio.tasks import (
    InteractionClassifier,
    combine_pair,
    evaluate_interactions,
    predict_network,
    random_embeddings,
    sample_pairs,
)


@pytest.fixture
def world(real_kb):
    """60 real genes with 3-d vectors; a pair interacts when the first coordinates sum above 0."""
    table = kb_genes()
    names = list(table.index[table["type"] == "protein-coding"][:60])
    rng = np.random.default_rng(0)
    emb = pd.DataFrame(rng.standard_normal((60, 3)).astype(np.float32), index=names)
    pairs = pd.DataFrame(list(itertools.combinations(names, 2)), columns=["gene_a", "gene_b"])
    first = emb[0]
    pairs["label"] = ((first[pairs["gene_a"]].to_numpy() + first[pairs["gene_b"]].to_numpy()) > 0).astype(int)
    return emb, pairs


def test_combine_functions_by_hand():
    a, b = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]])
    np.testing.assert_array_equal(combine_pair(a, b, "sum"), [[4.0, 1.0]])
    np.testing.assert_array_equal(combine_pair(a, b, "hadamard"), [[3.0, -2.0]])
    np.testing.assert_array_equal(combine_pair(a, b, "concat"), [[4.0, 1.0, 2.0, 3.0, 3.0, -2.0]])
    for how in ("sum", "hadamard", "concat"):
        np.testing.assert_array_equal(combine_pair(a, b, how), combine_pair(b, a, how))
    with pytest.raises(ValueError, match="combine must be one of"):
        combine_pair(a, b, "difference")


def test_a_separable_rule_is_learned(world):
    emb, pairs = world
    clf = InteractionClassifier(emb, combine="sum").fit(pairs[["gene_a", "gene_b"]], pairs["label"])
    p = clf.predict_proba(pairs[["gene_a", "gene_b"]])[:, 1]
    assert ((p >= 0.5) == pairs["label"]).mean() > 0.97
    assert clf.predict(list(pairs[["gene_a", "gene_b"]].itertuples(index=False))).tolist() == (p >= 0.5).tolist()
    assert clf.missing_["fit"]["n_missing"] == 0
    # Swapping the two genes of every pair changes nothing: the features are symmetric.
    swapped = clf.predict_proba(pairs[["gene_b", "gene_a"]].to_numpy())[:, 1]
    np.testing.assert_allclose(p, swapped)


def test_aliases_find_the_official_symbol(real_kb):
    emb = pd.DataFrame([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], index=["TP53", "MDM2", "HBB"], dtype=np.float32)
    clf = InteractionClassifier(emb, classifier=LogisticRegression()).fit(
        [("TP53", "MDM2"), ("TP53", "HBB"), ("MDM2", "HBB"), ("TP53", "TP53")], [1, 0, 0, 1])
    np.testing.assert_allclose(clf.predict_proba([("p53", "MDM2")]), clf.predict_proba([("TP53", "MDM2")]))


@pytest.mark.parametrize("policy", ["drop", "prior"])
def test_pairs_without_embeddings_follow_the_policy(world, policy):
    emb, pairs = world
    emb = emb.copy()
    emb.iloc[0] = np.nan  # the first gene has no embedding
    gone = emb.index[0]
    extra = pd.DataFrame({"gene_a": ["NOTAGENE", gone], "gene_b": [emb.index[1], emb.index[2]]})
    clf = InteractionClassifier(emb, missing=policy)
    with pytest.warns(UserWarning, match=rf"59 of 1770 pairs .* policy '{policy}': left out of the fit"):
        clf.fit(pairs[["gene_a", "gene_b"]], pairs["label"])
    assert clf.missing_["fit"] == {"n_pairs": 1770, "n_missing": 59, "genes": [gone]}
    with pytest.warns(UserWarning, match="NOTAGENE"):
        p = clf.predict_proba(extra)[:, 1]
    if policy == "drop":
        assert np.isnan(p).all()
    else:
        np.testing.assert_allclose(p, clf.prior_)
        assert clf.prior_ == pytest.approx(pairs["label"][~pairs["gene_a"].eq(gone)].mean())


@pytest.mark.fault
def test_bad_input_is_named(world):
    emb, pairs = world
    with pytest.raises(ValueError, match="3 pairs but 2 labels"):
        InteractionClassifier(emb).fit(pairs[:3], [0, 1])
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        InteractionClassifier(emb).fit(pairs[:3][["gene_a", "gene_b"]], [0, 1, 2])
    with pytest.raises(ValueError, match="classifier must be one of"):
        InteractionClassifier(emb, classifier="svm").fit(pairs[["gene_a", "gene_b"]], pairs["label"])
    with pytest.raises(ValueError, match="missing must be one of"):
        InteractionClassifier(emb, missing="zero").fit(pairs[["gene_a", "gene_b"]], pairs["label"])
    with pytest.raises(ValueError, match="not fitted"):
        InteractionClassifier(emb).predict_proba([("TP53", "MDM2")])
    with pytest.raises(ValueError, match="two genes each"):
        InteractionClassifier(emb).fit([("A", "B", "C")], [1])
    with pytest.raises(ValueError, match="one class only"):
        InteractionClassifier(emb).fit(pairs[:3][["gene_a", "gene_b"]], [1, 1, 1])
    # A row of NaN is a gene without a vector (allowed, counted); a stray NaN or inf is named.
    holes = emb.copy()
    holes.iloc[2] = np.nan
    with pytest.warns(UserWarning, match="59 of 1770 pairs have a gene without an embedding"):
        InteractionClassifier(holes).fit(pairs[["gene_a", "gene_b"]], pairs["label"])
    holes.iloc[4, 1] = np.inf
    with pytest.raises(ValueError, match=rf"embedding table holds 1 NaN or infinite values .*row '{emb.index[4]}'"):
        InteractionClassifier(holes).fit(pairs[["gene_a", "gene_b"]], pairs["label"])


def test_evaluate_picks_the_setting_on_validation_and_reports_test(world):
    emb, pairs = world
    rng = np.random.default_rng(1)
    split = rng.choice(["train", "validation", "test"], size=len(pairs), p=[0.6, 0.2, 0.2])
    splits = {s: pairs[split == s].reset_index(drop=True) for s in ("train", "validation", "test")}
    table, scores = evaluate_interactions(
        {"real": emb, "random": random_embeddings(emb.index, dim=3, seed=5)}, splits=splits,
        combines=("sum", "hadamard"), return_scores=True)
    assert list(table.columns) == ["task", "dataset", "split", "method", "metric", "value", "n", "setting"]
    test = table[table["split"] == "test"].set_index(["method", "metric"])["value"]
    assert test["prior", "auroc"] == 0.5
    assert test["real", "auroc"] > 0.95 > test["random", "auroc"]
    assert test["real", "auprc"] > test["prior", "auprc"]
    assert table.query("method == 'real'")["setting"].unique().tolist() == ["sum+logistic"]
    assert len(scores) == 2 * len(splits["test"]) and set(scores["method"]) == {"real", "random"}


def test_predict_network(world):
    emb, pairs = world
    clf = InteractionClassifier(emb).fit(pairs[["gene_a", "gene_b"]], pairs["label"])
    genes = list(emb.index[:8]) + ["NOTAGENE"]
    graph = predict_network(genes, clf, threshold=0.5)
    assert set(graph.nodes) == set(genes) and graph.nodes["NOTAGENE"]["found"] is False
    assert graph.degree["NOTAGENE"] == 0
    expected = {frozenset(p) for p in itertools.combinations(genes[:8], 2)
                if clf.predict_proba([p])[0, 1] >= 0.5}
    assert {frozenset(e) for e in graph.edges} == expected
    for _, _, attrs in graph.edges(data=True):
        assert 0.5 <= attrs["probability"] <= 1
    with pytest.raises(ValueError, match="threshold"):
        predict_network(genes, clf, threshold=2)


def test_sample_pairs_keeps_pairs_inside_the_sample(world):
    _, pairs = world
    small = sample_pairs(pairs, 20, seed=3)
    genes = set(small["gene_a"]) | set(small["gene_b"])
    assert len(genes) <= 20 and len(small) == 190  # all pairs of the 20 chosen genes
    assert sample_pairs(pairs, 1000) is pairs
    np.testing.assert_allclose(np.linalg.norm(random_embeddings(["A", "B"], dim=7), axis=1), 1, rtol=1e-6)


GENE2VEC = __import__("bftbio.datasets").datasets.packaged_dir() / "gene2vec"


def test_benchmark_on_a_sample_of_the_real_splits(real_kb):
    from bftbio.tasks import benchmark_interactions

    table = benchmark_interactions({"random": "random", "annotations": "annotations"}, data=GENE2VEC,
                                   sample_genes={"train": 400, "validation": 200, "test": 300})
    assert table["dataset"].iloc[0] == "gene2vec (sample: train 400 genes, validation 200 genes, test 300 genes)"
    test = table[table["split"] == "test"].set_index(["method", "metric"])
    assert test.loc[("prior", "auroc"), "value"] == 0.5
    assert test.loc[("random", "auroc"), "n"] > 50  # pairs among 300 sampled test genes
    assert abs(test.loc[("random", "auroc"), "value"] - 0.5) < 0.15
    with pytest.raises(ValueError, match="spec must be"):
        benchmark_interactions({"x": "summaries"}, data=GENE2VEC, sample_genes={"train": 50, "test": 50})
