"""Gene pairs in one shape: the parser the Perturb-seq simulator (its network) and the
interaction task (pairs to classify) share."""

from __future__ import annotations

import numpy as np
import pandas as pd


def gene_pairs(pairs, *, positives_only: bool = False, what: str = "pairs") -> pd.DataFrame:
    """Gene pairs as a DataFrame with two string columns, ``gene_a`` and ``gene_b``.

    Parameters
    ----------
    pairs
        A DataFrame (columns ``gene_a``/``gene_b``, else its first two columns), a
        list of 2-tuples, or an ``(n, 2)`` array.
    positives_only
        With a DataFrame that has a ``label`` column, keep only the rows labelled 1
        (the interacting pairs of :func:`gene2vec_interactions`).
    what
        The argument's name in error messages (``"pairs"``, ``"network"``).

    Returns
    -------
    DataFrame ``gene_a, gene_b`` (strings, a fresh 0..n-1 index; names are not
    resolved here).

    Raises
    ------
    TypeError
        A string instead of pairs.
    ValueError
        Fewer than two columns, or items that are not pairs.

    Examples
    --------
    >>> gene_pairs([("TP53", "MDM2"), ("CBL", "CNN1")]).to_dict("list")
    {'gene_a': ['TP53', 'CBL'], 'gene_b': ['MDM2', 'CNN1']}
    """
    if isinstance(pairs, pd.DataFrame):
        frame = pairs
        if positives_only and "label" in frame.columns:
            frame = frame[frame["label"] == 1]
        cols = ["gene_a", "gene_b"] if {"gene_a", "gene_b"} <= set(frame.columns) else list(frame.columns[:2])
        if len(cols) < 2:
            raise ValueError(f"{what} needs two gene columns (gene_a, gene_b), got columns {list(frame.columns)}")
        return pd.DataFrame({"gene_a": frame[cols[0]].astype(str).to_numpy(),
                             "gene_b": frame[cols[1]].astype(str).to_numpy()})
    if isinstance(pairs, str):
        raise TypeError(f"{what} must be a DataFrame of gene pairs or a list of (gene, gene) tuples, not a string")
    array = np.asarray(list(pairs), dtype=object)
    if array.size == 0:
        return pd.DataFrame({"gene_a": pd.Series(dtype=str), "gene_b": pd.Series(dtype=str)})
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{what} must hold two genes each; got an array of shape {array.shape}")
    return pd.DataFrame({"gene_a": array[:, 0].astype(str), "gene_b": array[:, 1].astype(str)})
