"""A factual gene profile written from the knowledge base (the GenePT-style text)."""

from __future__ import annotations

import pandas as pd

from . import _snapshot
from ._annotations import annotation_frame
from ._genes import _alias_lists, genes
from ._ontology import go_terms

# Evidence codes from experiments come first when a gene has more terms than fit.
_EXPERIMENTAL = {"EXP", "IDA", "IPI", "IMP", "IGI", "IEP", "HTP", "HDA", "HMP", "HGI", "HEP", "TAS", "IC"}
_HEADINGS = {"BP": "Biological processes", "MF": "Molecular functions", "CC": "Cellular components"}


def _terms_by_gene(snapshot) -> dict[tuple[str, str], list[str]]:
    """(symbol, ontology) -> term names, experimental evidence first, then by name."""
    frame = annotation_frame()
    names = go_terms()["name"]
    table = pd.DataFrame(
        {
            "symbol": frame["symbol"].astype(str),
            "ontology": frame["ontology"].astype(str),
            "name": frame["go_id"].astype(str).map(names),
            "rank": (~frame["evidence"].astype(str).isin(_EXPERIMENTAL)).astype(int),
        }
    ).dropna(subset=["name"])
    table = table[table["name"] != table["ontology"].map({"BP": "biological_process",
                                                           "MF": "molecular_function",
                                                           "CC": "cellular_component"})]
    table = table.sort_values(["symbol", "ontology", "rank", "name"]).drop_duplicates(["symbol", "ontology", "name"])
    return {key: group.tolist() for key, group in table.groupby(["symbol", "ontology"], sort=False)["name"]}


def knowledge_profile(symbol: str, *, max_terms: int = 12, max_chars: int = 2000, location: bool = True) -> str:
    """Describe a gene in plain sentences from NCBI Gene and GO.

    The text names the gene, its type and location, its aliases, and its GO
    processes, functions and components (direct annotations; experimentally
    supported terms first). It is the factual answer used for training data
    and, without the location, the text of the ``source="knowledge"`` embeddings
    (the GenePT recipe, with GO in place of NCBI's free-text summary, which the
    Debian packages lack).

    Parameters
    ----------
    symbol
        An official symbol (use :func:`resolve_symbols` first for aliases).
    max_terms
        At most this many GO terms per ontology.
    max_chars
        The text is cut at a sentence boundary below this length.
    location
        Name the chromosome and cytoband. ``False`` leaves them out, as the knowledge
        embeddings do (:data:`bftbio.embed.KNOWLEDGE_OPTIONS`): where a gene lies says little
        about what it does, and the interaction benchmark scores higher without it
        (``benchmarks/knowledge_location.py``), though genes of one chromosome arm share
        copy-number changes in tumours (``benchmarks/cells_tried.py``).

    Examples
    --------
    >>> from bftbio.knowledge import knowledge_profile
    >>> print(knowledge_profile("TP53")[:60])
    TP53 (tumor protein p53) is a protein-coding gene on human c
    """
    table = genes()
    if symbol not in table.index:
        raise KeyError(f"{symbol!r} is not an official gene symbol; resolve it with bftbio.knowledge.resolve_symbols")
    row = table.loc[symbol]
    snapshot = _snapshot.current()
    terms = snapshot.derived("profile_terms", lambda: _terms_by_gene(snapshot))
    kind = str(row["type"]) if pd.notna(row["type"]) else "gene"
    kind = kind + " gene" if kind not in ("gene", "pseudo") else ("pseudogene" if kind == "pseudo" else "gene")
    where = ""
    if location and pd.notna(row["chromosome"]):
        where = f" on human chromosome {row['chromosome']}"
        if pd.notna(row["cytoband"]):
            where += f" ({row['cytoband']})"
    sentences = [f"{symbol} ({row['name']}) is a {kind}{where}."]
    other = [a for a in snapshot.derived("alias_lists", lambda: _alias_lists(snapshot)).get(symbol, []) if a != symbol]
    if other:
        sentences.append(f"It is also known as {', '.join(other[:8])}.")
    for ontology, heading in _HEADINGS.items():
        names = terms.get((symbol, ontology), [])
        if names:
            sentences.append(f"{heading}: {'; '.join(names[:max_terms])}.")
    text = ""
    for sentence in sentences:
        if len(text) + len(sentence) + 1 > max_chars:
            break
        text = f"{text} {sentence}".strip()
    return text
