"""Find the SQLite databases of org.Hs.eg.db and GO.db in Debian packages.

The knowledge base is built from two Bioconductor annotation packages as
Debian ships them (``r-bioc-org.hs.eg.db`` and ``r-bioc-go.db``). This module
finds their SQLite files in a directory holding either the ``.deb`` files or
trees extracted from them (``dpkg -x``), and reads a ``.deb`` without dpkg:
a ``.deb`` is an ``ar`` archive holding ``control.tar.*`` and ``data.tar.*``.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceDatabase", "download_packages", "locate_sources"]

#: Bioconductor package -> Debian package.
PACKAGES = {"org.Hs.eg.db": "r-bioc-org.hs.eg.db", "GO.db": "r-bioc-go.db"}
#: Bioconductor package -> the SQLite file it ships in ``extdata/``.
DATABASES = {"org.Hs.eg.db": "org.Hs.eg.sqlite", "GO.db": "GO.sqlite"}

_HELP = (
    "Download the Debian packages {debs} (for example with "
    "`apt-get download {pkgs}`, or from https://packages.debian.org), put the "
    ".deb files (or the trees `dpkg -x` extracts from them) in one directory DIR "
    "and run `bftbio kb build --source DIR`."
)


def _help() -> str:
    debs = " and ".join(f"{p}_*.deb" for p in PACKAGES.values())
    return _HELP.format(debs=debs, pkgs=" ".join(PACKAGES.values()))


@dataclass(frozen=True)
class SourceDatabase:
    """One source database and where it came from.

    Attributes
    ----------
    r_package
        Bioconductor package name, e.g. ``"org.Hs.eg.db"``.
    debian_package
        Debian package name, e.g. ``"r-bioc-org.hs.eg.db"``.
    sqlite
        Path of the SQLite file.
    debian_version
        Debian package version (``"3.16.0-1"``), or None when unknown.
    r_version
        Bioconductor package version (``"3.16.0"``), or None when unknown.
    origin
        The ``.deb`` file name, or ``"extracted tree"``.
    """

    r_package: str
    debian_package: str
    sqlite: Path
    debian_version: str | None
    r_version: str | None
    origin: str


def download_packages(directory: Path) -> None:
    """Download the two Debian packages into ``directory`` with ``apt-get download``.

    This reaches the network (through apt's configured mirrors) and is only
    called by :func:`~bftbio.knowledge.build_snapshot` when no source is given.

    Raises
    ------
    RuntimeError
        When apt-get is missing or fails; the message says which packages to
        download by hand and where to put them.
    """
    command = ["apt-get", "download", *PACKAGES.values()]
    try:
        subprocess.run(command, cwd=directory, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError(f"`apt-get` is not available on this machine. {_help()}") from None
    except subprocess.CalledProcessError as err:
        detail = (err.stderr or err.stdout or "").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {err.returncode}"
        raise RuntimeError(f"`{' '.join(command)}` failed ({reason}). {_help()}") from None


def locate_sources(source: Path, workdir: Path) -> dict[str, SourceDatabase]:
    """Find both SQLite databases under ``source``, extracting ``.deb`` files if needed.

    ``source`` is searched recursively, first for the SQLite files themselves
    (an extracted tree), then for the ``.deb`` files, whose databases are
    extracted into ``workdir``.

    Parameters
    ----------
    source
        Directory holding the ``.deb`` files or their extracted trees.
    workdir
        Scratch directory for extracted databases.

    Returns
    -------
    Bioconductor package name -> :class:`SourceDatabase`.

    Examples
    --------
    >>> from pathlib import Path
    >>> found = locate_sources(Path("/tmp/debx"), Path("/tmp/work"))  # doctest: +SKIP
    >>> found["GO.db"].r_version  # doctest: +SKIP
    '3.16.0'
    """
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"source {str(source)!r} is not a directory. {_help()}")
    found = {}
    for r_package, filename in DATABASES.items():
        found[r_package] = _from_tree(source, r_package, filename) or _from_deb(
            source, r_package, filename, Path(workdir)
        )
        if found[r_package] is None:
            raise FileNotFoundError(
                f"Neither {filename} nor {PACKAGES[r_package]}_*.deb was found under "
                f"{str(source)!r}. {_help()}"
            )
    return found


def _single(paths: list[Path], what: str, source: Path) -> Path | None:
    if len(paths) > 1:
        listed = ", ".join(str(p) for p in sorted(paths))
        raise ValueError(f"Found several {what} under {str(source)!r} ({listed}); keep only one.")
    return paths[0] if paths else None


def _from_tree(source: Path, r_package: str, filename: str) -> SourceDatabase | None:
    sqlite = _single(list(source.rglob(filename)), filename, source)
    if sqlite is None:
        return None
    debian_package = PACKAGES[r_package]
    # Layout of an extracted package: <root>/usr/lib/R/site-library/<pkg>/extdata/<db>
    # with <root>/usr/share/doc/<debian pkg>/changelog.Debian.gz beside it.
    r_version = None
    description = sqlite.parent.parent / "DESCRIPTION"
    if description.is_file():
        r_version = _control_fields(description.read_text(errors="replace")).get("Version")
    debian_version = None
    if len(sqlite.parents) > 5:
        changelog = sqlite.parents[5] / "share" / "doc" / debian_package / "changelog.Debian.gz"
        if changelog.is_file():
            with gzip.open(changelog, "rt", errors="replace") as handle:
                first = handle.readline()
            if "(" in first and ")" in first:
                debian_version = first.split("(", 1)[1].split(")", 1)[0]
    return SourceDatabase(r_package, debian_package, sqlite, debian_version, r_version, "extracted tree")


def _from_deb(source: Path, r_package: str, filename: str, workdir: Path) -> SourceDatabase | None:
    debian_package = PACKAGES[r_package]
    deb = _single(list(source.rglob(f"{debian_package}_*.deb")), f"{debian_package}_*.deb", source)
    if deb is None:
        return None
    members = _read_ar(deb)
    control = _tar_member(deb, members, "control.tar", "control")
    data = _tar_member(deb, members, "data.tar", filename)
    if data is None:
        raise ValueError(f"{deb.name} does not contain {filename}; is it the right package?")
    fields = _control_fields(control.decode(errors="replace")) if control else {}
    target = workdir / debian_package / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    debian_version = fields.get("Version")
    # Debian versions of r-bioc packages are "<upstream>-<debian revision>".
    r_version = debian_version.rsplit("-", 1)[0] if debian_version else None
    return SourceDatabase(r_package, debian_package, target, debian_version, r_version, deb.name)


def _read_ar(path: Path) -> dict[str, bytes]:
    """Members of an ``ar`` archive (the container format of ``.deb``)."""
    blob = path.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise ValueError(f"{path.name} is not a Debian package (no ar archive header).")
    members, offset = {}, 8
    while offset + 60 <= len(blob):
        header = blob[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        offset += 60
        members[name] = blob[offset : offset + size]
        offset += size + (size % 2)  # members are padded to an even length
    return members


def _tar_member(deb: Path, members: dict[str, bytes], prefix: str, basename: str) -> bytes | None:
    names = [name for name in members if name.startswith(prefix)]
    if not names:
        raise ValueError(f"{deb.name} has no {prefix}.* member; is it a Debian package?")
    try:
        with tarfile.open(fileobj=io.BytesIO(members[names[0]]), mode="r:*") as archive:
            for entry in archive:
                if entry.isfile() and Path(entry.name).name == basename:
                    return archive.extractfile(entry).read()
    except (tarfile.ReadError, tarfile.CompressionError):
        return _tar_member_with_dpkg(deb, prefix, basename)
    return None


def _tar_member_with_dpkg(deb: Path, prefix: str, basename: str) -> bytes | None:
    # Python's tarfile cannot read every compression dpkg accepts (zstd before
    # Python 3.14); dpkg itself can.
    if shutil.which("dpkg-deb") is None:
        raise RuntimeError(
            f"Cannot read {prefix}.* of {deb.name} with Python and dpkg-deb is not "
            f"installed; extract it with `dpkg -x {deb.name} DIR` on a Debian machine "
            "and pass DIR as the source."
        )
    option = "--ctrl-tarfile" if prefix == "control.tar" else "--fsys-tarfile"
    tar = subprocess.run(["dpkg-deb", option, str(deb)], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
        for entry in archive:
            if entry.isfile() and Path(entry.name).name == basename:
                return archive.extractfile(entry).read()
    return None


def _control_fields(text: str) -> dict[str, str]:
    """``Key: value`` fields of a Debian control file or an R DESCRIPTION file."""
    fields = {}
    for line in text.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields
