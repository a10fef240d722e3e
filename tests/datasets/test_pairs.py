import numpy as np
import pandas as pd
import pytest

from bftbio.datasets import gene_pairs


def test_frames_lists_and_arrays_give_the_same_pairs():
    expected = {"gene_a": ["TP53", "CBL"], "gene_b": ["MDM2", "CNN1"]}
    frame = pd.DataFrame({"x": ["TP53", "CBL"], "y": ["MDM2", "CNN1"], "z": [1, 2]}, index=[7, 3])
    assert gene_pairs(frame).to_dict("list") == expected  # the first two columns, a fresh index
    named = pd.DataFrame({"score": [0.1, 0.2], "gene_b": ["MDM2", "CNN1"], "gene_a": ["TP53", "CBL"]})
    assert gene_pairs(named).to_dict("list") == expected  # gene_a/gene_b wherever they are
    assert gene_pairs([("TP53", "MDM2"), ("CBL", "CNN1")]).to_dict("list") == expected
    assert gene_pairs(np.array([["TP53", "MDM2"], ["CBL", "CNN1"]])).to_dict("list") == expected
    assert list(gene_pairs([]).columns) == ["gene_a", "gene_b"] and len(gene_pairs([])) == 0
    assert gene_pairs([(1, 2)]).to_dict("list") == {"gene_a": ["1"], "gene_b": ["2"]}


def test_positives_only_keeps_the_pairs_labelled_1():
    frame = pd.DataFrame({"gene_a": ["A", "B", "C"], "gene_b": ["D", "E", "F"], "label": [1, 0, 1]})
    assert gene_pairs(frame, positives_only=True)["gene_a"].tolist() == ["A", "C"]
    assert gene_pairs(frame)["gene_a"].tolist() == ["A", "B", "C"]  # the interaction task scores every pair


def test_bad_pairs_are_named():
    with pytest.raises(TypeError, match="network must be a DataFrame of gene pairs.*not a string"):
        gene_pairs("TP53", what="network")
    with pytest.raises(ValueError, match="pairs needs two gene columns"):
        gene_pairs(pd.DataFrame({"gene": ["A"]}))
    with pytest.raises(ValueError, match=r"must hold two genes each; got an array of shape \(1, 3\)"):
        gene_pairs([("A", "B", "C")])
