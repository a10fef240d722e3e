"""The second round: the model checks its name against the evidence, and keeps or revises it.

The offline counterpart of GeneAgent's self-verification (Wang et al., Nature Methods
2025), which queries 18 live databases instead.
"""

from __future__ import annotations

import pandas as pd

from ...models import llm_record
from ...prompts import evidence_block, shown_genes
from ...store import Store
from ._model_calls import _answers, _same_name, parse_answer

#: The verification request: the proposal, and the enrichment evidence.
VERIFY_PROMPT = (
    "Genes: {genes}.\n"
    "You named their biological process: {name}.\n"
    "{evidence}\n"
    "Check your name against this evidence: keep it if it is supported, otherwise revise it. "
    "Answer with 'Process:' followed by the name, then give one sentence of reasoning."
)


def _verify(named: pd.DataFrame, *, model, adapter, max_new_tokens: int, batch_size, store: Store | None,
            progress) -> pd.DataFrame:
    """Add the verification round to a frame of :func:`name_gene_sets` (generation batched)."""
    ok = (named["status"] == "named").to_numpy()
    prompts = [VERIFY_PROMPT.format(genes=", ".join(shown_genes(g, e)), name=p or "(none)", evidence=evidence_block(e))
               for g, p, e in zip(named["genes"][ok], named["process"][ok], named["evidence"][ok])]
    answers = iter(_answers(prompts, kind="geneset_verification", template=VERIFY_PROMPT, model=model,
                            adapter=adapter, llm_params=llm_record(model, adapter), max_new_tokens=max_new_tokens,
                            batch_size=batch_size, store=store, progress=progress))
    out = named.copy()
    verified, confidence, revised, texts = [], [], [], []
    for use, first, first_conf in zip(ok, named["process"], named["confidence"]):
        name, conf, text = None, float("nan"), None
        if use:
            text, conf = next(answers)
            name, _, flagged = parse_answer(text)
            if flagged or name is None:  # an answer outside the format keeps the proposal
                name, conf = first, first_conf
        verified.append(name)
        confidence.append(conf)
        revised.append(use and not _same_name(first, name))
        texts.append(text)
    out["verified_process"] = verified
    out["verified_confidence"] = confidence
    out["revised"] = revised
    out["verification"] = texts
    out.attrs["params"] = {**named.attrs.get("params", {}), "verify": True, "verify_prompt": VERIFY_PROMPT}
    return out
