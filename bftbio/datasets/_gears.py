"""Readers of the GEARS-processed Perturb-seq screens (Norman 2019, Adamson 2016,
Replogle 2022), and their explicit, checksummed downloads from Harvard Dataverse.

Each screen has a reader (:func:`norman2019`, ...) that only reads a local copy, and a
``download_<name>`` function, the only one that reaches the network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

from .._settings import follow_umask
from ._files import dataset_dir, download_file

class _GearsFile(NamedTuple):
    folder: str  # GEARS's name, the folder the archive unpacks to
    datafile: int  # Harvard Dataverse datafile id (the URL GEARS downloads)
    checksum: str | None  # SHA-256 of the archive, once verified by a maintainer
    description: str


_DATAVERSE = "https://dataverse.harvard.edu/api/access/datafile/{}"
# Datafile ids are those in GEARS's PertData.load (github.com/snap-stanford/GEARS,
# gears/pertdata.py). No checksum is recorded yet: nobody has verified the archives
# from a machine with a network. Download functions then require checksum=.
_GEARS = {
    "norman2019": _GearsFile("norman", 6154020, None,
                             "Norman et al., Science 2019: K562 CRISPRa, single and double perturbations "
                             "(GEARS-processed)"),
    "adamson2016": _GearsFile("adamson", 6154417, None,
                              "Adamson et al., Cell 2016: K562 CRISPRi, unfolded-protein-response genes "
                              "(GEARS-processed)"),
    "replogle2022_k562_essential": _GearsFile("replogle_k562_essential", 7458695, None,
                                              "Replogle et al., Cell 2022: K562 CRISPRi of essential genes "
                                              "(GEARS-processed and filtered subset)"),
}
_H5AD = "perturb_processed.h5ad"


def _gears_file(name: str, path) -> Path:
    """The h5ad of a GEARS dataset: ``path`` itself, ``path/perturb_processed.h5ad`` or
    ``path/<gears folder>/perturb_processed.h5ad``; default folder ``dataset_dir("gears")``."""
    spec = _GEARS[name]
    root = dataset_dir("gears", path)
    if root.is_file():
        return root
    for candidate in (root / _H5AD, root / spec.folder / _H5AD):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{name}: {_H5AD} not found in {root} or {root / spec.folder}. Put GEARS's folder "
        f"'{spec.folder}/' (holding {_H5AD}) there, point $BFTBIO_DATA at a folder holding "
        f"gears/{spec.folder}/{_H5AD}, pass path=..., or call bftbio.datasets.download_{name}(checksum=...) "
        "with a network."
    )


def _read_gears(name: str, path):
    import anndata as ad

    file = _gears_file(name, path)
    adata = ad.read_h5ad(file)
    missing = [f"obs[{c!r}]" for c in ("condition", "cell_type") if c not in adata.obs.columns]
    missing += [f"var[{c!r}]" for c in ("gene_name",) if c not in adata.var.columns]
    if missing:
        raise ValueError(f"{file} is not in GEARS's perturb_processed format: missing {', '.join(missing)} "
                         "(expected obs columns condition like 'A+ctrl', 'A+B', 'ctrl' and cell_type, "
                         "and var column gene_name)")
    adata.uns["dataset"] = name
    adata.uns["simulated"] = False
    adata.uns["source"] = {"file": str(file), "description": _GEARS[name].description,
                           "url": _DATAVERSE.format(_GEARS[name].datafile)}
    return adata


def _download_gears(name: str, path, checksum: str | None, overwrite: bool) -> Path:
    spec = _GEARS[name]
    checksum = checksum or spec.checksum
    url = _DATAVERSE.format(spec.datafile)
    if not checksum:
        raise ValueError(
            f"bftbio records no verified SHA-256 for {name} ({url}), so it will not download it unchecked. "
            f"Pass checksum='<sha256 of the zip archive>' after verifying the archive yourself (Dataverse lists "
            f"an MD5 for datafile {spec.datafile}; compare it, then run sha256sum), or unpack GEARS's "
            f"'{spec.folder}/' folder by hand into {dataset_dir('gears', path)}."
        )
    root = Path(path).expanduser() if path is not None else dataset_dir("gears")
    archive = download_file(url, root / f"{spec.folder}.zip", checksum, overwrite=overwrite)
    target = root / spec.folder / _H5AD
    if target.is_file() and not overwrite:
        return target.parent
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if m.endswith(_H5AD)]
        if not members:
            raise ValueError(f"{archive} holds no {_H5AD}; members: {zf.namelist()[:10]}")
        member = next((m for m in members if spec.folder in Path(m).parts), members[0])
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_H5AD + ".", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, zf.open(member) as source:
                shutil.copyfileobj(source, out, 1 << 20)
            os.replace(follow_umask(tmp), target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target.parent


def norman2019(path: str | os.PathLike | None = None):
    """Norman et al. (2019) Perturb-seq as GEARS processed it: K562 CRISPRa, singles and doubles.

    Reads GEARS's ``norman/perturb_processed.h5ad``: log-normalised expression
    (cells × genes), ``obs["condition"]`` (``"A+ctrl"`` single, ``"A+B"`` double,
    ``"ctrl"``), ``obs["cell_type"]``, ``var["gene_name"]`` (symbols; ``var_names`` are
    Ensembl IDs) and GEARS's own ``uns`` entries (e.g. ``rank_genes_groups_cov_all``).
    Nothing is downloaded: see :func:`download_norman2019`.

    Parameters
    ----------
    path
        The h5ad file, a folder holding ``perturb_processed.h5ad``, or a GEARS data
        folder holding ``norman/perturb_processed.h5ad``. Default:
        ``$BFTBIO_DATA/gears`` or ``<cachedir>/datasets/gears``.

    Returns
    -------
    The AnnData, with ``uns["dataset"] = "norman2019"``, ``uns["simulated"] = False`` and
    ``uns["source"]`` (file, description, Dataverse URL) added.

    Raises
    ------
    FileNotFoundError
        The file is not found; the message says where to put it.
    ValueError
        The file lacks the GEARS columns (``condition``, ``cell_type``, ``gene_name``).

    Examples
    --------
    >>> from bftbio.datasets import norman2019
    >>> adata = norman2019(path="data/gears")  # doctest: +SKIP
    >>> adata.obs["condition"].nunique()  # doctest: +SKIP
    """
    return _read_gears("norman2019", path)


def download_norman2019(path: str | os.PathLike | None = None, *, checksum: str | None = None,
                        overwrite: bool = False) -> Path:
    """Download GEARS's Norman et al. (2019) archive from Harvard Dataverse (needs a network).

    Fetches https://dataverse.harvard.edu/api/access/datafile/6154020 (the URL GEARS
    uses) as ``norman.zip``, verifies its SHA-256 and unpacks
    ``perturb_processed.h5ad`` to ``<path>/norman/perturb_processed.h5ad`` atomically.

    Parameters
    ----------
    path
        Folder to write to (default ``$BFTBIO_DATA/gears`` or ``<cachedir>/datasets/gears``).
    checksum
        SHA-256 of the zip archive. bftbio does not record one for this file yet, so
        it is required: verify the archive (Dataverse lists its MD5) and pass the
        SHA-256 here.
    overwrite
        Replace an existing archive whose checksum differs, and re-extract.

    Returns
    -------
    The folder holding ``perturb_processed.h5ad``, ready for :func:`norman2019`.

    Raises
    ------
    ValueError
        No checksum is known and none was passed (checked before any download), or
        the archive's checksum differs.
    ConnectionError
        Offline; the message says where to put the file by hand.
    """
    return _download_gears("norman2019", path, checksum, overwrite)


def adamson2016(path: str | os.PathLike | None = None):
    """Adamson et al. (2016) Perturb-seq as GEARS processed it: K562 CRISPRi of UPR genes.

    Reads GEARS's ``adamson/perturb_processed.h5ad``: log-normalised expression
    (cells × genes), ``obs["condition"]`` (``"A+ctrl"`` single, ``"A+B"`` double,
    ``"ctrl"``), ``obs["cell_type"]``, ``var["gene_name"]`` (symbols; ``var_names`` are
    Ensembl IDs) and GEARS's own ``uns`` entries (e.g. ``rank_genes_groups_cov_all``).
    Nothing is downloaded: see :func:`download_adamson2016`.

    Parameters
    ----------
    path
        The h5ad file, a folder holding ``perturb_processed.h5ad``, or a GEARS data
        folder holding ``adamson/perturb_processed.h5ad``. Default:
        ``$BFTBIO_DATA/gears`` or ``<cachedir>/datasets/gears``.

    Returns
    -------
    The AnnData, with ``uns["dataset"] = "adamson2016"``, ``uns["simulated"] = False`` and
    ``uns["source"]`` (file, description, Dataverse URL) added.

    Raises
    ------
    FileNotFoundError
        The file is not found; the message says where to put it.
    ValueError
        The file lacks the GEARS columns (``condition``, ``cell_type``, ``gene_name``).

    Examples
    --------
    >>> from bftbio.datasets import adamson2016
    >>> adata = adamson2016(path="data/gears")  # doctest: +SKIP
    >>> adata.obs["condition"].nunique()  # doctest: +SKIP
    """
    return _read_gears("adamson2016", path)


def download_adamson2016(path: str | os.PathLike | None = None, *, checksum: str | None = None,
                         overwrite: bool = False) -> Path:
    """Download GEARS's Adamson et al. (2016) archive from Harvard Dataverse (needs a network).

    Fetches https://dataverse.harvard.edu/api/access/datafile/6154417 (the URL GEARS
    uses) as ``adamson.zip``, verifies its SHA-256 and unpacks
    ``perturb_processed.h5ad`` to ``<path>/adamson/perturb_processed.h5ad`` atomically.

    Parameters
    ----------
    path
        Folder to write to (default ``$BFTBIO_DATA/gears`` or ``<cachedir>/datasets/gears``).
    checksum
        SHA-256 of the zip archive. bftbio does not record one for this file yet, so
        it is required: verify the archive (Dataverse lists its MD5) and pass the
        SHA-256 here.
    overwrite
        Replace an existing archive whose checksum differs, and re-extract.

    Returns
    -------
    The folder holding ``perturb_processed.h5ad``, ready for :func:`adamson2016`.

    Raises
    ------
    ValueError
        No checksum is known and none was passed (checked before any download), or
        the archive's checksum differs.
    ConnectionError
        Offline; the message says where to put the file by hand.
    """
    return _download_gears("adamson2016", path, checksum, overwrite)


def replogle2022_k562_essential(path: str | os.PathLike | None = None):
    """Replogle et al. (2022) K562 CRISPRi of essential genes, GEARS's processed and filtered subset.

    Reads GEARS's ``replogle_k562_essential/perturb_processed.h5ad``: log-normalised expression
    (cells × genes), ``obs["condition"]`` (``"A+ctrl"`` single, ``"A+B"`` double,
    ``"ctrl"``), ``obs["cell_type"]``, ``var["gene_name"]`` (symbols; ``var_names`` are
    Ensembl IDs) and GEARS's own ``uns`` entries (e.g. ``rank_genes_groups_cov_all``).
    Nothing is downloaded: see :func:`download_replogle2022_k562_essential`.

    Parameters
    ----------
    path
        The h5ad file, a folder holding ``perturb_processed.h5ad``, or a GEARS data
        folder holding ``replogle_k562_essential/perturb_processed.h5ad``. Default:
        ``$BFTBIO_DATA/gears`` or ``<cachedir>/datasets/gears``.

    Returns
    -------
    The AnnData, with ``uns["dataset"] = "replogle2022_k562_essential"``, ``uns["simulated"] = False`` and
    ``uns["source"]`` (file, description, Dataverse URL) added.

    Raises
    ------
    FileNotFoundError
        The file is not found; the message says where to put it.
    ValueError
        The file lacks the GEARS columns (``condition``, ``cell_type``, ``gene_name``).

    Examples
    --------
    >>> from bftbio.datasets import replogle2022_k562_essential
    >>> adata = replogle2022_k562_essential(path="data/gears")  # doctest: +SKIP
    >>> adata.obs["condition"].nunique()  # doctest: +SKIP
    """
    return _read_gears("replogle2022_k562_essential", path)


def download_replogle2022_k562_essential(path: str | os.PathLike | None = None, *, checksum: str | None = None,
                                         overwrite: bool = False) -> Path:
    """Download GEARS's Replogle et al. (2022) K562 essential-gene archive (needs a network).

    Fetches https://dataverse.harvard.edu/api/access/datafile/7458695 (the URL GEARS
    uses) as ``replogle_k562_essential.zip``, verifies its SHA-256 and unpacks
    ``perturb_processed.h5ad`` to ``<path>/replogle_k562_essential/perturb_processed.h5ad`` atomically.

    Parameters
    ----------
    path
        Folder to write to (default ``$BFTBIO_DATA/gears`` or ``<cachedir>/datasets/gears``).
    checksum
        SHA-256 of the zip archive. bftbio does not record one for this file yet, so
        it is required: verify the archive (Dataverse lists its MD5) and pass the
        SHA-256 here.
    overwrite
        Replace an existing archive whose checksum differs, and re-extract.

    Returns
    -------
    The folder holding ``perturb_processed.h5ad``, ready for :func:`replogle2022_k562_essential`.

    Raises
    ------
    ValueError
        No checksum is known and none was passed (checked before any download), or
        the archive's checksum differs.
    ConnectionError
        Offline; the message says where to put the file by hand.
    """
    return _download_gears("replogle2022_k562_essential", path, checksum, overwrite)
