"""ancestor_closure, ancestors/descendants and go_terms."""

import numpy as np
import pytest

from bftbio.knowledge import ancestor_closure, ancestors, descendants, go_terms


def _rows(closure):
    return [closure.indices[closure.indptr[i] : closure.indptr[i + 1]].tolist() for i in range(closure.shape[0])]


def test_closure_of_a_diamond_and_a_chain():
    # 0 -> 1 -> 3, 0 -> 2 -> 3, 3 -> 4 -> 5 -> 6 -> 7 -> 8 -> 9 (longer than 2**3)
    child = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    parent = [1, 2, 3, 3, 4, 5, 6, 7, 8, 9]
    rows = _rows(ancestor_closure(child, parent, 11))
    assert rows[0] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert rows[2] == [3, 4, 5, 6, 7, 8, 9]
    assert rows[9] == [] and rows[10] == []  # a root, and an isolated node


def test_closure_matches_a_naive_search():
    rng = np.random.default_rng(0)
    n = 60
    child, parent = [], []
    for node in range(1, n):  # edges only point to lower ids: a DAG
        for target in rng.choice(node, size=min(node, 3), replace=False):
            child.append(node)
            parent.append(int(target))
    expected = []
    for node in range(n):
        seen, stack = set(), [node]
        while stack:
            current = stack.pop()
            for c, p in zip(child, parent):
                if c == current and p not in seen:
                    seen.add(p)
                    stack.append(p)
        expected.append(sorted(seen))
    assert _rows(ancestor_closure(child, parent, n)) == expected


def test_closure_refuses_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        ancestor_closure([0, 1, 2], [1, 2, 0], 3)


def test_tiny_ancestors_follow_is_a_and_part_of(tiny_kb):
    assert ancestors("GO:0000006") == {"GO:0000001", "GO:0000002", "GO:0000003"}
    # regulates is not followed by default ...
    assert ancestors("GO:0000004") == {"GO:0000001", "GO:0000005"}
    # ... but can be asked for.
    assert ancestors("GO:0000004", relations=("is_a", "regulates")) == {
        "GO:0000001", "GO:0000002", "GO:0000005"}
    assert ancestors("GO:0000003", relations="is_a") == set()
    assert ancestors("GO:0000021") == {"GO:0000020"}
    assert ancestors("GO:0000001") == set()


def test_tiny_descendants(tiny_kb):
    assert descendants("GO:0000002") == {"GO:0000003", "GO:0000006"}
    assert descendants("GO:0000001") == {f"GO:000000{i}" for i in range(2, 7)}
    assert descendants("GO:0000010") == {"GO:0000011"}


def test_lineage_errors(tiny_kb):
    with pytest.raises(KeyError, match="GO:0000098"):
        ancestors("GO:0000098")
    with pytest.raises(ValueError, match="relations"):
        ancestors("GO:0000001", relations=("is_a", "occurs_in"))


def test_tiny_go_terms(tiny_kb):
    terms = go_terms("bp")
    assert terms.index.name == "go_id" and len(terms) == 6
    assert list(terms.columns) == ["name", "ontology", "definition"]
    assert terms["definition"].isna().sum() == 1
    assert len(go_terms()) == 10
    with pytest.raises(ValueError, match="'BP', 'MF', 'CC'"):
        go_terms("XX")


def test_real_lineage(real_kb):
    apoptosis = "GO:0006915"
    up = ancestors(apoptosis)
    assert {"GO:0012501", "GO:0008219", "GO:0008150"} <= up  # programmed cell death, cell death, BP
    assert apoptosis not in up
    assert apoptosis in descendants("GO:0008150")
    assert all(apoptosis in ancestors(child) for child in descendants(apoptosis))
    # "regulation of apoptotic process" is below apoptosis only through `regulates`.
    assert "GO:0042981" not in descendants(apoptosis)
    assert "GO:0042981" in descendants(apoptosis, relations=("is_a", "part_of", "regulates"))
    assert go_terms("BP").loc[apoptosis, "name"] == "apoptotic process"
