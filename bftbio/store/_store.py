"""The store: a persistent, atomic cache of generated texts and their vectors.

One SQLite file (WAL mode) holds every gene profile the generator wrote and every
vector the encoder (or a model's hidden state) made. Entries live in
*namespaces*: a namespace is the hash of everything that changes an entry (base
model, adapter content, prompt version, generation settings, encoder), and its
parameters are stored beside it, so a store explains itself.

Each write is one transaction: a job killed mid-way loses only the batch it was
computing, and a rerun continues from there.

Every entry verifies itself: a text carries its length in bytes and a checksum, a vector
its dtype, dimension and a checksum (BLAKE2b over namespace, key and value). A read that
fails verification is a miss, never a value: the feature recomputes the entry, and one
warning counts the bad entries. :meth:`Store.check` runs SQLite's integrity check plus the
per-entry check, and with ``repair=True`` drops what fails. A store file that cannot be
written opens read-only and serves its entries; a write then names the file and the remedy.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._settings import logger, make_dir, settings

#: The layout of a store file (its SQLite ``user_version``); 0 is the first layout, without checksums,
#: which is upgraded in place when opened.
VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS texts (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    length INTEGER NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (namespace, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vectors (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    dtype TEXT NOT NULL, dim INTEGER NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (namespace, key)) WITHOUT ROWID;
"""
_COLUMNS = {"texts": 5, "vectors": 6}
_CHUNK = 900  # keys per SELECT ... IN (...), under SQLite's oldest variable limit
_DTYPE = "float32"


def _checksum(namespace: str, key: str, payload: bytes, *extra) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for part in (namespace, key, *map(str, extra)):
        digest.update(part.encode() + b"\0")
    digest.update(payload)
    return digest.hexdigest()


def _text_row(namespace: str, key: str, value: str) -> tuple:
    data = value.encode()
    return namespace, key, value, len(data), _checksum(namespace, key, data)


def _vector_row(namespace: str, key: str, vector: np.ndarray) -> tuple:
    data = vector.tobytes()
    return namespace, key, data, _DTYPE, vector.shape[0], _checksum(namespace, key, data, _DTYPE, vector.shape[0])


def _text_ok(row: tuple) -> bool:
    namespace, key, value, length, checksum = row
    if not isinstance(value, str):
        return False
    data = value.encode(errors="surrogatepass")
    return len(data) == length and _checksum(namespace, key, data) == checksum


def _vector_ok(row: tuple) -> bool:
    namespace, key, value, dtype, dim, checksum = row
    return (isinstance(value, bytes) and dtype == _DTYPE and len(value) == 4 * dim
            and _checksum(namespace, key, value, dtype, dim) == checksum
            and bool(np.isfinite(np.frombuffer(value, dtype=np.float32)).all()))


_VERIFY = {"texts": _text_ok, "vectors": _vector_ok}


#: Files SQLite keeps beside a database.
_SIDECARS = ("-wal", "-shm", "-journal")


def _scratch(target: Path, label: str) -> Path:
    """A cleared temporary path beside ``target`` for a store file written whole and then installed."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{label}")
    _remove(tmp)
    return tmp


def _remove(path: Path) -> None:
    """Delete a store file and its SQLite sidecars, where they exist."""
    for p in (path, *(path.with_name(path.name + s) for s in _SIDECARS)):
        p.unlink(missing_ok=True)


def _install(tmp: Path, target: Path) -> None:
    """Rename a finished store file over ``target``, whose old sidecars go first: SQLite would replay an old
    write-ahead log onto the new file."""
    for suffix in _SIDECARS:
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)


class StoreError(sqlite3.DatabaseError):
    """A store file that is damaged, of an unknown layout, or not a store."""


class StoreIntegrityWarning(UserWarning):
    """Entries read from a store failed verification and were treated as missing."""


def _create_tables(conn: sqlite3.Connection) -> None:
    """The schema, statement by statement (``executescript`` would commit an open transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def _upgrade(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """A store of the first layout (no checksums) rewritten in place to this one, in one transaction.

    Its entries get checksums now; a vector whose bytes are not whole finite float32 values
    cannot be trusted and is dropped (counted in the log).
    """
    dropped = kept = 0
    with conn:
        for table in ("texts", "vectors"):
            rows = conn.execute(f"SELECT namespace, key, value FROM {table}").fetchall()
            conn.execute(f"DROP TABLE {table}")
            _create_tables(conn)
            new = []
            for namespace, key, value in rows:
                if table == "texts" and isinstance(value, str):
                    new.append(_text_row(namespace, key, value))
                elif table == "vectors" and isinstance(value, bytes) and len(value) % 4 == 0 and len(value):
                    vector = np.frombuffer(value, dtype=np.float32)
                    if np.isfinite(vector).all():
                        new.append(_vector_row(namespace, key, vector))
            dropped += len(rows) - len(new)
            kept += len(new)
            marks = ",".join("?" * _COLUMNS[table])
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", new)
        _create_tables(conn)
        conn.execute(f"PRAGMA user_version = {VERSION}")
    logger.warning("upgraded the store %s from layout %d to %d: %d entries now carry checksums, %d unreadable "
                   "ones dropped", path, version, VERSION, kept, dropped)


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
    read_only
        Open without writing (hits are served, writes raise PermissionError). Default:
        read-only when the file, or the folder it is in, cannot be written.

    Examples
    --------
    >>> from bftbio.store import Store
    >>> store = Store("example.sqlite")  # doctest: +SKIP
    >>> ns = store.namespace("profile", {"model": "SmolLM2", "prompt": "v1"})  # doctest: +SKIP
    >>> store.put_texts(ns, {"TP53": "TP53 is a tumour suppressor."})  # doctest: +SKIP
    >>> store.get_texts(ns, ["TP53", "MDM2"])  # doctest: +SKIP
    {'TP53': 'TP53 is a tumour suppressor.'}
    """

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else settings.cachedir / "store.sqlite"
        self._read_only = read_only
        self._conn: sqlite3.Connection | None = None

    @property
    def read_only(self) -> bool:
        """Whether this store serves hits only (given, or the file or its folder is not writable)."""
        if self._read_only is None:
            if self.path.exists():
                self._read_only = not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK))
            else:
                return False
        return self._read_only

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connection -------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            if not self.path.is_file():
                raise FileNotFoundError(f"no store file at {self.path}")
            # immutable: no -wal/-shm files can be made beside a file in a folder we cannot write.
            flags = "mode=ro" + ("" if os.access(self.path.parent, os.W_OK) else "&immutable=1")
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?{flags}", uri=True, timeout=60)
        else:
            make_dir(self.path.parent)
            try:
                conn = sqlite3.connect(self.path, timeout=60)
            except sqlite3.OperationalError as err:
                raise PermissionError(f"cannot open or create the store {self.path} ({err}): choose a writable "
                                      "place with $BFTBIO_CACHE or bftbio.settings.cachedir, or pass store=...") from err
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version > VERSION:
                raise StoreError(f"{self.path} is a store of a newer bftbio (layout {version}; this one reads "
                                 f"{VERSION}): upgrade bftbio, or choose another store")
            if version < VERSION and tables & {"texts", "vectors"}:
                if self.read_only:
                    raise StoreError(f"{self.path} is a store of an older bftbio (layout {version}) and is read-only; "
                                     f"make it writable and open it once (or run `bftbio store check --store "
                                     f"{self.path}`): it is then upgraded in place")
                _upgrade(conn, self.path, version)
            if not self.read_only:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                with conn:
                    _create_tables(conn)
                    conn.execute(f"PRAGMA user_version = {VERSION}")
            elif not tables:
                raise StoreError(f"{self.path} holds no store tables")
        except sqlite3.DatabaseError as err:
            conn.close()
            if isinstance(err, StoreError):
                raise
            raise StoreError(f"{self.path} is not a bftbio store, or is damaged ({err}); `bftbio store check "
                             f"--repair --store {self.path}` keeps what can be read") from err
        return conn

    def _writable(self) -> None:
        if self.read_only:
            raise PermissionError(
                f"the store {self.path} is read-only, so nothing can be cached in it: make the file and its folder "
                "writable, point $BFTBIO_CACHE (or bftbio.settings.cachedir) at a writable folder, pass another "
                "store (store=..., --store), or turn the cache off (cache=False, --no-cache)")

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
        if self.read_only:
            return ns
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
        """The stored texts among ``keys`` that verify (missing or bad keys are absent from the result)."""
        return {row[1]: row[2] for row in self._select("texts", namespace, keys)}

    def put_texts(self, namespace: str, items: Mapping[str, str]) -> None:
        """Store texts in one transaction (an existing key is replaced)."""
        rows = []
        for key, value in items.items():
            if not isinstance(value, str):
                raise TypeError(f"text for {key!r} must be a string, got {type(value).__name__}")
            rows.append(_text_row(namespace, str(key), value))
        self._write("INSERT OR REPLACE INTO texts VALUES (?, ?, ?, ?, ?)", rows)

    # -- vectors ----------------------------------------------------------------
    def get_vectors(self, namespace: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors among ``keys`` that verify, as read-only float32 arrays."""
        return {row[1]: np.frombuffer(row[2], dtype=np.float32) for row in self._select("vectors", namespace, keys)}

    def put_vectors(self, namespace: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store one float32 row of ``vectors`` per key, in one transaction."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError(f"vectors must have shape (len(keys), dim) = ({len(keys)}, dim), got {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors hold NaN or infinite values; refusing to cache them")
        rows = [_vector_row(namespace, str(k), vectors[i]) for i, k in enumerate(keys)]
        self._write("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?, ?)", rows)

    def _write(self, sql: str, rows: list[tuple]) -> None:
        self._writable()
        try:
            with self.conn:
                self.conn.executemany(sql, rows)
        except sqlite3.DatabaseError as err:
            raise self._damaged(err) from err

    def _damaged(self, err: sqlite3.DatabaseError) -> sqlite3.DatabaseError:
        if isinstance(err, sqlite3.OperationalError) and "readonly" in str(err):
            return PermissionError(f"the store {self.path} cannot be written ({err}); make it writable or choose "
                                   "another (store=..., $BFTBIO_CACHE)")
        if isinstance(err, StoreError):
            return err
        return StoreError(f"the store {self.path} is damaged ({err}): `bftbio store check --repair --store "
                          f"{self.path}` keeps what can be read, or delete the file (it is a cache)")

    def _select(self, table: str, namespace: str, keys: Iterable[str]) -> list[tuple]:
        """The rows of ``keys`` that verify; those that do not are left out, counted in one warning."""
        keys = list(dict.fromkeys(str(k) for k in keys))
        out: list[tuple] = []
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                out += self.conn.execute(
                    f"SELECT * FROM {table} WHERE namespace = ? AND key IN ({marks})", (namespace, *chunk)
                ).fetchall()
        except sqlite3.DatabaseError as err:
            raise self._damaged(err) from err
        good = [row for row in out if _VERIFY[table](row)]
        if len(good) < len(out):
            warnings.warn(f"{len(out) - len(good)} of {len(out)} {table} read from {self.path} ({namespace}) failed "
                          "verification and are treated as missing (recomputed); `bftbio store check --repair` "
                          "drops them", StoreIntegrityWarning, stacklevel=3)
        return good

    # -- maintenance ------------------------------------------------------------
    def clear(self, namespace: str) -> int:
        """Delete a namespace and its entries; returns the number of entries deleted."""
        self._writable()
        with self.conn:
            n = self.conn.execute("DELETE FROM texts WHERE namespace = ?", (namespace,)).rowcount
            n += self.conn.execute("DELETE FROM vectors WHERE namespace = ?", (namespace,)).rowcount
            self.conn.execute("DELETE FROM namespaces WHERE id = ?", (namespace,))
        return n

    def export(self, path: str | os.PathLike, *, namespaces: Sequence[str] | None = None,
               overwrite: bool = False) -> Path:
        """Write (some of) the store to a new SQLite file, e.g. to share embeddings.

        Only entries that verify are written (the others are counted in a warning). The file
        is written under a temporary name and renamed, so a killed export leaves no partial file.

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
        tmp = _scratch(path, "tmp")
        bad = 0
        with Store(tmp) as out:
            out.conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            with out.conn:
                for ns in chosen:
                    row = self.conn.execute("SELECT * FROM namespaces WHERE id = ?", (ns,)).fetchone()
                    out.conn.execute("INSERT INTO namespaces VALUES (?, ?, ?, ?)", row)
                    for table, verify in _VERIFY.items():
                        rows = self.conn.execute(f"SELECT * FROM {table} WHERE namespace = ?", (ns,)).fetchall()
                        good = [r for r in rows if verify(r)]
                        bad += len(rows) - len(good)
                        out.conn.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * _COLUMNS[table])})", good)
        if bad:
            warnings.warn(f"{bad} entries of {self.path} failed verification and were not exported",
                          StoreIntegrityWarning, stacklevel=2)
        _install(tmp, path)
        return path

    def import_from(self, path: str | os.PathLike) -> dict[str, int]:
        """Merge another store file into this one; existing entries are kept.

        The other file is checked first (:meth:`check`); one that is damaged or holds
        entries that fail verification is refused, naming the count. An entry both stores
        hold with different values (e.g. generated on two kinds of hardware) keeps this
        store's value and is counted as a conflict, with a warning.

        Returns the number of texts and vectors added, and of ``conflicts``.
        """
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no store file at {path}")
        if path.resolve() == self.path.resolve():
            raise ValueError("cannot import a store into itself")
        self._writable()
        with Store(path, read_only=True) as other:
            report = other.check()
            bad = report["bad_texts"] + report["bad_vectors"]
            if report["integrity"] != "ok" or bad:
                raise StoreError(f"{path} is damaged ({bad} entries fail verification; SQLite integrity: "
                                 f"{report['integrity']}); nothing was imported. `bftbio store check --repair "
                                 f"--store {path}` drops the bad entries")
            added = {"texts": 0, "vectors": 0, "conflicts": 0}
            with self.conn:
                for row in other.conn.execute("SELECT * FROM namespaces"):
                    self.conn.execute("INSERT OR IGNORE INTO namespaces VALUES (?, ?, ?, ?)", row)
                for table in _COLUMNS:
                    rows = other.conn.execute(f"SELECT * FROM {table}").fetchall()
                    added["conflicts"] += self._conflicts(table, rows)
                    before = self.conn.total_changes
                    marks = ",".join("?" * _COLUMNS[table])
                    self.conn.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", rows)
                    added[table] = self.conn.total_changes - before
        if added["conflicts"]:
            warnings.warn(f"{added['conflicts']} entries of {path} differ from the ones {self.path} already holds; "
                          "the existing values were kept", StoreIntegrityWarning, stacklevel=2)
        return added

    def _conflicts(self, table: str, rows: list[tuple]) -> int:
        """How many of ``rows`` (another store's) this store holds under the same key with another checksum."""
        by_namespace: dict[str, dict[str, str]] = {}
        for row in rows:
            by_namespace.setdefault(row[0], {})[row[1]] = row[-1]
        count = 0
        for namespace, checksums in by_namespace.items():
            keys = list(checksums)
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                found = self.conn.execute(
                    f"SELECT key, checksum FROM {table} WHERE namespace = ? AND key IN ({','.join('?' * len(chunk))})",
                    (namespace, *chunk)).fetchall()
                count += sum(checksum != checksums[key] for key, checksum in found)
        return count

    def check(self, *, repair: bool = False) -> dict:
        """SQLite's integrity check plus every entry's own check; with ``repair``, drop what fails.

        Returns
        -------
        A dict: ``integrity`` ("ok" or SQLite's first complaint), ``namespaces``, ``texts``,
        ``bad_texts``, ``vectors``, ``bad_vectors`` and ``dropped`` (entries removed by the repair).
        A file too damaged for SQLite to read row by row is rebuilt by the repair from what
        can be read; the damaged file is kept beside it as ``<name>.damaged``.

        Examples
        --------
        >>> Store().check()  # doctest: +SKIP
        {'integrity': 'ok', 'namespaces': 12, 'texts': 2310, 'bad_texts': 0, 'vectors': 4620, 'bad_vectors': 0, 'dropped': 0}
        """
        if repair:
            self._writable()
        result = {"integrity": "ok", "namespaces": 0, "texts": 0, "bad_texts": 0, "vectors": 0, "bad_vectors": 0,
                  "dropped": 0}
        bad: dict[str, list[tuple[str, str]]] = {"texts": [], "vectors": []}
        try:
            problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                result["integrity"] = problems[0]
            result["namespaces"] = self.conn.execute("SELECT COUNT(*) FROM namespaces").fetchone()[0]
            for table, verify in _VERIFY.items():
                for row in self.conn.execute(f"SELECT * FROM {table}"):
                    result[table] += 1
                    if not verify(row):
                        bad[table].append((row[0], row[1]))
                result[f"bad_{table}"] = len(bad[table])
        except sqlite3.DatabaseError as err:
            result["integrity"] = str(err)
        if not repair:
            return result
        if result["integrity"] != "ok":
            result["dropped"] = self._rebuild()
        elif any(bad.values()):
            with self.conn:
                for table, keys in bad.items():
                    self.conn.executemany(f"DELETE FROM {table} WHERE namespace = ? AND key = ?", keys)
            result["dropped"] = sum(map(len, bad.values()))
        return result

    def _rebuild(self) -> int:
        """A damaged file replaced by a new one holding every entry that can still be read and verifies."""
        tmp = _scratch(self.path, "repair")
        total = kept = 0
        self.close()
        src = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        src.execute("PRAGMA writable_schema=ON")  # read past a page count that the file no longer holds
        with Store(tmp) as out:
            out.conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, created now

            def copy(sql: str, table: str | None, params: tuple = ()) -> None:
                nonlocal total, kept
                rows: list[tuple] = []
                try:  # row by row: keep what comes before the first unreadable page
                    for row in src.execute(sql, params):
                        rows.append(row)
                except sqlite3.DatabaseError:
                    pass
                good = rows if table is None else [r for r in rows if _VERIFY[table](r)]
                if table is not None:
                    total, kept = total + len(rows), kept + len(good)
                marks = ",".join("?" * (4 if table is None else _COLUMNS[table]))
                with out.conn:
                    out.conn.executemany(f"INSERT OR IGNORE INTO {table or 'namespaces'} VALUES ({marks})", good)

            copy("SELECT * FROM namespaces", None)
            try:
                ids = [r[0] for r in src.execute("SELECT id FROM namespaces").fetchall()]
            except sqlite3.DatabaseError:
                ids = []
            for ns in ids:
                for table in _VERIFY:
                    copy(f"SELECT * FROM {table} WHERE namespace = ?", table, (ns,))
        src.close()
        damaged = self.path.with_name(self.path.name + ".damaged")
        os.replace(self.path, damaged)
        _install(tmp, self.path)
        logger.warning("rebuilt the damaged store %s from the %d entries that could be read and verified; the "
                       "damaged file is kept as %s", self.path, kept, damaged)
        return total - kept


def merge_stores(out: str | os.PathLike, shards: Sequence[str | os.PathLike], *,
                 overwrite: bool = False) -> dict[str, int]:
    """Combine several store files (e.g. the shards of ``embed_genes(..., shard=(i, n))``) into a new one.

    Each shard is verified before anything of it is copied (:meth:`Store.import_from`); an
    entry held by several shards is written once (the first shard's value; differing values
    are counted as ``conflicts``, with a warning). The result is written under a temporary
    name and renamed, so a killed merge leaves no partial file.

    Parameters
    ----------
    out
        The file to write; an existing file is refused unless ``overwrite``.
    shards
        The store files to combine, in order of precedence.

    Returns
    -------
    Counts: ``shards``, ``texts``, ``vectors`` (entries written) and ``conflicts``.

    Examples
    --------
    >>> from bftbio.store import merge_stores
    >>> merge_stores("genes.sqlite", ["shard0.sqlite", "shard1.sqlite"])  # doctest: +SKIP
    {'shards': 2, 'texts': 20000, 'vectors': 20000, 'conflicts': 0}
    """
    out = Path(out).expanduser()
    shards = [Path(p).expanduser() for p in shards]
    if not shards:
        raise ValueError("give at least one store file to merge")
    missing = [str(p) for p in shards if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no store file at {', '.join(missing)}")
    if len({p.resolve() for p in shards}) != len(shards):
        raise ValueError("a store file is listed twice")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    if out.resolve() in {p.resolve() for p in shards}:
        raise ValueError(f"the merged file {out} cannot also be one of the shards")
    tmp = _scratch(out, "tmp")
    totals = {"shards": len(shards), "texts": 0, "vectors": 0, "conflicts": 0}
    try:
        with Store(tmp) as merged:
            merged.conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            for shard in shards:
                for key, value in merged.import_from(shard).items():
                    totals[key] += value
        _install(tmp, out)
    finally:
        _remove(tmp)
    return totals
