"""Where benchmark files live, and the one function that downloads them.

A dataset's files are looked up, in order, in: the folder the caller names;
``$BFTBIO_DATA/<dataset>``; the copy that ships with the package (``data/benchmarks``
in a checkout, ``bftbio/_benchmarks`` in a wheel: Gene2vec and GeneAgent);
``<cachedir>/datasets/<dataset>``. Nothing is fetched unless a ``download_*`` function
is called; downloads are verified against SHA-256 sums.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from .._settings import follow_umask, logger, settings


#: Where the wheel puts the shipped benchmark data (pyproject maps data/benchmarks there).
WHEEL_DIR = Path(__file__).resolve().parents[1] / "_benchmarks"
#: The same files in a source checkout.
CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "data" / "benchmarks"


def packaged_dir() -> Path | None:
    """The folder of the benchmark data shipped with bftbio (None if this install lacks it)."""
    for folder in (WHEEL_DIR, CHECKOUT_DIR):
        if (folder / "sources.json").is_file():
            return folder
    return None


def packaged_sources() -> dict:
    """What the shipped benchmark data are: per dataset its source, licence, changes and file checksums.

    Examples
    --------
    >>> from bftbio.datasets import packaged_sources
    >>> sorted(packaged_sources()["datasets"])
    ['gene2vec', 'geneagent', 'oligodendroglioma', 'wu2020']
    """
    folder = packaged_dir()
    if folder is None:
        raise FileNotFoundError("this install of bftbio has no packaged benchmark data (data/benchmarks)")
    return json.loads((folder / "sources.json").read_text())


def dataset_dir(dataset: str, path: str | os.PathLike | None = None) -> Path:
    """The folder to read ``dataset`` from (it may not exist yet).

    In order: ``path``; ``$BFTBIO_DATA/<dataset>`` if it exists; the packaged copy if
    bftbio ships one for ``dataset``; ``<cachedir>/datasets/<dataset>``.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get("BFTBIO_DATA")
    if env and (Path(env).expanduser() / dataset).exists():
        return Path(env).expanduser() / dataset
    packaged = packaged_dir()
    if packaged is not None and (packaged / dataset).is_dir():
        return packaged / dataset
    return settings.cachedir / "datasets" / dataset


def require_file(folder: Path, relative: str, *, dataset: str, download_hint: str) -> Path:
    """``folder/relative``, or a FileNotFoundError that says what to put where."""
    f = folder / relative
    if not f.is_file():
        raise FileNotFoundError(
            f"{dataset}: file {relative!r} not found in {folder}. Put the file there, point "
            f"$BFTBIO_DATA at a folder holding {dataset}/{relative}, pass path=..., or {download_hint}"
        )
    return f


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url: str, target: Path, checksum: str, *, overwrite: bool = False) -> Path:
    """Download ``url`` to ``target`` atomically and verify its SHA-256."""
    if target.is_file() and not overwrite:
        if sha256(target) == checksum:
            return target
        raise ValueError(f"{target} exists with another checksum than expected; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s -> %s", url, target)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
        got = sha256(Path(tmp))
        if got != checksum:
            raise ValueError(f"checksum mismatch for {url}: expected {checksum}, got {got}")
        os.replace(follow_umask(tmp), target)
    except (urllib.error.URLError, OSError) as err:
        raise ConnectionError(
            f"could not download {url} ({err}). Offline? Put the file at {target} by hand "
            "(or point $BFTBIO_DATA at a folder that holds it)."
        ) from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
