"""The Gene2vec gene–gene interaction benchmark (Du et al., BMC Genomics 2019).

Pairs of human genes labelled 1 (they interact) or 0, split into train (263,016
pairs), validation (5,568) and test (21,448) so that no gene occurs in two splits:
the test split measures genes a model has never seen. From
github.com/jingcheng-du/Gene2vec, folder ``predictionData/`` (MIT licence); GenePT
(Chen & Zou 2024) reports AUROC on the same split.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import dataset_dir, download_file, require_file

_REPO = "https://raw.githubusercontent.com/jingcheng-du/Gene2vec/master/predictionData/"
# split -> file stem of the published files
_SPLITS = {"train": "train", "validation": "valid", "test": "test"}
_ALIASES = {"valid": "validation"}
# file -> sha256 of the published file
_FILES = {
    "train_text.txt": "5d7808130c0b337c15b927545cbff9552b754610a29c89dfe2a6c54c91299e96",
    "train_label.txt": "d8f5631b3e4ac8eb60bca80ef5f73a9d521c017d2bafee3a6fc65659789b3434",
    "valid_text.txt": "aa34b4e3894d5339100b9d255fbc6325f96327f4e2a61f634d11ce2154614c51",
    "valid_label.txt": "df038f9ca8937ec0c501058c4a6ec4624bbcc73824c79003058652c844acbb6d",
    "test_text.txt": "c03f4b276bb9ddbb60b3e82eba32391578c95b4c353479a369e16066a04d5360",
    "test_label.txt": "1e9ffeba8c927e3b12565c37ff5bc8fd9300d6500f67152687eeee198c7ccdb1",
}
# A line of exactly two whitespace-separated fields ([^\S\n]: whitespace but a newline).
_PAIR = re.compile(r"^[^\S\n]*(\S+)[^\S\n]+(\S+)[^\S\n]*$", re.MULTILINE)
_HINT = "call bftbio.datasets.download_gene2vec() with a network."


def _lines(f: Path) -> list[str]:
    # read_text turns \r\n into \n. Blank lines at the very end are an editor's
    # artefact, not records; blank lines elsewhere are reported as malformed.
    lines = f.read_text(encoding="utf-8").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _pairs(f: Path) -> tuple[list[str], list[str]]:
    """The two genes of each line of ``f``, or a ValueError naming the first bad line."""
    lines = _lines(f)
    # One regular expression over the whole file is several times faster than
    # splitting 263,016 lines one by one; it matches each line at most once, so
    # as many matches as lines means every line holds exactly two genes.
    pairs = _PAIR.findall("\n".join(lines))
    if len(pairs) != len(lines):
        pairs = []
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if len(fields) != 2:
                raise ValueError(f"{f}, line {number}: expected two genes separated by whitespace, "
                                 f"got {len(fields)} field(s): {line.strip()!r}")
            pairs.append(fields)
    return [p[0] for p in pairs], [p[1] for p in pairs]


def gene2vec_interactions(split: str, *, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Gene pairs and interaction labels of one split of the Gene2vec benchmark.

    Parameters
    ----------
    split
        ``"train"`` (263,016 pairs), ``"validation"`` (5,568; ``"valid"`` also
        accepted) or ``"test"`` (21,448). The three splits share no gene.
    path
        Folder holding ``{train,valid,test}_text.txt`` and ``*_label.txt``
        (default: see :func:`dataset_dir`, dataset ``gene2vec``). Use
        :func:`download_gene2vec` to fetch them.

    Returns
    -------
    DataFrame with columns ``gene_a``, ``gene_b`` (symbols as written in the
    files) and ``label`` (int8: 1 the genes interact, 0 they do not), one row
    per line in file order. ``attrs["source"]`` is the folder read.

    Raises
    ------
    ValueError
        For an unknown split, text and label files of different lengths, a line
        that is not two genes, or a label that is not 0 or 1.
    FileNotFoundError
        When a file is missing; the message says where to put it.

    Examples
    --------
    >>> test = gene2vec_interactions("test")  # the packaged copy  # doctest: +SKIP
    >>> test.shape, test["label"].mean().round(2)  # doctest: +SKIP
    ((21448, 3), 0.51)
    """
    key = _ALIASES.get(split, split) if isinstance(split, str) else None
    if key not in _SPLITS:
        raise ValueError(f"unknown Gene2vec split {split!r}; choose one of {list(_SPLITS)} ('valid' = 'validation')")
    stem = _SPLITS[key]
    folder = dataset_dir("gene2vec", path)
    text_file = require_file(folder, f"{stem}_text.txt", dataset="gene2vec", download_hint=_HINT)
    label_file = require_file(folder, f"{stem}_label.txt", dataset="gene2vec", download_hint=_HINT)

    gene_a, gene_b = _pairs(text_file)
    labels = np.array([line.strip() for line in _lines(label_file)], dtype=object)
    if len(gene_a) != len(labels):
        raise ValueError(f"{text_file} has {len(gene_a)} lines but {label_file} has {len(labels)}; "
                         "the pairs and their labels cannot be matched line by line")
    is_one = labels == "1"
    not_binary = ~(is_one | (labels == "0"))
    if not_binary.any():
        bad = int(np.flatnonzero(not_binary)[0])
        raise ValueError(f"{label_file}, line {bad + 1}: expected a label 0 or 1, got {labels[bad]!r}")

    out = pd.DataFrame({
        "gene_a": pd.Series(gene_a, dtype=object),
        "gene_b": pd.Series(gene_b, dtype=object),
        "label": is_one.astype(np.int8),
    })
    out.attrs["source"] = str(folder)
    return out


def download_gene2vec(path: str | os.PathLike | None = None, *, overwrite: bool = False) -> Path:
    """Download the benchmark's six files (needs a network; checksummed).

    Fetches ``{train,valid,test}_text.txt`` and ``*_label.txt`` from the
    ``predictionData/`` folder of github.com/jingcheng-du/Gene2vec and checks each
    against its SHA-256. A file already present with the expected checksum is
    kept; one with another checksum raises ValueError unless ``overwrite=True``.

    Parameters
    ----------
    path
        Folder to write to (default: see :func:`dataset_dir`, dataset ``gene2vec``).
    overwrite
        Replace files whose checksum differs.

    Returns
    -------
    The folder, ready for :func:`gene2vec_interactions`.
    """
    folder = Path(path).expanduser() if path is not None else dataset_dir("gene2vec")
    for file, checksum in _FILES.items():
        download_file(_REPO + file, folder / file, checksum, overwrite=overwrite)
    return folder
