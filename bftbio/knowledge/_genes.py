"""Human genes by official symbol, and their aliases."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _snapshot

__all__ = ["genes", "aliases"]


def _records(snapshot) -> pd.DataFrame:
    """Every NCBI gene record, with ``primary`` marking the one :func:`genes` shows.

    NCBI gives a few symbols to several records (copies of tRNA genes such as
    TRNAD-GUC, and disease loci like HBD "hypophosphatemic bone disease" beside
    the hemoglobin gene HBD). The record shown for the symbol is the
    protein-coding one if any, then the one with the lowest NCBI Gene ID.
    """
    table = snapshot.table("genes")
    secondary = (table["type"] != "protein-coding").to_numpy()
    # np.lexsort sorts by the last key first: protein-coding first, then NCBI ID.
    ranked = table["symbol"].iloc[np.lexsort((table["ncbi_id"].to_numpy(), secondary))]
    primary = pd.Series(~ranked.duplicated().to_numpy(), index=ranked.index).sort_index()
    return table.assign(primary=primary.to_numpy())


def _gene_frame(snapshot) -> pd.DataFrame:
    records = snapshot.derived("records", lambda: _records(snapshot))
    frame = records[records["primary"]].drop(columns="primary").set_index("symbol")
    shared = records[records["symbol"].duplicated(keep=False)]
    shared = shared.sort_values(["symbol", "primary", "ncbi_id"], ascending=[True, False, True])
    frame.attrs["shared_symbols"] = {
        symbol: group.tolist() for symbol, group in shared.groupby("symbol", sort=True)["ncbi_id"]
    }
    return frame


def genes() -> pd.DataFrame:
    """Human genes of NCBI Gene, one row per official symbol.

    Returns
    -------
    DataFrame indexed by official symbol (unique) with columns ``ncbi_id``,
    ``name``, ``type`` (NCBI gene type: ``protein-coding``, ``ncRNA``,
    ``pseudo``, ...), ``chromosome`` and ``cytoband`` (``;``-joined when NCBI
    gives several, e.g. ``X;Y``), ``ensembl`` (``;``-joined Ensembl gene IDs).
    Missing values are NaN.

    NCBI gives 18 symbols to more than one record (mostly tRNA gene copies,
    e.g. 17 records named TRNAD-GUC, and a few disease loci such as HBD
    "hypophosphatemic bone disease" beside the hemoglobin gene HBD). The row
    shown is the protein-coding record if any, else the lowest NCBI Gene ID;
    ``frame.attrs["shared_symbols"]`` maps each such symbol to all its NCBI
    Gene IDs, the shown one first.

    Examples
    --------
    >>> from bftbio.knowledge import genes
    >>> table = genes()
    >>> table.loc["TP53", ["ncbi_id", "chromosome", "ensembl"]].tolist()
    [7157, '17', 'ENSG00000141510']
    """
    snapshot = _snapshot.current()
    return snapshot.derived("gene_frame", lambda: _gene_frame(snapshot)).copy(deep=True)


def _alias_lists(snapshot) -> dict[str, list[str]]:
    records = snapshot.derived("records", lambda: _records(snapshot))
    table = snapshot.table("aliases").merge(records[["ncbi_id", "symbol"]], on="ncbi_id")
    table = table.drop_duplicates(["symbol", "alias"]).sort_values(["symbol", "alias"])
    return {symbol: group.tolist() for symbol, group in table.groupby("symbol", sort=False)["alias"]}


def aliases(symbol: str) -> list[str]:
    """Aliases and previous symbols NCBI lists for a gene.

    Parameters
    ----------
    symbol
        Official symbol (exact case). Use :func:`resolve_symbols` first for
        anything else.

    Returns
    -------
    Sorted list of aliases (excluding the official symbol itself); empty when
    NCBI lists none. For a symbol shared by several NCBI records (see
    :func:`genes`), the aliases of all of them.

    Raises
    ------
    KeyError
        ``symbol`` is not an official symbol; the message suggests the official
        symbol when it can be resolved.

    Examples
    --------
    >>> from bftbio.knowledge import aliases
    >>> "P53" in aliases("TP53")
    True
    """
    snapshot = _snapshot.current()
    known = snapshot.derived("gene_frame", lambda: _gene_frame(snapshot)).index
    if not isinstance(symbol, str) or symbol not in known:
        from ._resolve import resolve_symbols

        hint = ""
        if isinstance(symbol, (str, int)) and not isinstance(symbol, bool):
            resolved = resolve_symbols([symbol], warn=False).iloc[0]
            if not pd.isna(resolved):
                hint = f"; did you mean {resolved!r}?"
        raise KeyError(f"{symbol!r} is not an official human gene symbol{hint} "
                       "(resolve_symbols() maps aliases and IDs to official symbols).")
    return list(snapshot.derived("alias_lists", lambda: _alias_lists(snapshot)).get(symbol, []))
