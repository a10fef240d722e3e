"""check_finite: the one check every room uses before numbers go into a result."""

import numpy as np
import pytest
from scipy import sparse

from bftbio._checks import check_finite

pytestmark = pytest.mark.fault  # the fault suite (docs/promises.md)


def test_finite_input_passes_and_nan_rows_can_mean_missing():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    assert not check_finite(x, "x").any()
    assert not check_finite(np.arange(6).reshape(2, 3), "integers").any()
    x[1] = np.nan
    assert check_finite(x, "x", nan_rows_ok=True).tolist() == [False, True, False, False]
    with pytest.raises(ValueError, match="x holds 3 NaN or infinite values in 1 of its 4 rows"):
        check_finite(x, "x")


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_the_message_counts_and_names_the_first_place(kind, monkeypatch):
    import bftbio._checks as checks

    monkeypatch.setattr(checks, "_BLOCK", 2)  # several blocks: counts add up across them
    x = np.ones((5, 3))
    x[3, 2] = -np.inf
    x[4, 0] = np.nan
    x[4, 1] = np.nan
    values = sparse.csr_matrix(x) if kind == "sparse" else x
    with pytest.raises(ValueError, match=r"m holds 3 NaN or infinite values in 2 of its 5 rows "
                                         r"\(first: row 'c3', column 'g2'\); fill them"):
        check_finite(values, "m", rows=[f"c{i}" for i in range(5)], columns=["g0", "g1", "g2"], fix="fill them")
