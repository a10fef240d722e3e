"""Build the knowledge snapshot (gzip TSV tables + sources.json) from org.Hs.eg.db and GO.db."""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import pandas as pd

from . import _snapshot
from ._debian import download_packages, locate_sources

__all__ = ["build_snapshot"]

#: GO.db relationship labels -> the names used in the snapshot (OBO relation names).
RELATIONSHIPS = {
    "isa": "is_a",
    "part of": "part_of",
    "regulates": "regulates",
    "positively regulates": "positively_regulates",
    "negatively regulates": "negatively_regulates",
}

#: Written to sources.json; the rule :func:`bftbio.knowledge.gene_sets` applies.
PROPAGATION = {
    "rule": "true path rule",
    "relations": ["is_a", "part_of"],
    "not_followed": ["regulates", "positively_regulates", "negatively_regulates"],
    "stored": "annotations are stored as NCBI gives them (direct); gene_sets(propagate=True) "
    "adds every is_a/part_of ancestor of each annotated term",
}


def build_snapshot(source=None, out=None, *, overwrite: bool = False) -> Path:
    """Build the knowledge snapshot from the Debian packages of org.Hs.eg.db and GO.db.

    Reads the SQLite databases of the Bioconductor packages ``org.Hs.eg.db``
    (NCBI Gene for human: symbols, names, types, locations, aliases, Ensembl
    IDs, GO annotations with evidence codes) and ``GO.db`` (GO terms and their
    parent relations), and writes five gzip-compressed TSV tables plus
    ``sources.json`` (package versions, source release dates, row counts,
    checksums, build date, propagation rule). Rows are sorted and gzip headers
    carry no time stamp, so building twice from the same packages gives
    byte-identical tables. Files are written to a staging folder first and
    moved into place, ``sources.json`` last.

    Parameters
    ----------
    source
        Directory holding ``r-bioc-org.hs.eg.db_*.deb`` and ``r-bioc-go.db_*.deb``
        or the trees ``dpkg -x`` extracts from them (searched recursively for
        ``org.Hs.eg.sqlite`` and ``GO.sqlite``). ``None`` **downloads** both
        packages with ``apt-get download`` into a temporary directory: this is
        the only function of :mod:`bftbio.knowledge` that reaches the network,
        and only in that case.
    out
        Output directory. Default: ``$BFTBIO_KB`` if set, else ``data/kb`` of
        the source checkout.
    overwrite
        Replace an existing snapshot in ``out``.

    Returns
    -------
    The output directory.

    Raises
    ------
    FileExistsError
        ``out`` already holds a snapshot and ``overwrite`` is False.
    FileNotFoundError
        ``source`` holds neither the databases nor the packages.
    RuntimeError
        The download failed; the message names the packages to fetch by hand.

    Examples
    --------
    >>> from bftbio.knowledge import build_snapshot
    >>> build_snapshot("/tmp/debs", "/tmp/kb")  # doctest: +SKIP
    PosixPath('/tmp/kb')
    """
    out = _default_out() if out is None else Path(out)
    existing = [name for name in (*_snapshot.TABLES, "sources.json") if (out / _file(name)).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{str(out)!r} already holds a knowledge snapshot ({', '.join(map(_file, existing))}); "
            "pass overwrite=True (`bftbio kb build --overwrite`) to replace it."
        )
    with tempfile.TemporaryDirectory(prefix="bftbio-kb-") as work:
        work = Path(work)
        if source is None:
            download_packages(work)
            source = work
        found = locate_sources(Path(source), work / "extracted")
        org, go = found["org.Hs.eg.db"], found["GO.db"]
        tables = build_tables(org.sqlite, go.sqlite)
        org_meta, go_meta = _metadata(org.sqlite), _metadata(go.sqlite)
        _write(out, tables, _sources(found, org_meta, go_meta, tables))
    _snapshot.forget(out)
    return out


def build_tables(org_sqlite: Path, go_sqlite: Path) -> dict[str, pd.DataFrame]:
    """The snapshot tables, sorted, from the two SQLite files.

    Returns
    -------
    ``{"genes", "aliases", "go_annotations", "go_terms", "go_parents"}`` ->
    DataFrame, with the columns of :data:`bftbio.knowledge._snapshot.TABLES`.
    """
    with closing(_connect(org_sqlite)) as org:
        genes = _genes(org)
        aliases = _aliases(org, genes)
        annotations = _annotations(org)
    with closing(_connect(go_sqlite)) as go:
        terms, parents = _terms(go), _parents(go)
    known = set(terms["go_id"])
    # A term that GO.db no longer has (obsolete since the annotation release) has
    # no name, no ontology and no parents; such annotations are dropped and counted.
    annotations = annotations[annotations["go_id"].isin(known)]
    parents = parents[parents["go_id"].isin(known) & parents["parent_id"].isin(known)]
    tables = {
        "genes": genes,
        "aliases": aliases,
        "go_annotations": annotations,
        "go_terms": terms,
        "go_parents": parents,
    }
    for name, frame in tables.items():
        columns = _snapshot.TABLES[name]
        tables[name] = frame[list(columns)].sort_values(list(columns)).reset_index(drop=True)
    return tables


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def _query(connection, sql: str) -> pd.DataFrame:
    return pd.read_sql_query(sql, connection)


def _clean(values: pd.Series) -> pd.Series:
    # Tabs and line breaks would break the TSV format; a space keeps the meaning.
    return values.astype("string").str.replace(r"[\t\r\n]+", " ", regex=True).str.strip()


def _joined(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """``column`` values per ``key``, sorted, unique, joined with ';'."""
    frame = frame.assign(**{column: _clean(frame[column])}).dropna().drop_duplicates()
    return frame.sort_values([key, column]).groupby(key)[column].agg(";".join)


def _genes(org) -> pd.DataFrame:
    genes = _query(
        org,
        "SELECT g._id, g.gene_id AS ncbi_id, i.symbol, i.gene_name AS name, t.gene_type AS type "
        "FROM genes g JOIN gene_info i ON i._id = g._id LEFT JOIN genetype t ON t._id = g._id",
    )
    genes["ncbi_id"] = genes["ncbi_id"].astype("int64")
    for column in ("symbol", "name", "type"):
        genes[column] = _clean(genes[column])
    extra = {
        "chromosome": "SELECT _id, chromosome FROM chromosomes",
        "cytoband": "SELECT _id, cytogenetic_location AS cytoband FROM cytogenetic_locations",
        "ensembl": "SELECT _id, ensembl_id AS ensembl FROM ensembl",
    }
    for column, sql in extra.items():
        genes[column] = genes["_id"].map(_joined(_query(org, sql), "_id", column))
    return genes


def _aliases(org, genes: pd.DataFrame) -> pd.DataFrame:
    aliases = _query(org, "SELECT _id, alias_symbol AS alias FROM alias")
    aliases["alias"] = _clean(aliases["alias"])
    aliases = aliases.merge(genes[["_id", "ncbi_id", "symbol"]], on="_id")
    # org.Hs.eg.db lists every gene's own symbol among its aliases; genes holds it already.
    aliases = aliases[(aliases["alias"] != aliases["symbol"]) & (aliases["alias"] != "")]
    return aliases.drop_duplicates(["ncbi_id", "alias"])


def _annotations(org) -> pd.DataFrame:
    parts = []
    for ontology in ("BP", "MF", "CC"):
        part = _query(
            org,
            f"SELECT g.gene_id AS ncbi_id, a.go_id, a.evidence "
            f"FROM go_{ontology.lower()} a JOIN genes g ON g._id = a._id",
        )
        parts.append(part.assign(ontology=ontology))
    annotations = pd.concat(parts, ignore_index=True)
    annotations["ncbi_id"] = annotations["ncbi_id"].astype("int64")
    return annotations.drop_duplicates()


def _terms(go) -> pd.DataFrame:
    terms = _query(
        go,
        "SELECT go_id, term AS name, ontology, definition FROM go_term "
        "WHERE ontology IN ('BP', 'MF', 'CC')",
    )
    for column in ("name", "definition"):
        terms[column] = _clean(terms[column])
    return terms


def _parents(go) -> pd.DataFrame:
    parts = [
        _query(
            go,
            f"SELECT c.go_id AS go_id, p.go_id AS parent_id, r.relationship_type AS relationship "
            f"FROM go_{ontology}_parents r JOIN go_term c ON c._id = r._id "
            f"JOIN go_term p ON p._id = r._parent_id",
        )
        for ontology in ("bp", "mf", "cc")
    ]
    parents = pd.concat(parts, ignore_index=True)
    unknown = sorted(set(parents["relationship"]) - set(RELATIONSHIPS))
    if unknown:
        raise ValueError(
            f"GO.db has relationship types this builder does not know: {unknown}; "
            f"known: {sorted(RELATIONSHIPS)}."
        )
    parents["relationship"] = parents["relationship"].map(RELATIONSHIPS)
    return parents.drop_duplicates()


def _metadata(path: Path) -> dict[str, str]:
    with closing(_connect(path)) as connection:
        return dict(connection.execute("SELECT name, value FROM metadata").fetchall())


def _iso_date(value: str | None) -> str | None:
    """``"2022-Sep12"`` or ``"2022-07-01"`` -> ``"2022-09-12"`` / ``"2022-07-01"``."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%Y-%b%d", "%Y-%b-%d"):
        try:
            return _dt.datetime.strptime(value.strip(), pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _sources(found, org_meta, go_meta, tables) -> dict:
    packages = {
        name: {
            "debian_package": db.debian_package,
            "debian_version": db.debian_version,
            "version": db.r_version,
            "origin": db.origin,
            "metadata": meta,
        }
        for (name, db), meta in zip(found.items(), (org_meta, go_meta))
    }
    dates = {
        "ncbi_gene": ("org.Hs.eg.db", "EGSOURCEDATE", org_meta),
        "go_annotations": ("org.Hs.eg.db", "GOEGSOURCEDATE", org_meta),
        "ensembl": ("org.Hs.eg.db", "ENSOURCEDATE", org_meta),
        "gene_ontology": ("GO.db", "GOSOURCEDATE", go_meta),
    }
    return {
        "format": 1,
        "species": org_meta.get("ORGANISM", "Homo sapiens"),
        "taxid": int(org_meta["TAXID"]) if org_meta.get("TAXID", "").isdigit() else None,
        "packages": packages,
        "source_dates": {key: _iso_date(meta.get(field)) for key, (_, field, meta) in dates.items()},
        "source_dates_raw": {
            key: f"{package} {field}={meta.get(field)}" for key, (package, field, meta) in dates.items()
        },
        "tables": {name: {"file": _file(name), "rows": len(frame)} for name, frame in tables.items()},
        "build_date": _dt.datetime.now(_dt.timezone.utc).date().isoformat(),
        "built_by": "bftbio.knowledge.build_snapshot",
        "propagation": PROPAGATION,
    }


def _file(name: str) -> str:
    return name if name.endswith(".json") else f"{name}.tsv.gz"


def _tsv_gz(frame: pd.DataFrame) -> bytes:
    text = frame.to_csv(sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n", na_rep="")
    raw = io.BytesIO()
    # mtime=0 and an empty file name keep the gzip header identical across builds.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as handle:
        handle.write(text.encode("utf-8"))
    return raw.getvalue()


def _write(out: Path, tables: dict[str, pd.DataFrame], sources: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        for name, frame in tables.items():
            blob = _tsv_gz(frame)
            sources["tables"][name]["sha256"] = hashlib.sha256(blob).hexdigest()
            (staging / _file(name)).write_bytes(blob)
        text = json.dumps(sources, indent=2, sort_keys=True) + "\n"
        (staging / "sources.json").write_text(text, encoding="utf-8")
        for name in (*tables, "sources.json"):
            os.replace(staging / _file(name), out / _file(name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _default_out() -> Path:
    if os.environ.get(_snapshot.ENV_VAR):
        return Path(os.environ[_snapshot.ENV_VAR])
    checkout = _snapshot.CHECKOUT_DIR
    if (checkout.parents[1] / "pyproject.toml").is_file():
        return checkout
    raise ValueError(
        "bftbio is not running from a source checkout, so there is no default output "
        f"directory; pass `out` (and set {_snapshot.ENV_VAR} to it to use the snapshot)."
    )
