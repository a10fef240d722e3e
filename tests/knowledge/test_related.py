"""The exclusion rule, on the tiny hand-made ontology (see tests/conftest.py).

Propagated BP gene sets there: 0006 {BBB2}, 0003 {AAA1, BBB2}, 0002 {AAA1, BBB2, DUP},
0004 {CCC3}, 0005 {CCC3}, 0001 {AAA1, BBB2, CCC3, DUP}; 0004 regulates 0002.
"""

import pytest

from bftbio.knowledge import related_terms

TRUE_PATH = ("is_a", "part_of")


def test_lineage_goes_both_ways(tiny_kb):
    assert related_terms(["GO:0000003"], jaccard=None) == {"GO:0000003", "GO:0000002", "GO:0000001", "GO:0000006"}
    assert related_terms(["GO:0000003"], lineage=False, jaccard=None) == {"GO:0000003"}


def test_lineage_follows_regulates_by_default(tiny_kb):
    assert "GO:0000004" in related_terms(["GO:0000002"], jaccard=None)
    assert "GO:0000004" not in related_terms(["GO:0000002"], jaccard=None, relations=TRUE_PATH)


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (0.5, {"GO:0000003", "GO:0000002", "GO:0000006", "GO:0000001"}),  # 1, 2/3, 1/2, 2/4
        (0.6, {"GO:0000003", "GO:0000002"}),
        (1.0, {"GO:0000003"}),
    ],
)
def test_jaccard_threshold(tiny_kb, threshold, expected):
    assert related_terms(gene_sets=[["AAA1", "BBB2"]], jaccard=threshold) == expected


def test_genes_outside_the_ontology_count_in_the_union(tiny_kb):
    # {AAA1, BBB2, X}: Jaccard with 0003 is 2/3, with 0002 is 2/4.
    assert related_terms(gene_sets=[["AAA1", "BBB2", "NOT_A_GENE"]], jaccard=0.6) == {"GO:0000003"}


def test_empty_input_and_unknown_ids(tiny_kb):
    assert related_terms() == set()
    assert related_terms([], [[]]) == set()
    # An ID missing from the release stays excluded, with no lineage to add.
    assert related_terms(["GO:9999999"], jaccard=None) == {"GO:9999999"}


def test_bad_arguments(tiny_kb):
    with pytest.raises(ValueError, match="jaccard must be"):
        related_terms(gene_sets=[["AAA1"]], jaccard=1.5)
    with pytest.raises(TypeError, match="gene symbols as strings"):
        related_terms(gene_sets=[[7157]])


def test_real_apoptosis_lineage(real_kb):
    out = related_terms(["GO:0006915"], jaccard=None)
    assert {"GO:0012501", "GO:0097194", "GO:0042981"} <= out  # a parent, a child, "regulation of apoptotic process"
    assert "GO:0006412" not in out  # translation
