"""Profiling in shards: n workers share a gene list without overlap; their stores merge into one worker's."""

import os
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

import bftbio
from bftbio.embed import parse_shard, shard_of

GENES = ["TP53", "MDM2", "EGFR", "HBB", "BRCA1", "CDK2", "MYC", "KRAS", "PTEN", "RB1", "AKT1", "GAPDH",
         "CD4", "CD8A", "MS4A1", "LYZ", "ALB", "INS", "ACTB", "VIM"]


def test_parse_shard_and_shard_of():
    assert parse_shard("1/4") == (1, 4) and parse_shard((0, 1)) == (0, 1) and parse_shard(None) is None
    for bad in ("4/4", "-1/2", "1/0", "a/b", "3", (1, 2, 3), (1.5, 2), "1.5/2"):
        with pytest.raises(ValueError, match="0 <= i < n"):
            parse_shard(bad)
    shards = [shard_of(g, 3) for g in GENES]
    assert shards == [shard_of(g, 3) for g in GENES]  # deterministic
    assert set(shards) == {0, 1, 2}  # 20 genes fall into all three shards


def test_shards_partition_the_genes_and_equal_one_call(real_kb, tiny_encoder, tmp_path):
    names = [*GENES, "p53", "NOTAGENE"]  # an alias of TP53 goes where TP53 goes; an unknown name nowhere
    with pytest.warns(UserWarning, match="NOTAGENE"):
        whole = bftbio.embed_genes(names, encoder=tiny_encoder, store=tmp_path / "one.sqlite", progress=False)
    parts = []
    for i in range(3):
        with pytest.warns(UserWarning, match="NOTAGENE"):
            part = bftbio.embed_genes(names, encoder=tiny_encoder, store=tmp_path / f"s{i}.sqlite", shard=(i, 3),
                                      progress=False)
        assert all(shard_of(s, 3) == i for s in part.attrs["symbol"])
        parts.append(part)
    rows = [g for part in parts for g in part.index]
    assert sorted(rows) == sorted(n for n in names if n != "NOTAGENE")  # each known name in exactly one shard
    assert {"TP53", "p53"} <= set(next(p.index for p in parts if "TP53" in p.index))
    for part in parts:
        np.testing.assert_allclose(part.to_numpy(), whole.loc[part.index].to_numpy(), rtol=1e-5, atol=1e-6)
    empty = bftbio.embed_genes(["TP53"], encoder=tiny_encoder, store=tmp_path / "e.sqlite",
                               shard=(1 - shard_of("TP53", 2), 2), progress=False)
    assert empty.shape[0] == 0  # a shard with nothing to do returns no rows, not an error


def _entries(path):
    conn = sqlite3.connect(path)
    try:
        texts = {r[:2]: r[2] for r in conn.execute("SELECT namespace, key, value FROM texts")}
        vectors = {r[:2]: np.frombuffer(r[2], dtype=np.float32) for r in
                   conn.execute("SELECT namespace, key, value FROM vectors")}
        return texts, vectors
    finally:
        conn.close()


def test_two_processes_merged_equal_one_process_entry_for_entry(tmp_path):
    """Two `bftbio embed --shard` workers at once (real encoder, knowledge profiles), merged."""
    genes = tmp_path / "genes.txt"
    genes.write_text("\n".join(GENES))
    env = {**os.environ, "BFTBIO_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "bftbio.cli", "embed", "--genes-file", str(genes), "--source", "knowledge"]
    workers = [subprocess.Popen([*command, "--shard", f"{i}/2", "--store", str(tmp_path / f"s{i}.sqlite"),
                                 "--out", str(tmp_path / f"s{i}.csv")], env=env, stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    for worker in workers:
        assert worker.wait(timeout=600) == 0, worker.stderr.read()
    one = subprocess.run([*command, "--store", str(tmp_path / "one.sqlite"), "--out", str(tmp_path / "one.csv")],
                         env=env, capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr
    merged = subprocess.run([sys.executable, "-m", "bftbio.cli", "store", "merge", str(tmp_path / "s0.sqlite"),
                             str(tmp_path / "s1.sqlite"), "--out", str(tmp_path / "merged.sqlite")],
                            env=env, capture_output=True, text=True, timeout=600)
    assert merged.returncode == 0, merged.stderr
    texts, vectors = _entries(tmp_path / "merged.sqlite")
    one_texts, one_vectors = _entries(tmp_path / "one.sqlite")
    assert texts == one_texts  # (knowledge profiles are computed, not stored: both hold no texts)
    assert vectors.keys() == one_vectors.keys() and len(vectors) == len(GENES)
    for key, vector in vectors.items():  # batches differ (10 genes against 20), so floats may differ in the last bits
        np.testing.assert_allclose(vector, one_vectors[key], rtol=1e-5, atol=1e-6)
