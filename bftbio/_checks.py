"""Input checks every room shares: numbers that are not numbers are named, never passed on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

_BLOCK = 8192  # rows checked at a time, so a large dense matrix needs no second full-size mask


def check_finite(values, what: str, *, rows: Sequence | None = None, columns: Sequence | None = None,
                 nan_rows_ok: bool = False, fix: str = "") -> np.ndarray:
    """Raise a ValueError naming how many NaN or infinite values ``values`` holds, and where.

    Parameters
    ----------
    values
        A 2-d array, dense or scipy sparse (only its stored values can be NaN).
    what
        How the message names the matrix (``"adata.X"``).
    rows, columns
        Labels for the message (default: positions).
    nan_rows_ok
        A row that is entirely NaN is allowed (the convention for a gene without a vector).
    fix
        What the user can do, appended to the message.

    Returns
    -------
    The boolean mask of rows that are entirely NaN (all False unless ``nan_rows_ok``).
    """
    n_rows = values.shape[0]
    empty = np.zeros(n_rows, dtype=bool)
    bad_count, bad_rows, first = 0, 0, None
    if sparse.issparse(values):
        coo = sparse.coo_matrix(values)
        bad = ~np.isfinite(coo.data)
        bad_count = int(bad.sum())
        if bad_count:
            bad_rows = len(np.unique(coo.row[bad]))
            first = (int(coo.row[bad][0]), int(coo.col[bad][0]))
    else:
        for start in range(0, n_rows, _BLOCK):
            block = np.asarray(values[start : start + _BLOCK])
            if block.dtype.kind not in "fc":  # integers and booleans are always finite
                break
            bad = ~np.isfinite(block)
            if nan_rows_ok:
                whole = np.isnan(block).all(axis=1) if block.shape[1] else np.zeros(len(block), dtype=bool)
                empty[start : start + len(block)] = whole
                bad[whole] = False
            count = int(bad.sum())
            if count:
                where = np.argwhere(bad)
                if first is None:
                    first = (start + int(where[0, 0]), int(where[0, 1]))
                bad_count += count
                bad_rows += len(np.unique(where[:, 0]))
    if bad_count:
        r, c = first
        row = rows[r] if rows is not None else r
        column = columns[c] if columns is not None else c
        raise ValueError(f"{what} holds {bad_count:,} NaN or infinite values in {bad_rows:,} of its {n_rows:,} rows "
                         f"(first: row {row!r}, column {column!r})" + (f"; {fix}" if fix else ""))
    return empty
