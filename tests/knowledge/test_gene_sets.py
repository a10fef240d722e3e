"""propagate and gene_sets: the true path rule, sizes, evidence."""

import numpy as np
import pytest
from scipy import sparse

from bftbio.knowledge import ancestor_closure, ancestors, descendants, gene_sets, go_annotations, propagate


def test_propagate_kernel_by_hand():
    # terms: 0 is_a 1, 1 part_of 2, 3 unrelated; genes: g0 on term 0, g1 on term 3 and 1
    closure = ancestor_closure([0, 1], [1, 2], 4)
    direct = sparse.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 1]]))
    assert propagate(direct, closure).toarray().astype(int).tolist() == [[1, 1, 1, 0], [0, 1, 1, 1]]


def test_tiny_propagated_sets(tiny_kb):
    sets = gene_sets("BP", min_size=1, max_size=None)
    assert sets == {
        "GO:0000001": ("AAA1", "BBB2", "CCC3", "DUP"),
        "GO:0000002": ("AAA1", "BBB2", "DUP"),  # not CCC3: only `regulates` links 0004 to it
        "GO:0000003": ("AAA1", "BBB2"),
        "GO:0000004": ("CCC3",),
        "GO:0000005": ("CCC3",),
        "GO:0000006": ("BBB2",),
    }
    assert gene_sets("MF", min_size=1) == {"GO:0000010": ("BBB2",), "GO:0000011": ("BBB2",)}


def test_tiny_direct_sets_and_evidence(tiny_kb):
    assert gene_sets("BP", min_size=1, propagate=False) == {
        "GO:0000002": ("DUP",), "GO:0000003": ("AAA1",), "GO:0000004": ("CCC3",), "GO:0000006": ("BBB2",)}
    assert gene_sets("BP", min_size=1, evidence="IEA") == {
        "GO:0000001": ("AAA1", "BBB2"), "GO:0000002": ("AAA1", "BBB2"),
        "GO:0000003": ("AAA1", "BBB2"), "GO:0000006": ("BBB2",)}


def test_tiny_size_limits(tiny_kb):
    assert set(gene_sets("BP", min_size=2, max_size=3)) == {"GO:0000002", "GO:0000003"}
    assert set(gene_sets("BP", min_size=4, max_size=None)) == {"GO:0000001"}


@pytest.mark.parametrize(("low", "high"), [(0, 10), (5, 4), (2.5, 10), (3, "many")])
def test_bad_sizes(tiny_kb, low, high):
    with pytest.raises(ValueError, match="size"):
        gene_sets("BP", min_size=low, max_size=high)


def test_returned_dict_is_not_the_cache(tiny_kb):
    gene_sets("BP", min_size=1).clear()
    assert len(gene_sets("BP", min_size=1)) == 6


def test_real_term_holds_its_childrens_genes(real_kb):
    apoptosis = "GO:0006915"
    sets = gene_sets("BP", min_size=1, max_size=None)
    members = set(sets[apoptosis])
    children = descendants(apoptosis)
    assert children
    direct = go_annotations("BP")
    below = set(direct.loc[direct["go_id"].isin(children), "symbol"])
    on_term = set(direct.loc[direct["go_id"] == apoptosis, "symbol"])
    assert below - on_term  # genes annotated only below the term ...
    assert members == on_term | below  # ... are in its propagated set, and nothing else
    assert sets[apoptosis] == tuple(sorted(members))


def test_real_sets_respect_sizes_and_propagation(real_kb):
    sets = gene_sets("BP", min_size=15, max_size=200)
    sizes = [len(genes) for genes in sets.values()]
    assert sets and min(sizes) >= 15 and max(sizes) <= 200
    everything = gene_sets("BP", min_size=1, max_size=None)
    # true path rule: a term's genes are a subset of each ancestor's genes
    for term in list(everything)[:200]:
        for parent in ancestors(term):
            assert set(everything[term]) <= set(everything[parent])
    assert len(everything) > len(gene_sets("BP", min_size=1, max_size=None, propagate=False))
