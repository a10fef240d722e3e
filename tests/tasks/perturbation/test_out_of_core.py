"""Preparation streamed over row blocks: on-disk (backed) and Dask matrices give the in-memory results,
and the streamed Welch test gives scanpy's rank_genes_groups."""

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bftbio.datasets import simulate_perturbseq
from bftbio.tasks import prepare_perturbation
from bftbio.tasks.perturbation import group_statistics


@pytest.fixture(scope="module")
def cells():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate_perturbseq(n_cells=3_000, n_genes=300, n_conditions=30, n_combos=8, seed=1)


def _same(a, b, atol=1e-6):
    np.testing.assert_allclose(a.X, b.X, atol=atol)
    np.testing.assert_allclose(a.layers["delta"], b.layers["delta"], atol=atol)
    pd.testing.assert_frame_equal(a.obs, b.obs)
    pd.testing.assert_frame_equal(a.var, b.var, atol=atol)
    pd.testing.assert_frame_equal(a.uns["top_de"], b.uns["top_de"])


def test_the_streamed_welch_test_is_scanpys_rank_genes_groups(cells):
    import scanpy as sc

    adata = cells.copy()
    prepare_perturbation(adata, n_top_de=20)
    ours = adata.uns["rank_genes_groups"]
    reference = ad.AnnData(adata.X, obs=pd.DataFrame({"condition": adata.obs["condition"].astype("category")},
                                                     index=adata.obs_names), var=pd.DataFrame(index=adata.var_names))
    groups = list(ours["names"].dtype.names)
    sc.tl.rank_genes_groups(reference, groupby="condition", groups=["ctrl", *groups], reference="ctrl",
                            method="t-test", rankby_abs=True, n_genes=20, use_raw=False)
    theirs = reference.uns["rank_genes_groups"]
    assert set(theirs["names"].dtype.names) == set(groups)
    for group in groups:
        assert list(ours["names"][group]) == list(theirs["names"][group])
        for key in ("scores", "logfoldchanges"):
            np.testing.assert_allclose(ours[key][group], theirs[key][group], rtol=1e-4, atol=1e-5)
        for key in ("pvals", "pvals_adj"):  # p ~ 1e-55 moves by 1e-6 relative when t moves in its 8th digit
            np.testing.assert_allclose(ours[key][group], theirs[key][group], rtol=1e-4, atol=1e-300)
    table = sc.get.rank_genes_groups_df(adata, group=groups[0])  # scanpy reads our record
    assert list(table["names"]) == list(ours["names"][groups[0]])


@pytest.mark.parametrize("layout", ["sparse", "dense"])
def test_a_backed_anndata_gives_the_in_memory_results(cells, tmp_path, layout):
    adata = cells.copy()
    if layout == "dense":
        adata.X = adata.X.toarray()
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    in_memory = prepare_perturbation(adata, copy=True)
    backed = ad.read_h5ad(path, backed="r")
    try:
        streamed = prepare_perturbation(backed, chunk_size=700, copy=True)  # blocks cut across conditions
    finally:
        backed.file.close()
    _same(in_memory, streamed)


def test_block_size_does_not_change_the_results(cells):
    whole = prepare_perturbation(cells, chunk_size=10**9, copy=True)
    for size in (1, 257):
        _same(whole, prepare_perturbation(cells, chunk_size=size, copy=True), atol=1e-9)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        prepare_perturbation(cells, chunk_size=0, copy=True)


def test_group_statistics_by_hand():
    x = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 9.0]])
    for matrix in (x, sparse.csr_matrix(x)):
        stats = group_statistics(matrix, ["a", "b", "b", "b"], ["b", "a", "none"], chunk_size=2)
        np.testing.assert_allclose(stats["means"][:2], [[5.0, 5.0], [1.0, 0.0]])
        np.testing.assert_allclose(stats["variances"][0], [4.0, 13.0])  # unbiased: sum of squares / (n - 1)
        assert np.isnan(stats["variances"][1]).all() and np.isnan(stats["means"][2]).all()
        assert stats["n_cells"].tolist() == [3, 1, 0]


@pytest.mark.fault
def test_nan_in_a_later_block_is_named(cells):
    adata = cells.copy()
    x = adata.X.toarray()
    x[2_500, 7] = np.nan
    adata.X = sparse.csr_matrix(x)
    with pytest.raises(ValueError, match=rf"1 NaN or infinite values in 1 of its 3,000 rows \(first: row "
                                         rf"'{adata.obs_names[2_500]}', column '{adata.var_names[7]}'\)"):
        prepare_perturbation(adata, chunk_size=1_000, copy=True)


def test_a_dask_matrix_gives_the_in_memory_results(cells):
    da = pytest.importorskip("dask.array", reason="dask is not installed")
    adata = cells.copy()
    adata.X = adata.X.toarray()
    lazy = ad.AnnData(da.from_array(adata.X, chunks=(500, -1)), obs=adata.obs, var=adata.var, uns=dict(adata.uns))
    _same(prepare_perturbation(adata, copy=True), prepare_perturbation(lazy, chunk_size=800, copy=True))


def test_integer_counts_and_constant_genes_give_exact_statistics():
    x = np.array([[300, 0], [200, 1], [100, 2], [50, 3]], dtype=np.int16)  # squares overflow int16
    for matrix in (x, sparse.csr_matrix(x)):
        stats = group_statistics(matrix, ["a"] * 4, ["a"])
        np.testing.assert_allclose(stats["variances"][0], np.var(x.astype(float), axis=0, ddof=1))
    constant = np.full((7, 1), 0.7)  # E[x^2] - mean^2 rounds below 0 here; the variance must not be NaN
    stats = group_statistics(constant, ["a"] * 7, ["a"])
    assert stats["variances"][0, 0] == 0.0
