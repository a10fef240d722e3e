"""go_annotations and background."""

import pytest

from bftbio.knowledge import background, go_annotations


def test_tiny_annotations(tiny_kb):
    table = go_annotations()
    assert list(table.columns) == ["symbol", "go_id", "ontology", "evidence", "ncbi_id"]
    assert len(table) == 7
    bp = go_annotations("BP")
    assert sorted(bp["symbol"].unique()) == ["AAA1", "BBB2", "CCC3", "DUP"]
    iea = go_annotations("bp", evidence="IEA")
    assert sorted(zip(iea["symbol"], iea["go_id"])) == [("AAA1", "GO:0000003"), ("BBB2", "GO:0000006")]
    assert len(go_annotations(evidence=["IDA", "TAS"])) == 4


def test_tiny_background(tiny_kb):
    assert background("BP") == {"AAA1", "BBB2", "CCC3", "DUP"}
    assert background("MF") == {"BBB2"}
    assert background("CC", evidence="IEA") == set()


def test_evidence_and_ontology_are_checked(tiny_kb):
    with pytest.raises(ValueError, match="Unknown GO evidence codes.*XYZ"):
        go_annotations(evidence=["IDA", "XYZ"])
    with pytest.raises(ValueError, match="ontology"):
        background(None)


def test_real_background_sizes(real_kb):
    assert len(background("BP")) == 18903
    assert "TP53" in background("BP")
    table = go_annotations("MF")
    assert set(table["ontology"]) == {"MF"}
    assert table["symbol"].notna().all()
