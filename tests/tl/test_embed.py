import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import bftbio
from bftbio.store import Store


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.sqlite") as s:
        yield s


@pytest.fixture
def adata():
    rng = np.random.default_rng(0)
    genes = ["TP53", "MDM2", "NOTAGENE", "HBB", "EGFR"]
    x = rng.poisson(1.0, size=(30, len(genes))).astype(np.float32)
    x[0] = 0  # a cell that expresses nothing
    var = pd.DataFrame({"symbol": ["p53", "MDM2", "NOTAGENE", "HBB", "EGFR"]}, index=[f"g{i}" for i in range(5)])
    data = ad.AnnData(sparse.csr_matrix(x), var=var)
    data.var_names = genes
    return data


def test_embed_genes_writes_varm_var_and_uns(real_kb, adata, tiny_encoder, store, tmp_path):
    with pytest.warns(UserWarning, match="NOTAGENE"):
        bftbio.tl.embed_genes(adata, source="knowledge", encoder=tiny_encoder, store=store, progress=False)
    assert adata.varm["X_bft"].shape == (5, 16) and adata.varm["X_bft"].dtype == np.float32
    assert adata.var["X_bft_found"].tolist() == [True, True, False, True, True]
    assert np.isnan(adata.varm["X_bft"][2]).all()
    params = adata.uns["X_bft"]["params"]
    assert params["source"] == "knowledge" and params["encoder"] == "tiny-bert"
    assert params["prompt_version"] == bftbio.embed.PROMPT_VERSION and params["n_found"] == 4
    adata.write_h5ad(tmp_path / "a.h5ad")  # uns holds nothing h5ad cannot write
    assert ad.read_h5ad(tmp_path / "a.h5ad").uns["X_bft"]["params"]["source"] == "knowledge"


def test_copy_leaves_the_input_alone_and_gene_symbols_column(real_kb, adata, tiny_encoder, store):
    with pytest.warns(UserWarning):
        out = bftbio.tl.embed_genes(adata, key_added="X_k", gene_symbols="symbol", copy=True, source="knowledge",
                                    encoder=tiny_encoder, store=store, progress=False)
    assert "X_k" not in adata.varm and "X_k_found" not in adata.var
    assert out.var["X_k_found"].sum() == 4
    with pytest.raises(KeyError, match="not a column"):
        bftbio.tl.embed_genes(adata, gene_symbols="nope", store=store)


def test_cell_embeddings_are_expression_weighted_unit_vectors(real_kb, adata, tiny_encoder, store):
    with pytest.warns(UserWarning):
        bftbio.tl.embed_genes(adata, source="knowledge", encoder=tiny_encoder, store=store, progress=False)
    with pytest.raises(ValueError, match="remove_pcs=4 must be smaller than the 4 genes.*remove_pcs=0 for so few"):
        bftbio.tl.cell_embeddings(adata, remove_pcs=4)
    with pytest.warns(UserWarning, match="1 cells express none"):
        bftbio.tl.cell_embeddings(adata)  # the default recipe: centred, top 2 directions removed
    genes, found = adata.varm["X_bft"], adata.var["X_bft_found"].to_numpy()
    centred = genes[found] - genes[found].mean(axis=0)
    _, _, top = np.linalg.svd(centred, full_matrices=False)
    kept = centred - centred @ top[:2].T @ top[:2]
    expected = adata.X.toarray()[5, found] @ kept
    np.testing.assert_allclose(adata.obsm["X_bft"][5], expected / np.linalg.norm(expected), rtol=1e-4, atol=1e-5)
    assert adata.uns["X_bft"]["cells"]["remove_pcs"] == 2
    with pytest.warns(UserWarning, match="1 cells express none"):
        bftbio.tl.cell_embeddings(adata, remove_pcs=0)
    cells = adata.obsm["X_bft"]
    assert cells.shape == (30, 16)
    np.testing.assert_allclose(np.linalg.norm(cells[1:], axis=1), 1, rtol=1e-5)
    assert (cells[0] == 0).all()
    genes, found = adata.varm["X_bft"], adata.var["X_bft_found"].to_numpy()
    x = adata.X.toarray()
    centred = genes[found] - genes[found].mean(axis=0)  # GenePT-w on centred gene vectors
    expected = x[5, found] @ centred
    np.testing.assert_allclose(cells[5], expected / np.linalg.norm(expected), rtol=1e-5, atol=1e-6)
    assert adata.uns["X_bft"]["cells"]["n_genes_used"] == 4
    assert adata.uns["X_bft"]["cells"]["center"] is True
    published = bftbio.tl.cell_embeddings(adata, center=False, remove_pcs=0, key_added="X_genept",
                                          copy=True).obsm["X_genept"]
    expected = x[5, found] @ genes[found]  # GenePT-w as published
    np.testing.assert_allclose(published[5], expected / np.linalg.norm(expected), rtol=1e-5, atol=1e-6)
    assert "params" in adata.uns["X_bft"]  # the gene parameters are kept


@pytest.mark.fault
def test_cell_embeddings_refuse_scaled_data_and_missing_keys(adata):
    with pytest.raises(KeyError, match="embed_genes"):
        bftbio.tl.cell_embeddings(adata)
    adata.varm["X_bft"] = np.ones((5, 3), dtype=np.float32)
    adata.layers["scaled"] = adata.X.toarray() - 1
    with pytest.raises(ValueError, match="negative values"):
        bftbio.tl.cell_embeddings(adata, layer="scaled")
    with pytest.raises(KeyError, match="layers has no"):
        bftbio.tl.cell_embeddings(adata, layer="counts")
    out = bftbio.tl.cell_embeddings(adata[1:].copy(), key_added="X_cells", remove_pcs=0, copy=True)
    assert out.obsm["X_cells"].shape == (29, 3)


@pytest.mark.fault
def test_cell_embeddings_name_nan_and_inf_never_zero_vectors(adata):
    adata.varm["X_bft"] = np.ones((5, 3), dtype=np.float32)
    adata.varm["X_bft"][2] = np.nan  # a gene without a vector: allowed
    nan_x = adata.copy()
    nan_x.X = nan_x.X.toarray()
    nan_x.X[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"adata.X holds 1 NaN or infinite values in 1 of its 30 rows "
                                         r"\(first: row '4', column 'MDM2'\)"):
        bftbio.tl.cell_embeddings(nan_x)
    sparse_inf = adata.copy()
    sparse_inf.X.data[0] = np.inf
    with pytest.raises(ValueError, match="adata.X holds 1 NaN or infinite"):
        bftbio.tl.cell_embeddings(sparse_inf)
    adata.varm["X_bft"][1, 0] = np.inf
    with pytest.raises(ValueError, match=r"adata.varm\['X_bft'\] holds 1 NaN or infinite values.*'MDM2'"):
        bftbio.tl.cell_embeddings(adata)


@pytest.mark.slow
def test_pbmc68k_reduced_in_a_scanpy_workflow(real_kb, store):
    sc = pytest.importorskip("scanpy")
    data = sc.datasets.pbmc68k_reduced()
    with pytest.warns(UserWarning):
        bftbio.tl.embed_genes(data, source="knowledge", store=store, progress=False)
    found = data.var["X_bft_found"]
    assert found.sum() >= 740  # 750 of 765 resolve; the rest are clone names such as RP11-782C8.1
    assert not np.isnan(data.varm["X_bft"][found.to_numpy()]).any()
    bftbio.tl.cell_embeddings(data)  # pbmc68k_reduced's X is scaled: the log-normalised raw is used
    assert data.uns["X_bft"]["cells"]["expression"] == "raw"
    sc.pp.neighbors(data, use_rep="X_bft")
    sc.tl.umap(data)
    assert data.obsm["X_umap"].shape == (data.n_obs, 2)


def test_cell_sentence_embeddings_write_obsm_and_uns(adata, tiny_encoder, store):
    with pytest.warns(UserWarning, match="1 cells express none"):
        out = bftbio.tl.cell_sentence_embeddings(adata, encoder=tiny_encoder, store=store, n_genes=3, copy=True)
    assert "X_bft_sentence" not in adata.obsm  # copy=True leaves the input alone
    vectors = out.obsm["X_bft_sentence"]
    assert vectors.shape == (30, 16) and not vectors[0].any()
    np.testing.assert_allclose(np.linalg.norm(vectors[1:], axis=1), 1, rtol=1e-5)
    info = out.uns["X_bft_sentence"]["cells"]
    assert info["expression"] == "X" and info["genes_per_sentence"] == 3 and info["n_empty_cells"] == 1
    bftbio.tl.cell_sentence_embeddings(adata, encoder=tiny_encoder, store=store, gene_symbols="symbol",
                                       key_added="s")
    assert adata.obsm["s"].shape == (30, 16)
    scaled = adata.copy()
    scaled.X = scaled.X.toarray() - 1.0
    with pytest.raises(ValueError, match="negative values"):
        bftbio.tl.cell_sentence_embeddings(scaled, encoder=tiny_encoder, store=store)
    with pytest.raises(KeyError, match="nope"):
        bftbio.tl.cell_sentence_embeddings(adata, encoder=tiny_encoder, gene_symbols="nope")
