"""Enrichment on the tiny ontology: universe = AAA1, BBB2, CCC3, DUP (4 genes with BP)."""

import numpy as np
import pytest

from bftbio.knowledge import enrichment
from bftbio.knowledge._enrichment import benjamini_hochberg


def test_hypergeometric_by_hand(tiny_kb):
    table = enrichment(["AAA1", "BBB2"], min_size=1, max_size=10, min_overlap=1).set_index("go_id")
    assert table.attrs["universe_size"] == 4
    # 0003 holds exactly the two genes: C(2,2)C(2,0)/C(4,2) = 1/6.
    assert table.loc["GO:0000003", "p_value"] == pytest.approx(1 / 6)
    # 0002 holds 3 of 4 genes, both set genes in it: C(3,2)/C(4,2) = 1/2.
    assert table.loc["GO:0000002", "p_value"] == pytest.approx(1 / 2)
    # 0006 holds BBB2 only: P(X >= 1) = 1 - C(3,2)/C(4,2) = 1/2.
    assert table.loc["GO:0000006", "p_value"] == pytest.approx(1 / 2)
    assert table.loc["GO:0000001", "p_value"] == pytest.approx(1.0)
    assert table.index[0] == "GO:0000003"
    assert table.loc["GO:0000003", "genes"] == "AAA1,BBB2"
    # Ties in p: the larger overlap first.
    assert list(table.index[1:3]) == ["GO:0000002", "GO:0000006"]


def test_size_and_overlap_filters_and_exclusion(tiny_kb):
    table = enrichment(["AAA1", "BBB2"], min_size=2, max_size=3, min_overlap=2, exclude=["GO:0000002"])
    assert table["go_id"].tolist() == ["GO:0000003"]
    assert table.attrs["n_excluded"] == 1


def test_unknown_genes_are_reported(tiny_kb):
    table = enrichment(["AAA1", "BBB2", "NOPE"], min_size=1, min_overlap=1)
    assert table.attrs["unknown"] == ["NOPE"]
    assert set(table["set_size"]) == {2}


def test_bad_input(tiny_kb):
    with pytest.raises(TypeError, match="not one string"):
        enrichment("AAA1")
    with pytest.raises(ValueError, match="min_size"):
        enrichment(["AAA1"], min_size=5, max_size=2)


def test_benjamini_hochberg_by_hand():
    np.testing.assert_allclose(benjamini_hochberg(np.array([0.01, 0.04, 0.03])), [0.03, 0.04, 0.04])
    assert benjamini_hochberg(np.array([])).size == 0


def test_real_peroxisome_set(real_kb):
    top = enrichment(["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7", "PEX10", "PEX12"]).iloc[0]
    assert "peroxisom" in top["name"]
    assert top["q_value"] < 1e-10
