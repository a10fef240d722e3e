"""The benchmark data that ship with the package: present, unchanged, found by default."""

import json

import pytest

from bftbio.datasets import dataset_dir, gene2vec_interactions, geneagent_gene_sets, packaged_dir, packaged_sources
from bftbio.datasets._files import sha256


def test_every_packaged_file_matches_its_recorded_checksum():
    folder = packaged_dir()
    sources = packaged_sources()
    listed = set()
    for name, dataset in sources["datasets"].items():
        assert dataset["licence"] and dataset["source"].startswith("https://"), name
        assert (folder / name / "LICENSE").is_file(), name
        for relative, checksum in dataset["files"].items():
            assert sha256(folder / name / relative) == checksum, f"{name}/{relative}"
            listed.add(f"{name}/{relative}")
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {"sources.json", "README.md"}
    assert on_disk == listed


def test_readers_default_to_the_packaged_copy(monkeypatch, tmp_path):
    monkeypatch.delenv("BFTBIO_DATA", raising=False)
    assert dataset_dir("geneagent") == packaged_dir() / "geneagent"
    assert len(geneagent_gene_sets("NeST")) == 50
    assert len(gene2vec_interactions("validation")) == 5_568
    # A dataset the package does not ship still goes to the cache.
    assert dataset_dir("gears").name == "gears" and packaged_dir() not in dataset_dir("gears").parents


def test_environment_and_path_override_the_packaged_copy(monkeypatch, tmp_path):
    (tmp_path / "geneagent" / "datasets").mkdir(parents=True)
    (tmp_path / "geneagent" / "datasets" / "NeST.tsv").write_text("NEST ID\tname_new\tGenes\nN1\tmy process\tTP53,MDM2\n")
    monkeypatch.setenv("BFTBIO_DATA", str(tmp_path))
    assert dataset_dir("geneagent") == tmp_path / "geneagent"
    assert geneagent_gene_sets("NeST")["name"].tolist() == ["my process"]
    # An explicit path wins over the environment.
    assert len(geneagent_gene_sets("NeST", path=packaged_dir() / "geneagent")) == 50


def test_sources_record_the_changes_made_to_the_published_files():
    geneagent = packaged_sources()["datasets"]["geneagent"]
    assert "first line" in geneagent["changes"] and "removed" in geneagent["changes"]
    assert json.loads((packaged_dir() / "sources.json").read_text()) == packaged_sources()


@pytest.mark.parametrize("name", ["gene2vec", "geneagent"])
def test_licences_are_the_published_ones(name):
    text = (packaged_dir() / name / "LICENSE").read_text()
    assert ("MIT" in text) if name == "gene2vec" else ("PUBLIC DOMAIN" in text.upper())
