"""Exact, sparse negative-binomial counts for the Perturb-seq simulator.

Drawing ``cells x genes`` NB variables one by one costs time in proportion to the
matrix; this sampler costs time in proportion to its non-zero entries, which is what
makes simulating 100,000 cells cheap. The decomposition (a compound Poisson of
logarithmic terms, placed by Bernoulli trials) is exact, not an approximation.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

def _bernoulli_positions(rng, n: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the successes of independent Bernoulli(p[g]) trials, n rows per column.

    Gaps between successes in a column are geometric (``floor(E / -log(1 - p)) + 1``
    with E exponential), so the cost grows with the number of successes, not with
    n x len(p). Output is column-major: columns ascending, rows ascending within one.
    """
    rows, cols = [], []
    active = np.flatnonzero(p > 0)
    pa = p[active]
    scale = np.where(pa < 1, -1.0 / np.log1p(-np.minimum(pa, 1 - 1e-16)), 0.0)
    last = np.full(len(active), -1, dtype=np.int64)  # last success so far in each column
    while len(active):
        left = n - 1 - last
        # Enough draws for most columns; the few that fall short go round again.
        budget = np.ceil(left * pa + 1.5 * np.sqrt(left * pa * (1 - pa)) + 2).astype(np.int64)
        seg = np.repeat(np.arange(len(active)), budget)
        gaps = np.floor(rng.standard_exponential(len(seg)) * scale[seg]).astype(np.int64) + 1
        steps = np.cumsum(gaps)
        ends = np.cumsum(budget)
        before = np.r_[0, steps[ends[:-1] - 1]]
        pos = last[seg] + steps - before[seg]
        hit = pos < n
        rows.append(pos[hit])
        cols.append(active[seg[hit]])
        unfinished = pos[ends - 1] < n  # the budget ran out before the column's end
        active, pa, scale, last = active[unfinished], pa[unfinished], scale[unfinished], pos[ends - 1][unfinished]
    if len(rows) == 1:
        return rows[0], cols[0]
    empty = [np.zeros(0, np.int64)]
    rows, cols = np.concatenate(rows or empty), np.concatenate(cols or empty)
    order = np.argsort(cols, kind="stable")  # columns that went round again come last
    return rows[order], cols[order]


def _zero_truncated_poisson(rng, lam: np.ndarray, col: np.ndarray) -> np.ndarray:
    """K ~ Poisson(lam[col]) given K >= 1, by inversion of the upper tail (exact for small lam)."""
    tail = -np.expm1(-lam)  # P(K >= 1), per column
    more = 1.0 - lam * np.exp(-lam) / np.where(tail > 0, tail, 1.0)  # P(K > 1 | K >= 1)
    k = np.ones(len(col), dtype=np.int64)
    idx = np.flatnonzero(rng.random(len(col)) < more[col])
    # Given K > 1: K = smallest k >= 2 with P(K > k) <= v, v ~ U(0, P(K > 1)).
    lam_t = lam[col[idx]]
    pk_t = lam_t * np.exp(-lam_t)
    tail_t = tail[col[idx]] - pk_t
    v_t = rng.random(len(idx)) * tail_t
    j = 1
    while len(idx) and j < 1000:
        j += 1
        pk_t = pk_t * lam_t / j
        tail_t = tail_t - pk_t
        k[idx] = j
        go_on = tail_t > v_t
        idx, lam_t, v_t, pk_t, tail_t = idx[go_on], lam_t[go_on], v_t[go_on], pk_t[go_on], tail_t[go_on]
    return k


def negative_binomial_block(rng, mean: np.ndarray, size: np.ndarray, thinning: np.ndarray) -> sparse.csr_matrix:
    """Counts of len(thinning) cells: NB(size[g], mean thinning[c] * mean[g]) each, as CSR float32.

    NB(r, mu) is a compound Poisson: K ~ Poisson(r log(1 + mu/r)) terms, each
    Logarithmic(mu / (r + mu)), and zero exactly when K = 0. So the non-zero
    entries are placed first (Bernoulli with P(K >= 1)), then filled with a
    zero-truncated K and K logarithmic draws. Binomial thinning with probability
    q of NB(r, mu) is NB(r, q mu), which puts the cell's size factor in.
    """
    n, n_genes = len(thinning), len(mean)
    lam = size * np.log1p(mean / size)
    rows, cols = _bernoulli_positions(rng, n, -np.expm1(-lam))
    k = _zero_truncated_poisson(rng, lam, cols)
    q_gene = mean / (size + mean)
    values = rng.logseries(q_gene[cols])
    extra = np.repeat(np.arange(len(k)), k - 1)
    if len(extra):
        values += np.bincount(extra, weights=rng.logseries(q_gene[cols[extra]]), minlength=len(k)).astype(np.int64)
    keep_prob = thinning[rows]
    # Most counts are 1, and thinning a 1 is a Bernoulli draw: far cheaper than a binomial one.
    several = np.flatnonzero(values > 1)
    thinned_several = rng.binomial(values[several], keep_prob[several])
    values = (rng.random(len(values)) < keep_prob).astype(np.int64)
    values[several] = thinned_several
    keep = values > 0
    rows, cols = rows[keep], cols[keep]
    # Column-major with sorted rows is CSC; scipy turns CSC into CSR in one pass.
    indptr = np.r_[0, np.cumsum(np.bincount(cols, minlength=n_genes))]
    csc = sparse.csc_matrix((values[keep].astype(np.float32), rows.astype(np.int32), indptr), shape=(n, n_genes))
    return csc.tocsr()


def stack_rows(blocks: list[sparse.csr_matrix], n_genes: int) -> sparse.csr_matrix:
    """CSR blocks of cells, one under the other, with 64-bit indices only when needed."""
    nnz = np.cumsum([0] + [b.nnz for b in blocks])
    indptr = np.concatenate([[0]] + [b.indptr[1:] + start for b, start in zip(blocks, nnz[:-1])])
    index_dtype = np.int32 if nnz[-1] < 2**31 else np.int64
    indices = np.concatenate([b.indices.astype(index_dtype, copy=False) for b in blocks])
    data = np.concatenate([b.data for b in blocks])
    return sparse.csr_matrix((data, indices, indptr.astype(index_dtype)), shape=(len(indptr) - 1, n_genes))

