import numpy as np

from bftbio.datasets._sampler import negative_binomial_block, stack_rows


def test_negative_binomial_moments():
    rng = np.random.default_rng(0)
    size = np.array([0.5, 2.0, 10.0])
    block = negative_binomial_block(rng, np.full(3, 2.0), size, np.ones(100_000)).toarray()
    np.testing.assert_allclose(block.mean(0), 2.0, rtol=0.03)
    np.testing.assert_allclose(block.var(0), 2.0 + 4.0 / size, rtol=0.06)
    np.testing.assert_allclose((block == 0).mean(0), (size / (size + 2.0)) ** size, atol=0.01)
    # binomial thinning by q gives the mean q * mu
    thinned = negative_binomial_block(rng, np.full(3, 2.0), size, np.full(100_000, 0.25))
    np.testing.assert_allclose(np.asarray(thinned.mean(0)).ravel(), 0.5, rtol=0.05)


def test_stack_rows_puts_blocks_one_under_the_other():
    rng = np.random.default_rng(1)
    blocks = [negative_binomial_block(rng, np.full(4, 3.0), np.full(4, 2.0), np.ones(n)) for n in (5, 0, 7)]
    stacked = stack_rows(blocks, 4)
    assert stacked.shape == (12, 4)
    np.testing.assert_array_equal(stacked.toarray(), np.vstack([b.toarray() for b in blocks]))
