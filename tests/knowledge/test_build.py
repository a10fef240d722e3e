"""build_snapshot on a tiny hand-made SQLite pair (and the real snapshot's record)."""

import gzip
import json

import pandas as pd
import pytest

from bftbio.knowledge import build_snapshot
from bftbio.knowledge._build import _iso_date

TABLE_FILES = ["aliases", "genes", "go_annotations", "go_parents", "go_terms"]


def _read(directory, name):
    return pd.read_csv(directory / f"{name}.tsv.gz", sep="\t", dtype=str, keep_default_na=False)


def test_tables_hold_the_hand_made_rows(tiny_snapshot):
    genes = _read(tiny_snapshot, "genes")
    assert genes["ncbi_id"].tolist() == ["1", "2", "3", "40", "50"]  # sorted numerically
    first = genes.iloc[0].to_dict()
    assert first["chromosome"] == "X;Y" and first["cytoband"] == "Xp22.33;Yp11.2"
    assert genes.loc[genes["ncbi_id"] == "40", "chromosome"].item() == ""

    aliases = _read(tiny_snapshot, "aliases")
    # Each gene's own symbol is not repeated among its aliases.
    assert not ((aliases["ncbi_id"] == "1") & (aliases["alias"] == "AAA1")).any()
    assert aliases.loc[aliases["ncbi_id"] == "3", "alias"].tolist() == ["NA"]

    terms = _read(tiny_snapshot, "go_terms")
    assert "all" not in set(terms["go_id"])  # GO.db's pseudo-root is dropped
    assert terms.set_index("go_id").loc["GO:0000002", "definition"] == "A child with a tab."

    parents = _read(tiny_snapshot, "go_parents")
    assert set(parents["relationship"]) == {"is_a", "part_of", "regulates"}
    assert "all" not in set(parents["parent_id"])
    assert len(parents) == 9

    annotations = _read(tiny_snapshot, "go_annotations")
    assert "GO:0000098" not in set(annotations["go_id"])  # not a GO.db term
    assert len(annotations) == 7


def test_sources_json_records_versions_dates_and_counts(tiny_snapshot):
    sources = json.loads((tiny_snapshot / "sources.json").read_text())
    assert sources["source_dates"] == {
        "ncbi_gene": "2022-09-12",
        "go_annotations": "2022-09-12",
        "ensembl": "2022-06-28",
        "gene_ontology": "2022-07-01",
    }
    org = sources["packages"]["org.Hs.eg.db"]
    assert (org["debian_package"], org["debian_version"], org["version"]) == (
        "r-bioc-org.hs.eg.db", "3.16.0-1", "3.16.0")
    assert sources["tables"]["genes"]["rows"] == 5
    assert sources["tables"]["go_terms"]["rows"] == 10
    assert sources["propagation"]["relations"] == ["is_a", "part_of"]


def test_rebuilding_gives_identical_bytes(tiny_source, tiny_snapshot, tmp_path):
    again = build_snapshot(tiny_source, tmp_path / "again")
    for name in TABLE_FILES:
        assert (again / f"{name}.tsv.gz").read_bytes() == (tiny_snapshot / f"{name}.tsv.gz").read_bytes()
    # gzip header: no time stamp, no file name
    with open(again / "genes.tsv.gz", "rb") as handle:
        header = handle.read(10)
    assert header[4:8] == b"\0\0\0\0" and header[3] & 0x08 == 0


def test_refuses_to_overwrite_unless_asked(tiny_source, tmp_path):
    out = build_snapshot(tiny_source, tmp_path / "kb")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        build_snapshot(tiny_source, out)
    (out / "genes.tsv.gz").write_bytes(b"corrupt")
    build_snapshot(tiny_source, out, overwrite=True)
    with gzip.open(out / "genes.tsv.gz", "rt") as handle:
        assert handle.readline().startswith("ncbi_id\tsymbol")
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_missing_source_names_the_packages(tmp_path):
    with pytest.raises(FileNotFoundError, match="r-bioc-org.hs.eg.db"):
        build_snapshot(tmp_path, tmp_path / "kb")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [("2022-Sep12", "2022-09-12"), ("2022-07-01", "2022-07-01"), ("2022-Jun28", "2022-06-28"),
     ("Fri Sep 23 16:26:35 2022", None), (None, None)],
)
def test_iso_date(raw, iso):
    assert _iso_date(raw) == iso


def test_real_snapshot_is_small_and_complete(real_kb):
    sources = json.loads((real_kb / "sources.json").read_text())
    total = sum(p.stat().st_size for p in real_kb.iterdir())
    assert total < 20 * 2**20
    assert sources["tables"]["genes"]["rows"] > 77_000
    assert sources["tables"]["go_terms"]["rows"] > 43_000
    for name in TABLE_FILES:
        assert (real_kb / sources["tables"][name]["file"]).is_file()
