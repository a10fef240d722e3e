"""merge_stores and `bftbio store merge`: shards combined with verification, no duplicates, nothing overwritten."""

import sqlite3

import numpy as np
import pytest

from bftbio.store import Store, StoreError, StoreIntegrityWarning, merge_stores


def entries(path):
    """Every (table, namespace, key, checksum) of a store file, and its namespaces."""
    conn = sqlite3.connect(path)
    try:
        rows = {(t, *r) for t in ("texts", "vectors")
                for r in conn.execute(f"SELECT namespace, key, checksum FROM {t}")}
        namespaces = set(conn.execute("SELECT id, kind, params FROM namespaces"))
        return rows, namespaces
    finally:
        conn.close()


def shard(path, texts, vectors=None, params=None):
    with Store(path) as s:
        ns = s.namespace("profile", params or {"model": "m"})
        s.put_texts(ns, texts)
        if vectors:
            s.put_vectors(ns, list(vectors), np.array(list(vectors.values()), dtype=np.float32))
    return path


def test_shards_merge_into_what_one_store_holds(tmp_path):
    a = shard(tmp_path / "a.sqlite", {"TP53": "p53", "EGFR": "egfr"}, {"TP53": [1.0, 0.0]})
    b = shard(tmp_path / "b.sqlite", {"MDM2": "mdm2", "TP53": "p53"}, {"MDM2": [0.0, 1.0]})  # TP53 in both, equal
    c = shard(tmp_path / "c.sqlite", {"HBB": "hbb"}, params={"model": "other"})
    one = shard(tmp_path / "one.sqlite", {"TP53": "p53", "EGFR": "egfr", "MDM2": "mdm2"},
                {"TP53": [1.0, 0.0], "MDM2": [0.0, 1.0]})
    shard(one, {"HBB": "hbb"}, params={"model": "other"})
    out = tmp_path / "merged.sqlite"
    totals = merge_stores(out, [a, b, c])
    assert totals == {"shards": 3, "texts": 4, "vectors": 2, "conflicts": 0}  # TP53 written once
    assert entries(out)[0] == entries(one)[0]
    assert {r[:2] for r in entries(out)[1]} == {r[:2] for r in entries(one)[1]}
    with Store(out) as merged:
        assert merged.check()["integrity"] == "ok"
    assert not list(tmp_path.glob("*.tmp"))


def test_differing_values_keep_the_first_and_are_counted(tmp_path):
    a = shard(tmp_path / "a.sqlite", {"TP53": "first"})
    b = shard(tmp_path / "b.sqlite", {"TP53": "second", "MDM2": "m"})
    with pytest.warns(StoreIntegrityWarning, match="1 entries .* differ"):
        totals = merge_stores(tmp_path / "m.sqlite", [a, b])
    assert totals["conflicts"] == 1 and totals["texts"] == 2
    with Store(tmp_path / "m.sqlite") as merged:
        ns = merged.namespace("profile", {"model": "m"})
        assert merged.get_texts(ns, ["TP53", "MDM2"]) == {"TP53": "first", "MDM2": "m"}


@pytest.mark.fault
def test_a_damaged_shard_or_an_existing_output_stops_before_writing(tmp_path):
    a = shard(tmp_path / "a.sqlite", {"TP53": "p53"})
    b = shard(tmp_path / "b.sqlite", {"MDM2": "m"})
    conn = sqlite3.connect(b)
    conn.execute("UPDATE texts SET value = 'tampered'")
    conn.commit()
    conn.close()
    out = tmp_path / "m.sqlite"
    with pytest.raises(StoreError, match="1 entries fail verification"):
        merge_stores(out, [a, b])
    assert not out.exists() and not list(tmp_path.glob("*.tmp"))
    out.write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite"):
        merge_stores(out, [a])
    assert out.read_text() == "mine"
    (tmp_path / "m.sqlite-wal").write_bytes(b"an old write-ahead log")  # left beside the file being replaced
    merge_stores(out, [a], overwrite=True)
    assert not (tmp_path / "m.sqlite-wal").exists()
    with Store(out) as merged:
        assert merged.check()["integrity"] == "ok"
    with pytest.raises(ValueError, match="cannot also be one of the shards"):
        merge_stores(a, [a], overwrite=True)
    with pytest.raises(ValueError, match="listed twice"):
        merge_stores(tmp_path / "x.sqlite", [a, a])
    with pytest.raises(FileNotFoundError, match="no store file"):
        merge_stores(tmp_path / "x.sqlite", [tmp_path / "nope.sqlite"])


def test_cli_store_merge(tmp_path, capsys):
    from bftbio.cli import main

    a = shard(tmp_path / "a.sqlite", {"TP53": "p53"})
    b = shard(tmp_path / "b.sqlite", {"MDM2": "m"})
    out = tmp_path / "m.sqlite"
    assert main(["store", "merge", str(a), str(b), "--out", str(out)]) == 0
    assert "merged 2 stores" in capsys.readouterr().out and out.is_file()
    assert main(["store", "merge", str(a), "--out", str(out)]) == 2  # never replaced unasked
    assert main(["store", "merge", str(a), "--out", str(out), "--overwrite"]) == 0
