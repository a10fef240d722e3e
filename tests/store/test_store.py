import sqlite3

import numpy as np
import pytest

from bftbio.store import Store, StoreIntegrityWarning, namespace_id


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        yield s


def test_texts_and_vectors_round_trip(store):
    ns = store.namespace("profile", {"model": "m", "prompt": "v1"})
    store.put_texts(ns, {"TP53": "a tumour suppressor", "MDM2": "an E3 ligase"})
    assert store.get_texts(ns, ["TP53", "HBB"]) == {"TP53": "a tumour suppressor"}
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    store.put_vectors(ns, ["TP53", "MDM2"], vectors)
    got = store.get_vectors(ns, ["MDM2", "TP53", "MDM2", "HBB"])
    assert set(got) == {"TP53", "MDM2"}
    np.testing.assert_array_equal(got["MDM2"], vectors[1])
    assert got["TP53"].dtype == np.float32


def test_namespace_is_the_hash_of_its_params_and_explains_itself(store):
    a = store.namespace("profile", {"model": "m", "max_new_tokens": 64})
    assert a == store.namespace("profile", {"max_new_tokens": 64, "model": "m"})  # order does not matter
    assert a != store.namespace("profile", {"model": "m", "max_new_tokens": 65})
    assert a == namespace_id("profile", {"model": "m", "max_new_tokens": 64})
    assert store.params(a) == {"model": "m", "max_new_tokens": 64}
    store.put_texts(a, {"X": "x"})
    info = store.info().set_index("namespace")
    assert info.loc[a, "n_texts"] == 1 and info.loc[a, "n_vectors"] == 0
    with pytest.raises(KeyError, match="no namespace"):
        store.params("profile-0000")


def test_namespaces_keep_entries_apart(store):
    a = store.namespace("profile", {"adapter": None})
    b = store.namespace("profile", {"adapter": "abc"})
    store.put_texts(a, {"TP53": "base"})
    assert store.get_texts(b, ["TP53"]) == {}


@pytest.mark.fault
def test_bad_input_is_refused(store):
    ns = store.namespace("v", {})
    with pytest.raises(ValueError, match="shape"):
        store.put_vectors(ns, ["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        store.put_vectors(ns, ["a"], np.array([[np.nan, 1.0]]))
    with pytest.raises(TypeError, match="string"):
        store.put_texts(ns, {"a": None})
    with pytest.raises(ValueError, match="plain word"):
        store.namespace("no spaces please", {})


def test_two_handles_on_one_file_see_each_other(tmp_path):
    path = tmp_path / "shared.sqlite"
    with Store(path) as one, Store(path) as two:
        ns = one.namespace("p", {"x": 1})
        one.put_texts(ns, {"A": "a"})
        assert two.get_texts(ns, ["A"]) == {"A": "a"}
        assert one.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_export_and_import(store, tmp_path):
    ns = store.namespace("p", {"x": 1})
    other = store.namespace("p", {"x": 2})
    store.put_texts(ns, {"A": "a", "B": "b"})
    store.put_vectors(ns, ["A"], np.ones((1, 4)))
    store.put_texts(other, {"C": "c"})
    out = store.export(tmp_path / "share.sqlite", namespaces=[ns])
    with pytest.raises(FileExistsError, match="overwrite"):
        store.export(out)
    with pytest.raises(KeyError, match="not in"):
        store.export(tmp_path / "x.sqlite", namespaces=["p-nope"])
    with Store(tmp_path / "mine.sqlite") as mine:
        mine.put_texts(mine.namespace("p", {"x": 1}), {"A": "kept"})
        with pytest.warns(StoreIntegrityWarning, match="1 entries of .* differ"):
            added = mine.import_from(out)
        assert added == {"texts": 1, "vectors": 1, "conflicts": 1}  # B and A's vector; A's text is kept
        assert mine.get_texts(ns, ["A", "B"]) == {"A": "kept", "B": "b"}
        assert mine.params(ns) == {"x": 1}
        assert mine.get_texts(other, ["C"]) == {}
        with pytest.warns(StoreIntegrityWarning):
            assert mine.import_from(out) == {"texts": 0, "vectors": 0, "conflicts": 1}
        with pytest.raises(FileNotFoundError):
            mine.import_from(tmp_path / "missing.sqlite")


@pytest.mark.fault
def test_a_file_that_is_not_a_store_is_named(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(sqlite3.DatabaseError, match="not a bftbio store"):
        Store(bad).info()


def test_open_store_resolves_what_features_are_given(tmp_path):
    from bftbio.store import default_store, open_store

    assert open_store(tmp_path / "x.sqlite", cache=False) is None
    assert open_store() is default_store()
    with Store(tmp_path / "y.sqlite") as given:
        assert open_store(given) is given
    opened = open_store(str(tmp_path / "z.sqlite"))
    assert isinstance(opened, Store) and opened.path == tmp_path / "z.sqlite"
    with pytest.raises(TypeError, match="store must be"):
        open_store(3)


def test_cached_texts_computes_only_what_the_store_lacks(tmp_path):
    from bftbio.store import cached_texts

    calls = []

    def compute(missing, save):
        calls.append(list(missing))
        for key in missing:
            if key == "boom":
                raise KeyboardInterrupt  # a run killed after saving what came before
            save({key: key.upper()})

    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            cached_texts(store, "demo", {"v": 1}, ["a", "b", "boom"], compute)
        assert cached_texts(store, "demo", {"v": 1}, ["a", "b", "a"], compute) == {"a": "A", "b": "B"}
        assert calls == [["a", "b", "boom"]]  # the rerun found a and b saved: no compute call
        assert cached_texts(store, "demo", {"v": 2}, ["a"], compute) == {"a": "A"}  # new params, new namespace
        assert calls[-1] == ["a"]
    assert cached_texts(None, "demo", {}, ["x", "x"], compute) == {"x": "X"} and calls[-1] == ["x"]
    with pytest.raises(RuntimeError, match="never saved"):
        cached_texts(None, "demo", {}, ["y"], lambda missing, save: None)
