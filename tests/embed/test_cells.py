"""cell_vectors: the recipes by hand, and bad input named."""

import doctest

import numpy as np
import pytest
from scipy import sparse

from bftbio.embed import DEFAULT_RECIPE, _cells, cell_vectors


def unit(rows):
    rows = np.asarray(rows, dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
V = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_genept_w_is_the_expression_weighted_sum():
    out, info = cell_vectors(X, V, weights="expression", center=False, remove_pcs=0)
    np.testing.assert_allclose(out[:3], unit(X[:3] @ V), rtol=1e-6)
    assert out[3].tolist() == [0, 0] and info["n_empty_cells"] == 1 and info["n_genes_used"] == 3


def test_centring_and_removing_directions():
    rng = np.random.default_rng(1)
    x, v = rng.poisson(2.0, size=(6, 7)).astype(float), rng.normal(size=(7, 4)) + 3.0  # a shared offset
    out, _ = cell_vectors(x, v, weights="expression", center=True, remove_pcs=0)
    centred = v - v.mean(axis=0)
    np.testing.assert_allclose(out, unit(x @ centred), rtol=1e-5)
    out, _ = cell_vectors(x, v, weights="expression", center=True, remove_pcs=1)
    _, _, top = np.linalg.svd(centred)
    kept = centred - np.outer(centred @ top[0], top[0])
    np.testing.assert_allclose(out @ top[0], 0, atol=1e-6)  # nothing left along the top direction
    np.testing.assert_allclose(out, unit(x @ kept), rtol=1e-5, atol=1e-6)


def test_zscore_weights_equal_the_dense_computation_on_sparse_input():
    rng = np.random.default_rng(0)
    x = rng.poisson(1.0, size=(30, 8)).astype(float)
    v = rng.normal(size=(8, 5))
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    dense, _ = cell_vectors(x, v, weights="zscore", center=False, remove_pcs=0)
    sparse_out, _ = cell_vectors(sparse.csr_matrix(x), v, weights="zscore", center=False, remove_pcs=0)
    np.testing.assert_allclose(dense, unit(z @ v), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sparse_out, dense, rtol=1e-5, atol=1e-6)


def test_idf_downweights_genes_every_cell_expresses():
    x = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])  # gene 0 in every cell
    out, _ = cell_vectors(x, np.eye(2), weights="idf", center=False, remove_pcs=0)
    idf = np.log(4 / np.array([5.0, 3.0])).clip(min=0)  # gene 0: log(4/5) < 0 -> 0
    np.testing.assert_allclose(out[0], unit([x[0] * idf])[0], rtol=1e-6)


def test_genes_without_vectors_are_left_out_and_bad_input_is_named():
    v = V.copy()
    v[1] = np.nan
    out, info = cell_vectors(X, v, weights="expression", center=False, remove_pcs=0)
    assert info["n_genes_used"] == 2
    np.testing.assert_allclose(out[0], unit([X[0, [0, 2]] @ V[[0, 2]]])[0], rtol=1e-6)
    with pytest.raises(ValueError, match="weights must be one of"):
        cell_vectors(X, V, weights="tfidf")
    with pytest.raises(ValueError, match="negative values"):
        cell_vectors(X - 1, V, weights="expression")
    assert cell_vectors(X - 1, V, weights="zscore", remove_pcs=0)[0].shape == (4, 2)  # z-scores need no sign
    with pytest.raises(ValueError, match="same genes"):
        cell_vectors(X[:, :2], V)
    with pytest.raises(ValueError, match="remove_pcs"):
        cell_vectors(X, V, remove_pcs=-1)
    with pytest.raises(ValueError, match="center=False keeps the mean gene vector.*pass remove_pcs=0"):
        cell_vectors(X, V, center=False, remove_pcs=2)  # removing directions centres: not what center=False asks
    x = X.copy()
    x[2, 1] = np.inf
    with pytest.raises(ValueError, match="the expression holds 1 NaN or infinite values"):
        cell_vectors(x, V)
    assert set(DEFAULT_RECIPE) == {"weights", "center", "remove_pcs"}


def test_cell_sentences_order_genes_by_expression_and_leave_zeros_out():
    from bftbio.embed import cell_sentences

    x = np.array([[0.0, 2.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.5, 0.0]])
    genes = ["A", "B", "C", "D"]
    assert cell_sentences(x, genes) == ["B D C", "", "A C"]  # ties keep the genes' order
    assert cell_sentences(sparse.csr_matrix(x), genes) == ["B D C", "", "A C"]
    assert cell_sentences(x, genes, n_genes=1) == ["B", "", "A"]
    with pytest.raises(ValueError, match="negative values"):
        cell_sentences(x - 1, genes)
    with pytest.raises(ValueError, match="NaN"):
        cell_sentences(np.where(x == 3.0, np.nan, x), genes)
    with pytest.raises(ValueError, match="one name per gene"):
        cell_sentences(x, genes[:3])
    with pytest.raises(ValueError, match="n_genes"):
        cell_sentences(x, genes, n_genes=0)


def test_cell_sentence_vectors_are_the_encoded_sentences_and_cached(tiny_encoder, tmp_path, monkeypatch):
    from bftbio.embed import cell_sentence_vectors, cell_sentences
    from bftbio.store import Store

    x = np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [3.0, 0.0, 0.5], [0.0, 2.0, 1.0]])
    genes = ["TP53", "MDM2", "EGFR"]
    with Store(tmp_path / "s.sqlite") as store:
        out, info = cell_sentence_vectors(x, genes, encoder=tiny_encoder, store=store, progress=False)
        expected = tiny_encoder.encode(cell_sentences(x, genes)[:1] + cell_sentences(x, genes)[2:3], progress=False)
        np.testing.assert_allclose(out[[0, 2]], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(out[0], out[3])  # the same sentence, the same vector
        assert out[1].tolist() == [0.0] * out.shape[1] and info["n_empty_cells"] == 1 and info["n_truncated"] == 0
        def refuse(*args, **kwargs):
            raise AssertionError("the store held these sentences; nothing should be encoded")

        monkeypatch.setattr(tiny_encoder, "encode", refuse)
        again, _ = cell_sentence_vectors(x, genes, encoder=tiny_encoder, store=store, progress=False)
        np.testing.assert_array_equal(out, again)


def test_cells_expressing_nothing_get_zero_vectors_without_an_encoder_call(tiny_encoder):
    from bftbio.embed import cell_sentence_vectors

    out, info = cell_sentence_vectors(np.zeros((3, 2)), ["TP53", "MDM2"], encoder=tiny_encoder, cache=False)
    assert not out.any() and info["n_empty_cells"] == 3 and info["n_truncated"] == 0


def test_docstring_examples():
    result = doctest.testmod(_cells, verbose=False)
    assert result.attempted > 0 and result.failed == 0
