"""genes() and aliases()."""

import pytest

from bftbio.knowledge import aliases, genes


def test_tiny_genes_keep_one_row_per_symbol(tiny_kb):
    table = genes()
    assert table.index.is_unique
    assert sorted(table.index) == ["AAA1", "BBB2", "CCC3", "DUP"]
    # DUP: the protein-coding record (50) wins over the lower NCBI ID (40).
    assert table.loc["DUP", "ncbi_id"] == 50
    assert table.attrs["shared_symbols"] == {"DUP": [50, 40]}
    assert table.loc["AAA1", "chromosome"] == "X;Y"
    assert list(table.columns) == ["ncbi_id", "name", "type", "chromosome", "cytoband", "ensembl"]


def test_genes_returns_a_copy(tiny_kb):
    table = genes()
    table.loc["AAA1", "name"] = "changed"
    assert genes().loc["AAA1", "name"] == "alpha gene"


def test_tiny_aliases(tiny_kb):
    assert aliases("AAA1") == ["AL1", "SHARED"]
    assert aliases("CCC3") == ["NA"]
    assert aliases("DUP") == ["OLDDUP"]  # aliases of every record named DUP


def test_aliases_of_an_alias_suggests_the_symbol(tiny_kb):
    with pytest.raises(KeyError, match="did you mean 'AAA1'"):
        aliases("al1")
    with pytest.raises(KeyError, match="not an official"):
        aliases("NOPE")


def test_real_genes(real_kb):
    table = genes()
    assert len(table) > 77_000 and table.index.is_unique
    assert (table["type"] == "protein-coding").sum() >= 19_000
    assert table.loc["TP53", "ncbi_id"] == 7157
    assert table.loc["TP53", "ensembl"] == "ENSG00000141510"
    assert table.loc["HBD", "name"] == "hemoglobin subunit delta"
    assert table.attrs["shared_symbols"]["HBD"] == [3045, 100187828]


def test_real_aliases(real_kb):
    assert "P53" in aliases("TP53")
    assert {"HER2", "NEU"} <= set(aliases("ERBB2"))
    assert "TP53" not in aliases("TP53")


def test_knowledge_profile_can_leave_out_the_location(real_kb):
    from bftbio.knowledge import knowledge_profile

    with_location = knowledge_profile("TP53")
    without = knowledge_profile("TP53", location=False)
    assert "on human chromosome 17 (17p13.1)" in with_location
    assert "chromosome" not in without and "17p13" not in without
    assert without == with_location.replace(" on human chromosome 17 (17p13.1)", "")
