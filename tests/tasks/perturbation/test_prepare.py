import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from bftbio.tasks import prepare_perturbation
from bftbio.tasks.perturbation import pseudobulk


def test_prepare_computes_exact_pseudobulk_and_de(planted):
    prepared, truth = planted["prepared"], planted["truth"]
    assert prepared.obs_names[0] == "ctrl" and prepared.n_obs == 46
    for condition in list(truth)[:5] + list(truth)[-3:]:  # control, singles and doubles
        np.testing.assert_allclose(prepared[condition].layers["delta"].ravel(), truth[condition], atol=1e-9)
    np.testing.assert_allclose(prepared["ctrl"].X.ravel(), planted["base"], atol=1e-9)
    assert prepared.obs.loc["ctrl", "kind"] == "control"
    assert prepared.obs["kind"].value_counts().to_dict() == {"single": 30, "combo": 15, "control": 1}
    # equal noise in every gene: the t-test ranks by |delta|, so the DE genes are the largest changes
    condition = prepared.obs_names[5]
    expected = set(prepared.var_names[np.argsort(-np.abs(truth[condition]))[:20]])
    assert set(prepared.uns["top_de"].loc[condition]) == expected
    assert prepared.uns["bftbio_pseudobulk"]["de_method"] == "t-test"


def test_prepare_writes_where_scanpy_users_look(planted, tmp_path):
    adata = planted["adata"].copy()
    prepare_perturbation(adata, n_top_de=5)
    stored = adata.uns["bftbio_perturbation"]
    assert set(stored) == {"params", "pseudobulk", "delta", "n_cells", "top_de"}
    assert stored["top_de"].shape == (45, 5)
    assert stored["n_cells"].loc["ctrl", "n_cells"] == 6
    assert adata.uns["rank_genes_groups"]["params"]["method"] == "t-test"
    assert adata.uns["rank_genes_groups"]["params"]["reference"] == "ctrl"
    adata.write_h5ad(tmp_path / "cells.h5ad")  # everything written is storable
    back = ad.read_h5ad(tmp_path / "cells.h5ad")
    pd.testing.assert_frame_equal(back.uns["bftbio_perturbation"]["delta"], stored["delta"])


def test_sparse_and_dense_give_the_same_pseudobulk(planted):
    dense = planted["adata"].copy()
    sparse_copy = planted["adata"].copy()
    sparse_copy.X = sparse.csr_matrix(sparse_copy.X)
    a, b = prepare_perturbation(dense), prepare_perturbation(sparse_copy)
    np.testing.assert_allclose(a.layers["delta"], b.layers["delta"], atol=1e-10)
    assert a.uns["top_de"].equals(b.uns["top_de"])


def test_gears_files_use_gene_name_for_symbols(planted):
    adata = planted["adata"].copy()
    adata.var["gene_name"] = adata.var_names
    adata.var_names = [f"ENSG{i:011d}" for i in range(adata.n_vars)]
    prepared = prepare_perturbation(adata)
    assert list(prepared.var_names) == list(planted["prepared"].var_names)


@pytest.mark.fault
def test_bad_inputs_name_the_problem(planted, real_kb):
    adata = planted["adata"].copy()
    with pytest.raises(KeyError, match="perturbation_key='perturbation' is not a column.*condition"):
        prepare_perturbation(adata, perturbation_key="perturbation")
    with pytest.raises(ValueError, match="no control cells.*'non-targeting'.*pass control="):
        prepare_perturbation(adata, control="non-targeting")
    with pytest.raises(KeyError, match="gene_symbols='symbol' is not a column"):
        prepare_perturbation(adata, gene_symbols="symbol")
    missing = adata.copy()
    missing.obs["condition"] = missing.obs["condition"].astype(object)
    missing.obs.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="1 cells have no label"):
        prepare_perturbation(missing)
    broken = adata.copy()
    broken.obs["condition"] = broken.obs["condition"].astype(str)
    broken.obs.iloc[-4:, 0] = "NOTAGENE1+ctrl"
    with pytest.warns(UserWarning, match=r"perturb a gene the knowledge base does not know \('NOTAGENE1'\): "
                                         r"'NOTAGENE1\+ctrl'"):
        prepare_perturbation(broken)
    one_cell = adata.copy()
    one_cell.obs["condition"] = one_cell.obs["condition"].astype(str)
    one_cell.obs.iloc[-1, 0] = "TP53+ctrl"
    with pytest.warns(UserWarning, match=r"fewer than 2 cells and are left out: 'TP53\+ctrl'"):
        prepared = prepare_perturbation(one_cell)
    assert "TP53+ctrl" not in prepared.obs_names
    counts = adata.copy()
    counts.X = np.round(counts.X * 20)  # non-negative integers up to ~500
    with pytest.warns(UserWarning, match="raw counts"):
        prepare_perturbation(counts)
    empty = adata.copy()
    empty.obs["condition"] = empty.obs["condition"].astype(str)
    empty.obs.iloc[-4:, 0] = "A1BG++ctrl"
    with pytest.raises(ValueError, match="empty gene name"):
        prepare_perturbation(empty)
    for bad_value in (np.nan, np.inf):  # dense and sparse: named with the count and the first cell
        for matrix in (np.array(adata.X, dtype=np.float32), sparse.csr_matrix(adata.X)):
            faulty = adata.copy()
            matrix[3, 5] = bad_value
            matrix[7, 5] = bad_value
            faulty.X = matrix
            with pytest.raises(ValueError, match=rf"adata.X holds 2 NaN or infinite values in 2 of its "
                                                 rf"{adata.n_obs:,} rows \(first: row '{adata.obs_names[3]}'"):
                prepare_perturbation(faulty)


def test_pseudobulk_by_hand():
    x = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 9.0]])
    labels = ["ctrl", "A+ctrl", "A+ctrl", "other"]  # "other" is not asked for: left out
    for matrix in (x, sparse.csr_matrix(x)):
        means, n_cells = pseudobulk(matrix, labels, ["A+ctrl", "ctrl", "B+ctrl"])
        np.testing.assert_array_equal(means[:2], [[4.0, 3.0], [1.0, 0.0]])
        assert np.isnan(means[2]).all()  # a group without cells
        assert n_cells.tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match="labels has 3 entries for a matrix of 4 cells"):
        pseudobulk(x, labels[:3], ["ctrl"])


def test_copy_leaves_the_input_untouched(planted):
    adata = planted["adata"].copy()
    obs, uns, x = adata.obs.copy(), dict(adata.uns), adata.X.copy()
    prepared = prepare_perturbation(adata, n_top_de=5, copy=True)
    pd.testing.assert_frame_equal(adata.obs, obs)  # labels stay strings, not categoricals
    assert dict(adata.uns) == uns and np.array_equal(adata.X, x)
    in_place = prepare_perturbation(adata, n_top_de=5)  # copy=False: two uns entries, nothing else
    pd.testing.assert_frame_equal(adata.obs, obs)
    assert set(adata.uns) - set(uns) == {"bftbio_perturbation", "rank_genes_groups"}
    np.testing.assert_array_equal(prepared.layers["delta"], in_place.layers["delta"])
    assert prepared.uns["top_de"].equals(in_place.uns["top_de"])
    pd.testing.assert_frame_equal(adata.uns["bftbio_perturbation"]["top_de"], prepared.uns["top_de"])
