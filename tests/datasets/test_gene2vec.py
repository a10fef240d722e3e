import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bftbio.datasets import download_gene2vec, gene2vec_interactions, packaged_dir
from bftbio.datasets._files import sha256
from bftbio.datasets._gene2vec import _FILES

# The copy that ships with the package (data/benchmarks/gene2vec).
SHARED = packaged_dir() / "gene2vec"


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def write_split(folder: Path, stem: str, text: str, labels: str) -> Path:
    (folder / f"{stem}_text.txt").write_text(text)
    (folder / f"{stem}_label.txt").write_text(labels)
    return folder


@pytest.fixture(scope="module")
def splits():
    return {split: gene2vec_interactions(split, path=SHARED) for split in ("train", "validation", "test")}


@pytest.mark.parametrize(("split", "n"), [("train", 263_016), ("validation", 5_568), ("test", 21_448)])
def test_shared_split_sizes_and_labels(splits, split, n):
    df = splits[split]
    assert df.shape == (n, 3)
    assert list(df.columns) == ["gene_a", "gene_b", "label"]
    assert df["label"].dtype == np.int8
    assert set(df["label"].unique()) == {0, 1}
    assert df.attrs["source"] == str(SHARED)


def test_shared_rows_follow_the_files(splits):
    first = (SHARED / "train_text.txt").read_text().split("\n", 1)[0].split()
    last_label = (SHARED / "test_label.txt").read_text().split()[-1]
    assert splits["train"].loc[0, ["gene_a", "gene_b"]].tolist() == first
    assert splits["test"]["label"].iloc[-1] == int(last_label)


def test_shared_splits_share_no_gene(splits):
    genes = {name: set(df["gene_a"]) | set(df["gene_b"]) for name, df in splits.items()}
    assert genes["train"].isdisjoint(genes["validation"])
    assert genes["train"].isdisjoint(genes["test"])
    assert genes["validation"].isdisjoint(genes["test"])


def test_valid_is_an_alias_of_validation(splits):
    assert gene2vec_interactions("valid", path=SHARED).equals(splits["validation"])


def test_checksum_table_matches_shared_files():
    assert sorted(_FILES) == sorted(f"{stem}_{kind}.txt" for stem in ("train", "valid", "test") for kind in ("text", "label"))
    for file, checksum in _FILES.items():
        assert sha256(SHARED / file) == checksum, file


def test_download_keeps_files_that_match(tmp_path, no_network):
    for file in _FILES:
        shutil.copy(SHARED / file, tmp_path / file)
    assert download_gene2vec(tmp_path) == tmp_path


def test_download_refuses_a_file_with_another_checksum(tmp_path, no_network):
    for file in _FILES:
        (tmp_path / file).write_text("not the published file\n")
    with pytest.raises(ValueError, match="exists with another checksum"):
        download_gene2vec(tmp_path)
    assert (tmp_path / "train_text.txt").read_text() == "not the published file\n"


def test_small_files_read_in_order(tmp_path):
    write_split(tmp_path, "test", "A B\n  C\tD \nE F\n\n", "1\n0\n1\n")
    df = gene2vec_interactions("test", path=tmp_path)
    assert df["gene_a"].tolist() == ["A", "C", "E"]
    assert df["gene_b"].tolist() == ["B", "D", "F"]
    assert df["label"].tolist() == [1, 0, 1]


def test_unknown_split_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown Gene2vec split 'dev'.*'train', 'validation', 'test'"):
        gene2vec_interactions("dev", path=tmp_path)


def test_missing_folder_names_file_and_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train_text\.txt.*download_gene2vec\(\)"):
        gene2vec_interactions("train", path=tmp_path / "absent")


def test_mismatched_line_counts(tmp_path):
    write_split(tmp_path, "valid", "A B\nC D\nE F\n", "1\n0\n")
    with pytest.raises(ValueError, match=r"valid_text\.txt has 3 lines but .*valid_label\.txt has 2"):
        gene2vec_interactions("valid", path=tmp_path)


@pytest.mark.parametrize(("text", "line"), [("A B\nC D E\nF G\n", 2), ("A B C\nD E\nF G\n", 1),
                                            ("A B\nC D\nF\n", 3), ("A B\n\nF G\n", 2)])
def test_malformed_pair_names_file_and_line(tmp_path, text, line):
    write_split(tmp_path, "train", text, "1\n0\n1\n")
    with pytest.raises(ValueError, match=rf"train_text\.txt, line {line}: expected two genes"):
        gene2vec_interactions("train", path=tmp_path)


def test_label_not_binary_names_file_and_line(tmp_path):
    write_split(tmp_path, "test", "A B\nC D\nE F\n", "1\n0\n2\n")
    with pytest.raises(ValueError, match=r"test_label\.txt, line 3: expected a label 0 or 1, got '2'"):
        gene2vec_interactions("test", path=tmp_path)
