"""Real, labelled single-cell data sets that reach an offline machine through package registries."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from ._files import dataset_dir

#: The cell-level data sets: what each is, where it comes from, its label column.
CELL_DATASETS = {
    "pbmc68k_reduced": {
        "what": "700 PBMCs x 765 genes (10x), log-normalised; 10 cell types by correlation with FACS-sorted "
                "references (Zheng et al. 2017)",
        "source": "bundled with scanpy (scanpy.datasets.pbmc68k_reduced)",
        "label": "bulk_labels",
    },
    "oligodendroglioma": {
        "what": "184 cells x 9,450 genes (Smart-seq2, TPM); 6 labels: malignant cells of 4 tumours, "
                "oligodendrocytes, microglia/macrophages (Tirosh et al. 2016)",
        "source": "packaged copy of infercnvpy 0.6.1's file (data/benchmarks/oligodendroglioma, BSD 3-Clause)",
        "label": "cell_type",
        "file": "oligodendroglioma.h5ad",
    },
    "wu2020": {
        "what": "200 T cells x 3,000 genes (10x, counts); 16 T-cell subtypes (Wu et al. 2020)",
        "source": "packaged copy of scirpy 0.22.5's test file (data/benchmarks/wu2020, BSD 3-Clause)",
        "label": "cluster_orig",
        "file": "wu2020_200_v0_6.h5ad",
    },
}


def _log_normalised(adata, kind: str):
    """Counts: normalise to 10,000 per cell and log1p. TPM: log1p(TPM / 10), as Tirosh et al."""
    import scanpy as sc

    if kind == "counts":
        sc.pp.normalize_total(adata, target_sum=1e4)
        sc.pp.log1p(adata)
    else:
        adata.X = adata.X / 10.0
        sc.pp.log1p(adata)
    return adata


def cell_dataset(name: str, *, path: str | os.PathLike | None = None):
    """A real single-cell data set with cell-type labels, ready for cell embeddings.

    Parameters
    ----------
    name
        One of :data:`CELL_DATASETS`: ``"pbmc68k_reduced"``, ``"oligodendroglioma"``, ``"wu2020"``.
    path
        Folder holding the data set's file (default: ``$BFTBIO_DATA/<name>``, else the copy
        that ships with bftbio). Not used for ``pbmc68k_reduced``, which scanpy bundles.

    Returns
    -------
    AnnData: ``X`` log-normalised expression (sparse, non-negative), ``var_names`` gene
    symbols, ``obs["label"]`` the cell type (categorical), ``uns["dataset"]`` the name and
    ``uns["source"]`` where it comes from.

    Examples
    --------
    >>> from bftbio.datasets import cell_dataset
    >>> adata = cell_dataset("oligodendroglioma")  # doctest: +SKIP
    >>> adata.obs["label"].value_counts().size  # doctest: +SKIP
    6
    """
    import anndata as ad
    import scanpy as sc

    if name not in CELL_DATASETS:
        raise ValueError(f"unknown cell data set {name!r}; choose one of {sorted(CELL_DATASETS)}")
    spec = CELL_DATASETS[name]
    if name == "pbmc68k_reduced":
        full = sc.datasets.pbmc68k_reduced()
        adata = full.raw.to_adata()  # X of the shipped file is scaled; raw is log-normalised
        adata.obs = full.obs[[spec["label"]]].copy()
    else:
        file = dataset_dir(name, path) / spec["file"]
        if not file.is_file():
            raise FileNotFoundError(f"{file} not found: bftbio ships it in data/benchmarks/{name}; "
                                    "reinstall bftbio or point path= at a folder that holds it")
        with warnings.catch_warnings():  # files of an older anndata: nothing a user can act on
            warnings.filterwarnings("ignore", message=".*without encoding metadata.*")
            raw = ad.read_h5ad(file)
        adata = ad.AnnData(sparse.csr_matrix(raw.X, dtype=np.float32), obs=raw.obs[[spec["label"]]].copy(),
                           var=pd.DataFrame(index=raw.var_names.astype(str)))
        adata = _log_normalised(adata, "tpm" if name == "oligodendroglioma" else "counts")
    adata.X = sparse.csr_matrix(adata.X, dtype=np.float32)
    adata.obs["label"] = adata.obs.pop(spec["label"]).astype(str).astype("category")
    adata.var_names_make_unique()
    adata.uns["dataset"] = name
    adata.uns["source"] = spec["source"]
    return adata
