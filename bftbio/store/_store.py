"""The store: a persistent, atomic cache of generated texts and their vectors.

One SQLite file (WAL mode) holds every gene profile the generator wrote and every
vector the encoder (or a model's hidden state) made. Entries live in
*namespaces*: a namespace is the hash of everything that changes an entry (base
model, adapter content, prompt version, generation settings, encoder), and its
parameters are stored beside it, so a store explains itself.

Each write is one transaction: a job killed mid-way loses only the batch it was
computing, and a rerun continues from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._settings import make_dir, settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS texts (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vectors (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (namespace, key)) WITHOUT ROWID;
"""
_CHUNK = 900  # keys per SELECT ... IN (...), under SQLite's oldest variable limit


def namespace_id(kind: str, params: Mapping) -> str:
    """The namespace for ``params``: ``<kind>-<16 hex digits of their hash>``."""
    if not kind.isidentifier():
        raise ValueError(f"namespace kind must be a plain word, got {kind!r}")
    text = json.dumps(dict(params), sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class Store:
    """Generated texts and vectors, cached on disk, safe to kill and share.

    Parameters
    ----------
    path
        The SQLite file; default ``<settings.cachedir>/store.sqlite``. Created on
        first write.

    Examples
    --------
    >>> from bftbio.store import Store
    >>> store = Store("example.sqlite")  # doctest: +SKIP
    >>> ns = store.namespace("profile", {"model": "SmolLM2", "prompt": "v1"})  # doctest: +SKIP
    >>> store.put_texts(ns, {"TP53": "TP53 is a tumour suppressor."})  # doctest: +SKIP
    >>> store.get_texts(ns, ["TP53", "MDM2"])  # doctest: +SKIP
    {'TP53': 'TP53 is a tumour suppressor.'}
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else settings.cachedir / "store.sqlite"
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connection -------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            make_dir(self.path.parent)
            conn = sqlite3.connect(self.path, timeout=60)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
            except sqlite3.DatabaseError as err:
                conn.close()
                raise sqlite3.DatabaseError(f"{self.path} is not a bftbio store ({err})") from err
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- namespaces -------------------------------------------------------------
    def namespace(self, kind: str, params: Mapping) -> str:
        """Register (once) and return the namespace of entries made with ``params``."""
        ns = namespace_id(kind, params)
        with self.conn:
            self.conn.execute(
                "INSERT OR IGNORE INTO namespaces VALUES (?, ?, ?, ?)",
                (ns, kind, json.dumps(dict(params), sort_keys=True, default=str), time.strftime("%Y-%m-%d %H:%M:%S")),
            )
        return ns

    def params(self, namespace: str) -> dict:
        """The parameters a namespace was registered with."""
        row = self.conn.execute("SELECT params FROM namespaces WHERE id = ?", (namespace,)).fetchone()
        if row is None:
            raise KeyError(f"no namespace {namespace!r} in {self.path}")
        return json.loads(row[0])

    def info(self) -> pd.DataFrame:
        """One row per namespace: kind, parameters, number of texts and vectors."""
        rows = self.conn.execute(
            "SELECT n.id, n.kind, n.params, n.created,"
            " (SELECT COUNT(*) FROM texts t WHERE t.namespace = n.id),"
            " (SELECT COUNT(*) FROM vectors v WHERE v.namespace = n.id)"
            " FROM namespaces n ORDER BY n.created, n.id"
        ).fetchall()
        return pd.DataFrame(rows, columns=["namespace", "kind", "params", "created", "n_texts", "n_vectors"])

    # -- texts ------------------------------------------------------------------
    def get_texts(self, namespace: str, keys: Iterable[str]) -> dict[str, str]:
        """The stored texts among ``keys`` (missing keys are absent from the result)."""
        return dict(self._select("texts", namespace, keys))

    def put_texts(self, namespace: str, items: Mapping[str, str]) -> None:
        """Store texts in one transaction (an existing key is replaced)."""
        rows = []
        for key, value in items.items():
            if not isinstance(value, str):
                raise TypeError(f"text for {key!r} must be a string, got {type(value).__name__}")
            rows.append((namespace, str(key), value))
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?, ?)", rows)

    # -- vectors ----------------------------------------------------------------
    def get_vectors(self, namespace: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors among ``keys``, as read-only float32 arrays."""
        return {k: np.frombuffer(v, dtype=np.float32) for k, v in self._select("vectors", namespace, keys)}

    def put_vectors(self, namespace: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store one float32 row of ``vectors`` per key, in one transaction."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError(f"vectors must have shape (len(keys), dim) = ({len(keys)}, dim), got {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors hold NaN or infinite values; refusing to cache them")
        rows = [(namespace, str(k), vectors[i].tobytes()) for i, k in enumerate(keys)]
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def _select(self, table: str, namespace: str, keys: Iterable[str]) -> list[tuple]:
        keys = list(dict.fromkeys(str(k) for k in keys))
        out: list[tuple] = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            out += self.conn.execute(
                f"SELECT key, value FROM {table} WHERE namespace = ? AND key IN ({marks})", (namespace, *chunk)
            ).fetchall()
        return out

    # -- maintenance ------------------------------------------------------------
    def clear(self, namespace: str) -> int:
        """Delete a namespace and its entries; returns the number of entries deleted."""
        with self.conn:
            n = self.conn.execute("DELETE FROM texts WHERE namespace = ?", (namespace,)).rowcount
            n += self.conn.execute("DELETE FROM vectors WHERE namespace = ?", (namespace,)).rowcount
            self.conn.execute("DELETE FROM namespaces WHERE id = ?", (namespace,))
        return n

    def export(self, path: str | os.PathLike, *, namespaces: Sequence[str] | None = None,
               overwrite: bool = False) -> Path:
        """Write (some of) the store to a new SQLite file, e.g. to share embeddings.

        Parameters
        ----------
        path
            The file to write. An existing file is refused unless ``overwrite``.
        namespaces
            Namespaces to export (default: all).
        overwrite
            Replace an existing file at ``path``.
        """
        path = Path(path).expanduser()
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        chosen = list(namespaces) if namespaces is not None else list(self.info()["namespace"])
        known = set(self.info()["namespace"])
        unknown = [n for n in chosen if n not in known]
        if unknown:
            raise KeyError(f"namespaces not in {self.path}: {unknown}")
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        with Store(tmp) as out:
            out.conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            with out.conn:
                for ns in chosen:
                    row = self.conn.execute("SELECT * FROM namespaces WHERE id = ?", (ns,)).fetchone()
                    out.conn.execute("INSERT INTO namespaces VALUES (?, ?, ?, ?)", row)
                    for table in ("texts", "vectors"):
                        rows = self.conn.execute(f"SELECT * FROM {table} WHERE namespace = ?", (ns,)).fetchall()
                        out.conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", rows)
        os.replace(tmp, path)
        return path

    def import_from(self, path: str | os.PathLike) -> dict[str, int]:
        """Merge another store file into this one; existing entries are kept.

        Returns the number of texts and vectors added.
        """
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no store file at {path}")
        if path.resolve() == self.path.resolve():
            raise ValueError("cannot import a store into itself")
        with Store(path) as other:
            other.info()  # raises a clear error if the file is not a store
            added = {"texts": 0, "vectors": 0}
            with self.conn:
                for row in other.conn.execute("SELECT * FROM namespaces"):
                    self.conn.execute("INSERT OR IGNORE INTO namespaces VALUES (?, ?, ?, ?)", row)
                for table in added:
                    rows = other.conn.execute(f"SELECT * FROM {table}").fetchall()
                    before = self.conn.total_changes
                    self.conn.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?, ?, ?)", rows)
                    added[table] = self.conn.total_changes - before
        return added


def default_store() -> Store:
    """The store at the settings' cache directory (one per path, reused)."""
    path = settings.cachedir / "store.sqlite"
    store = _OPEN.get(path)
    if store is None:
        store = _OPEN[path] = Store(path)
    return store


_OPEN: dict[Path, Store] = {}


def cached_texts(store: Store | None, kind: str, params: Mapping, keys: Sequence[str],
                 compute: Callable[[list[str], Callable[[Mapping[str, str]], None]], None]) -> dict[str, str]:
    """The text of every key: what ``store`` holds under ``(kind, params)``, and the rest computed.

    The one cached path of every feature that makes texts with a model. ``compute(missing,
    save)`` gets the keys the store lacks, in first-seen order, and calls ``save({key:
    text})`` as results arrive; each call is committed at once, so a killed run loses at
    most what was in flight, and a second run computes nothing. ``compute`` is not called
    when nothing is missing (load the model inside it). With ``store=None`` everything is
    computed and nothing kept.
    """
    namespace = store.namespace(kind, params) if store is not None else None
    texts = store.get_texts(namespace, keys) if store is not None else {}
    missing = [k for k in dict.fromkeys(keys) if k not in texts]
    if missing:
        def save(batch: Mapping[str, str]) -> None:
            texts.update(batch)
            if store is not None:
                store.put_texts(namespace, dict(batch))

        compute(missing, save)
        lost = [k for k in missing if k not in texts]
        if lost:
            raise RuntimeError(f"{kind}: {len(lost)} of {len(missing)} texts were never saved, e.g. {lost[0]!r}")
    return texts


def open_store(store: Store | str | os.PathLike | None = None, *, cache: bool = True) -> Store | None:
    """The store a feature reads and writes: the ``store`` given (a :class:`Store` or a path), else the default one.

    ``cache=False`` returns None: the feature then computes everything and keeps nothing.
    """
    if not cache:
        return None
    if store is None:
        return default_store()
    if isinstance(store, Store):
        return store
    if not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"store must be a Store, a path or None, got {type(store).__name__}")
    return Store(store)
