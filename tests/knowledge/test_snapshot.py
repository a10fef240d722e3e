"""Locating and loading the snapshot; provenance."""

import json
import shutil
import subprocess
import sys

import pytest

from bftbio.knowledge import _snapshot, provenance


@pytest.fixture
def no_snapshot(tmp_path, monkeypatch):
    monkeypatch.delenv(_snapshot.ENV_VAR, raising=False)
    monkeypatch.setattr(_snapshot, "WHEEL_DIR", tmp_path / "wheel" / "_snapshot")
    monkeypatch.setattr(_snapshot, "CHECKOUT_DIR", tmp_path / "checkout" / "data" / "kb")
    _snapshot.forget()
    yield tmp_path
    _snapshot.forget()


def test_missing_snapshot_names_the_build_command(no_snapshot):
    with pytest.raises(FileNotFoundError, match="bftbio kb build"):
        provenance()


def test_wheel_copy_comes_before_checkout(no_snapshot, tiny_snapshot):
    shutil.copytree(tiny_snapshot, _snapshot.CHECKOUT_DIR)
    assert provenance()["snapshot_dir"] == str(_snapshot.CHECKOUT_DIR)
    shutil.copytree(tiny_snapshot, _snapshot.WHEEL_DIR)
    _snapshot.forget()
    assert provenance()["snapshot_dir"] == str(_snapshot.WHEEL_DIR)


def test_env_var_comes_first_and_must_hold_a_snapshot(no_snapshot, tiny_snapshot, monkeypatch):
    shutil.copytree(tiny_snapshot, _snapshot.WHEEL_DIR)
    monkeypatch.setenv(_snapshot.ENV_VAR, str(tiny_snapshot))
    assert provenance()["snapshot_dir"] == str(tiny_snapshot)
    monkeypatch.setenv(_snapshot.ENV_VAR, str(no_snapshot / "empty"))
    with pytest.raises(FileNotFoundError, match="BFTBIO_KB"):
        provenance()


def test_tables_load_lazily_and_once(tiny_kb):
    snapshot = _snapshot.current()
    assert snapshot._tables == {}
    first = snapshot.table("genes")
    assert set(snapshot._tables) == {"genes"}
    assert snapshot.table("genes") is first


def test_alias_na_stays_a_string(tiny_kb):
    aliases = _snapshot.current().table("aliases")
    assert aliases["alias"].isna().sum() == 0
    assert "NA" in aliases["alias"].tolist()


def test_newer_format_is_refused(tiny_snapshot, tmp_path, monkeypatch):
    copy = shutil.copytree(tiny_snapshot, tmp_path / "kb")
    sources = json.loads((copy / "sources.json").read_text())
    sources["format"] = 99
    (copy / "sources.json").write_text(json.dumps(sources))
    monkeypatch.setenv(_snapshot.ENV_VAR, str(copy))
    with pytest.raises(ValueError, match="format 99"):
        provenance()
    _snapshot.forget(copy)


def test_provenance_of_the_real_snapshot(real_kb):
    info = provenance()
    assert info["source_dates"]["gene_ontology"] == "2022-07-01"
    assert info["source_dates"]["ncbi_gene"] == "2022-09-12"
    assert info["source_dates"]["go_annotations"] == "2022-09-12"
    assert info["packages"]["org.Hs.eg.db"]["version"] == "3.16.0"
    assert info["packages"]["GO.db"]["debian_package"] == "r-bioc-go.db"
    info["source_dates"]["gene_ontology"] = "changed"
    assert provenance()["source_dates"]["gene_ontology"] == "2022-07-01"  # a copy


def test_importing_knowledge_stays_light():
    code = "import sys, bftbio.knowledge; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
