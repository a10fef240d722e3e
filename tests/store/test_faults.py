"""Faults a store meets: overwritten bytes, truncation, read-only files, old layouts, bad imports."""

import sqlite3
import warnings

import numpy as np
import pytest

from bftbio.store import VERSION, Store, StoreError, StoreIntegrityWarning

pytestmark = pytest.mark.fault  # the fault suite (docs/promises.md)


def written(path, n=3, dim=16, seed=0):
    """A closed store file with ``n`` vectors and ``n`` texts; returns the vectors and the namespaces."""
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    with Store(path) as s:
        nv = s.namespace("knowledge_vector", {"encoder": "e"})
        nt = s.namespace("profile", {"model": "m"})
        s.put_vectors(nv, [f"G{i}" for i in range(n)], vectors)
        s.put_texts(nt, {f"G{i}": f"G{i} is a gene; this is profile number {i}." for i in range(n)})
    return vectors, nv, nt


def overwrite(path, needle: bytes, with_bytes: bytes) -> None:
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at >= 0 and data.count(needle) == 1, "the test needs the entry's bytes once in the file"
    data[at : at + len(with_bytes)] = with_bytes
    path.write_bytes(bytes(data))


def test_overwritten_vector_bytes_are_a_miss_with_one_warning_never_a_value(tmp_path):
    path = tmp_path / "s.sqlite"
    vectors, nv, _ = written(path)
    overwrite(path, vectors[1].tobytes()[:16], b"\xff" * 8)  # NaN bytes, as a disk fault writes them
    with Store(path) as s:
        with pytest.warns(StoreIntegrityWarning, match="1 of 3 vectors .* failed verification"):
            got = s.get_vectors(nv, ["G0", "G1", "G2"])
        assert sorted(got) == ["G0", "G2"]
        np.testing.assert_array_equal(got["G0"], vectors[0])
        report = s.check()
        assert report["integrity"] == "ok" and (report["vectors"], report["bad_vectors"]) == (3, 1)
        assert s.check(repair=True)["dropped"] == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert sorted(s.get_vectors(nv, ["G0", "G1", "G2"])) == ["G0", "G2"]
        s.put_vectors(nv, ["G1"], vectors[1:2])  # recomputed, as a feature does after the miss
        assert s.check() == {**report, "bad_vectors": 0, "dropped": 0}


def test_a_finite_but_wrong_value_is_caught_too(tmp_path):
    path = tmp_path / "s.sqlite"
    vectors, nv, _ = written(path)
    overwrite(path, vectors[2].tobytes()[:8], np.float32([0.5, 0.25]).tobytes())  # plausible numbers
    with Store(path) as s, pytest.warns(StoreIntegrityWarning):
        assert sorted(s.get_vectors(nv, ["G0", "G1", "G2"])) == ["G0", "G1"]


def test_overwritten_text_is_a_miss(tmp_path):
    path = tmp_path / "s.sqlite"
    _, _, nt = written(path)
    overwrite(path, b"profile number 1.", b"profile number 7.")
    with Store(path) as s, pytest.warns(StoreIntegrityWarning, match="1 of 3 texts"):
        assert sorted(s.get_texts(nt, ["G0", "G1", "G2"])) == ["G0", "G2"]


def test_a_truncated_file_is_named_and_repair_keeps_what_can_be_read(tmp_path):
    path = tmp_path / "s.sqlite"
    written(path, n=400, dim=64)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    s = Store(path)
    report = s.check()
    assert report["integrity"] != "ok"
    with pytest.raises(StoreError, match="damaged.*bftbio store check --repair"):
        s.get_vectors(s.namespace("knowledge_vector", {"encoder": "e"}), [f"G{i}" for i in range(400)])
    repaired = s.check(repair=True)
    assert (tmp_path / "s.sqlite.damaged").stat().st_size == size // 2  # the user's file is kept, renamed
    after = Store(path).check()
    assert after["integrity"] == "ok" and after["bad_vectors"] == after["bad_texts"] == 0
    assert 0 < after["vectors"] + after["texts"] < 800 and repaired["dropped"] >= 0


def test_a_read_only_store_serves_hits_and_a_write_names_the_file_and_remedy(tmp_path):
    path = tmp_path / "s.sqlite"
    vectors, nv, nt = written(path)
    with Store(path, read_only=True) as s:
        assert s.read_only
        np.testing.assert_array_equal(s.get_vectors(nv, ["G1"])["G1"], vectors[1])
        assert s.namespace("knowledge_vector", {"encoder": "e"}) == nv  # no write needed
        with pytest.raises(PermissionError, match=f"{path}.*read-only.*BFTBIO_CACHE"):
            s.put_texts(nt, {"G9": "x"})
        with pytest.raises(PermissionError, match="read-only"):
            s.check(repair=True)


def test_a_file_the_user_cannot_write_opens_read_only(tmp_path, monkeypatch):
    import os

    path = tmp_path / "s.sqlite"
    vectors, nv, _ = written(path)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real(p, mode, **kw))
    with Store(path) as s:  # tests run as root here, where chmod cannot forbid a write
        assert s.read_only
        assert sorted(s.get_vectors(nv, ["G0", "G1"])) == ["G0", "G1"]
        with pytest.raises(PermissionError, match="read-only"):
            s.put_vectors(nv, ["G9"], vectors[:1])


def test_a_store_of_the_first_layout_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE namespaces (id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, created TEXT NOT NULL);
        CREATE TABLE texts (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                            PRIMARY KEY (namespace, key)) WITHOUT ROWID;
        CREATE TABLE vectors (namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                              PRIMARY KEY (namespace, key)) WITHOUT ROWID;
    """)
    good = np.arange(4, dtype=np.float32)
    conn.execute("INSERT INTO namespaces VALUES ('v-1', 'v', '{}', 'now')")
    conn.executemany("INSERT INTO vectors VALUES (?, ?, ?)", [
        ("v-1", "A", good.tobytes()),
        ("v-1", "B", np.float32([np.nan, 1]).tobytes()),  # the fault the first layout served silently
        ("v-1", "C", b"\x00" * 5),
    ])
    conn.execute("INSERT INTO texts VALUES ('v-1', 'A', 'a text')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="older bftbio.*read-only"):
        Store(path, read_only=True).info()
    with Store(path) as s:
        np.testing.assert_array_equal(s.get_vectors("v-1", ["A", "B", "C"])["A"], good)
        assert sorted(s.get_vectors("v-1", ["A", "B", "C"])) == ["A"]
        assert s.get_texts("v-1", ["A"]) == {"A": "a text"}
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer bftbio"):
        Store(path).info()


def test_import_refuses_a_corrupt_source_naming_the_count(tmp_path):
    source = tmp_path / "shared.sqlite"
    vectors, nv, _ = written(source)
    overwrite(source, vectors[0].tobytes()[:16], b"\xff" * 8)
    with Store(tmp_path / "mine.sqlite") as mine:
        with pytest.raises(StoreError, match="1 entries fail verification.*nothing was imported"):
            mine.import_from(source)
        assert mine.info().empty
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StoreIntegrityWarning)
            Store(source).check(repair=True)
        assert mine.import_from(source) == {"texts": 3, "vectors": 2, "conflicts": 0}


def test_export_writes_only_entries_that_verify(tmp_path):
    path = tmp_path / "s.sqlite"
    vectors, nv, _ = written(path)
    overwrite(path, vectors[0].tobytes()[:16], b"\xff" * 8)
    with Store(path) as s, pytest.warns(StoreIntegrityWarning, match="1 entries .* not exported"):
        out = s.export(tmp_path / "out.sqlite")
    assert Store(out).check() == {"integrity": "ok", "namespaces": 2, "texts": 3, "bad_texts": 0, "vectors": 2,
                                  "bad_vectors": 0, "dropped": 0}
