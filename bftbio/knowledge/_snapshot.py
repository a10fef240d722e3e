"""Find the knowledge snapshot, load its tables lazily, and say where it came from."""

from __future__ import annotations

import copy
import csv
import json
import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

__all__ = ["provenance"]

ENV_VAR = "BFTBIO_KB"
#: Where the wheel puts the snapshot (pyproject maps data/kb to bftbio/_snapshot).
WHEEL_DIR = Path(__file__).resolve().parents[1] / "_snapshot"
#: Where a source checkout keeps it.
CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "data" / "kb"
FORMAT = 1

#: Table -> columns, in file order (rows are sorted by these columns, in order).
TABLES = {
    "genes": ("ncbi_id", "symbol", "name", "type", "chromosome", "cytoband", "ensembl"),
    "aliases": ("ncbi_id", "alias"),
    "go_annotations": ("ncbi_id", "go_id", "ontology", "evidence"),
    "go_terms": ("go_id", "name", "ontology", "definition"),
    "go_parents": ("go_id", "parent_id", "relationship"),
}
# Columns that may be empty (missing); every other text column is read verbatim,
# so that the alias "NA" stays a string and never becomes a missing value.
_OPTIONAL = {"genes": ("chromosome", "cytoband", "ensembl"), "go_terms": ("definition",)}
_CATEGORICAL = {
    "genes": ("type",),
    "go_annotations": ("ontology", "evidence"),
    "go_terms": ("ontology",),
    "go_parents": ("relationship",),
}


class Snapshot:
    """One snapshot directory: its tables, loaded on first use, and derived caches.

    The frames it returns are shared; public functions hand out copies.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._tables: dict[str, pd.DataFrame] = {}
        self._derived: dict = {}
        self._sources: dict | None = None

    def __repr__(self) -> str:
        return f"Snapshot({str(self.path)!r})"

    def sources(self) -> dict:
        if self._sources is None:
            sources = json.loads((self.path / "sources.json").read_text(encoding="utf-8"))
            if sources.get("format") != FORMAT:
                raise ValueError(
                    f"The knowledge snapshot in {str(self.path)!r} has format "
                    f"{sources.get('format')!r}; this bftbio reads format {FORMAT}. "
                    "Rebuild it with `bftbio kb build --overwrite`."
                )
            self._sources = sources
        return self._sources

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            self.sources()
            self._tables[name] = _read_table(self.path, name)
        return self._tables[name]

    def derived(self, key, factory):
        """``factory()``, computed once per snapshot and ``key``."""
        if key not in self._derived:
            self._derived[key] = factory()
        return self._derived[key]


def _read_table(directory: Path, name: str) -> pd.DataFrame:
    path = directory / f"{name}.tsv.gz"
    if not path.is_file():
        raise FileNotFoundError(
            f"The knowledge snapshot in {str(directory)!r} lacks {path.name}; "
            "rebuild it with `bftbio kb build --overwrite`."
        )
    columns = TABLES[name]
    dtype = {column: "category" if column in _CATEGORICAL.get(name, ()) else str for column in columns}
    if "ncbi_id" in columns:
        dtype["ncbi_id"] = "int64"
    frame = pd.read_csv(
        path,
        sep="\t",
        quoting=csv.QUOTE_NONE,
        dtype=dtype,
        keep_default_na=False,
        na_values={column: [""] for column in _OPTIONAL.get(name, ())},
        compression="gzip",
    )
    if tuple(frame.columns) != columns:
        raise ValueError(
            f"{path} has columns {list(frame.columns)}; expected {list(columns)}. "
            "Rebuild the snapshot with `bftbio kb build --overwrite`."
        )
    return frame


@lru_cache(maxsize=8)
def _locate(env_value: str | None) -> Path:
    if env_value:
        path = Path(env_value).expanduser()
        if not (path / "sources.json").is_file():
            raise FileNotFoundError(
                f"{ENV_VAR}={env_value!r} does not hold a knowledge snapshot (no sources.json). "
                f"Build one there with `bftbio kb build` (it writes to ${ENV_VAR}), "
                f"or unset {ENV_VAR} to use the packaged snapshot."
            )
        return path
    for path in (WHEEL_DIR, CHECKOUT_DIR):
        if (path / "sources.json").is_file():
            return path
    raise FileNotFoundError(
        "No knowledge snapshot found: looked for sources.json in "
        f"${ENV_VAR} (unset), {WHEEL_DIR} (installed wheel) and {CHECKOUT_DIR} "
        "(source checkout). Build one with `bftbio kb build [--source DIR]`, "
        f"or point {ENV_VAR} at an existing snapshot directory."
    )


_SNAPSHOTS: dict[Path, Snapshot] = {}


def current() -> Snapshot:
    """The snapshot in use: ``$BFTBIO_KB``, else the wheel's copy, else the checkout's ``data/kb``."""
    path = _locate(os.environ.get(ENV_VAR) or None)
    snapshot = _SNAPSHOTS.get(path)
    if snapshot is None:
        snapshot = _SNAPSHOTS[path] = Snapshot(path)
    return snapshot


def forget(path=None) -> None:
    """Drop cached tables (of ``path``, or of every snapshot), e.g. after a rebuild."""
    _locate.cache_clear()
    if path is None:
        _SNAPSHOTS.clear()
    else:
        for key in [key for key in _SNAPSHOTS if key.resolve() == Path(path).resolve()]:
            del _SNAPSHOTS[key]


def provenance() -> dict:
    """Where the knowledge base comes from: the snapshot's ``sources.json``.

    Returns
    -------
    A copy of ``sources.json`` plus ``"snapshot_dir"``, the directory in use. Keys:
    ``packages`` (Debian and Bioconductor names and versions, the SQLite
    metadata tables), ``source_dates`` (ISO dates: ``ncbi_gene``,
    ``go_annotations``, ``ensembl``, ``gene_ontology``), ``tables`` (file, row
    count, sha256), ``build_date``, ``propagation`` (the rule
    :func:`~bftbio.knowledge.gene_sets` applies).

    Examples
    --------
    >>> from bftbio.knowledge import provenance
    >>> provenance()["source_dates"]["gene_ontology"]
    '2022-07-01'
    """
    snapshot = current()
    info = copy.deepcopy(snapshot.sources())
    info["snapshot_dir"] = str(snapshot.path)
    return info
