"""The gene-set naming prompt that training and inference share, with its evidence block.

A low room (imports no other part of bftbio), so that :mod:`bftbio.train` builds its
records and :mod:`bftbio.tasks` asks its questions with the very same words: a model
tuned on these prompts meets them again at inference.

>>> from bftbio.prompts import naming_prompt
>>> print(naming_prompt(["PEX1", "PEX2"], None))  # doctest: +NORMALIZE_WHITESPACE
Name the most significant biological process performed by these genes: PEX1, PEX2.
Answer with 'Process:' followed by the name of the process, then justify it in one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Bump when a prompt below changes: cached answers are then not reused.
PROMPT_VERSION = "2"
#: The system message GeneAgent and the gene-set studies before it use.
SYSTEM_PROMPT = "You are an efficient and insightful assistant to a molecular biologist."
#: What the answer starts with; the name follows it on the same line.
ANSWER_PREFIX = "Process: "
#: Genes listed in a prompt at most; longer sets are shown ranked (see :func:`shown_genes`).
MAX_GENES_SHOWN = 20

_REQUEST = "Name the most significant biological process performed by these genes: {genes}."
_EVIDENCE_HEADER = "GO enrichment of these genes (genes shared / genes in the term, Benjamini-Hochberg q):"
_INSTRUCTION = "Answer with 'Process:' followed by the name of the process, then justify it in one sentence."


def shown_genes(genes: Sequence[str], evidence: Mapping | None = None, max_genes: int = MAX_GENES_SHOWN) -> list[str]:
    """The genes a prompt lists: all of them, or the ``max_genes`` most supported.

    A longer set is ranked by how many evidence terms each gene belongs to (ties
    keep the input order), and the chosen genes are listed in input order. The
    enrichment behind the evidence always uses every gene.
    """
    genes = list(genes)
    if len(genes) <= max_genes:
        return genes
    support: dict[str, int] = {}
    for term in (evidence or {}).get("terms", ()):
        for g in term["genes"]:
            support[g] = support.get(g, 0) + 1
    ranked = sorted(range(len(genes)), key=lambda i: (-support.get(genes[i], 0), i))
    return [genes[i] for i in sorted(ranked[:max_genes])]


def evidence_block(evidence: Mapping) -> str:
    """The evidence as prompt lines: one enriched term a line, with overlap, term size and q."""
    terms = evidence.get("terms", ())
    if not terms:
        what = "biological process" if evidence.get("ontology", "BP") == "BP" else "term"
        return f"{_EVIDENCE_HEADER}\n- no GO {what} is enriched at q <= {evidence.get('max_q', 0.05):g}"
    lines = [_EVIDENCE_HEADER]
    for t in terms:
        lines.append(f"- {t['name']} ({t['overlap']}/{t['term_size']}, q={t['q_value']:.0e})")
    return "\n".join(lines)


def naming_prompt(genes: Sequence[str], evidence: Mapping | None = None, *, max_genes: int = MAX_GENES_SHOWN) -> str:
    """The request to name a gene set's process, with its evidence block when given.

    Parameters
    ----------
    genes
        The set's gene names, in the order to show them.
    evidence
        From :func:`bftbio.knowledge.gene_set_evidence`, or None for the bare request.
    max_genes
        Genes listed at most (see :func:`shown_genes`); a longer set says how many it has.
    """
    listed = shown_genes(genes, evidence, max_genes)
    text = ", ".join(listed)
    if len(listed) < len(genes):
        text += f" ({len(listed)} of {len(genes)} genes shown)"
    parts = [_REQUEST.format(genes=text)]
    if evidence is not None:
        parts.append(evidence_block(evidence))
    parts.append(_INSTRUCTION)
    return "\n".join(parts)


#: The templates as text, for the store's namespaces and the provenance of runs.
TEMPLATES = {"version": PROMPT_VERSION, "system": SYSTEM_PROMPT, "request": _REQUEST,
             "evidence": _EVIDENCE_HEADER, "instruction": _INSTRUCTION, "max_genes": MAX_GENES_SHOWN}
