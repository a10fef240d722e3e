"""The model's answers and candidate scores, each cached in the store, and the answer parser.

Answers are kept under a namespace of the model, adapter content, prompt version and
generation settings (:func:`bftbio.store.cached_texts`), keyed by the prompt, so a
second call does no model work and a killed run resumes.
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np

from ..._settings import logger
from ...datasets import split_answer
from ...models import candidate_logprobs, generate_texts, session_llm
from ...prompts import ANSWER_PREFIX, PROMPT_VERSION, SYSTEM_PROMPT, TEMPLATES
from ...store import Store, cached_texts

#: What the ``confidence`` column holds, by how the name was chosen.
CONFIDENCE = {
    "generate": "mean natural-log probability of the name's tokens as the model generated them (greedy)",
    "rank": "mean natural-log probability of the chosen candidate's tokens (and the line end after it)",
}


def parse_answer(text: str | None) -> tuple[str | None, str, bool]:
    """The process name, the analysis, and whether the answer ignored the format.

    The answer's first header gives the name: ``Process:``, ``Revised
    Process:``, ``Updated Process:``, ``Function:``, typos such as
    ``PProcess:``, with markdown emphasis (``**Process:** ...``) or a list
    marker (``1.``) allowed; the rules are those of
    :func:`bftbio.datasets.parse_process_name` (one parser serves both). An
    answer with no header is named by its first non-empty line and flagged.

    Parameters
    ----------
    text
        One answer.

    Returns
    -------
    ``(name, analysis, flagged)``: the name (None for an empty answer), the rest
    of the answer, and True when no header was found.

    Examples
    --------
    >>> parse_answer("**Process:** Apoptosis.\\nThese genes ...")
    ('Apoptosis', 'These genes ...', False)
    >>> parse_answer("The genes act in apoptosis.\\nMore text")
    ('The genes act in apoptosis.', 'More text', True)
    """
    parts = split_answer(text)
    return parts.name, parts.analysis, not parts.formatted


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(s):
        return re.sub(r"[^a-z0-9]+", " ", (s or "").lower()).strip()

    return norm(a) == norm(b)


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join([SYSTEM_PROMPT, *parts]).encode()).hexdigest()[:24]


def _answers(prompts: list[str], *, kind: str, template, model, adapter, llm_params: dict,
             max_new_tokens: int, batch_size, store: Store | None, progress) -> list[tuple[str, float]]:
    """``(answer, confidence)`` per prompt, from the store or the generator (saved batch by batch)."""
    keys = [_key(p) for p in prompts]
    asked = dict(zip(keys, prompts))
    params = {**llm_params, "prompt_version": PROMPT_VERSION, "system": SYSTEM_PROMPT, "prompt": template,
              "max_new_tokens": max_new_tokens, "decoding": "greedy", "confidence": CONFIDENCE["generate"]}

    def generate(missing: list[str], save) -> None:
        logger.info("%s: generating %d answers (%d cached)", kind, len(missing), len(asked) - len(missing))

        def keep(indices: list[int], generated: list) -> None:
            batch = {}
            for i, g in zip(indices, generated):
                parts = split_answer(g.text)
                conf = g.span_logprob(parts.start, parts.start + len(parts.name)) if parts.name else float("nan")
                batch[missing[i]] = json.dumps({"answer": g.text, "confidence": None if np.isnan(conf) else conf})
            save(batch)

        generate_texts(session_llm(model, adapter, record=llm_params), [asked[k] for k in missing],
                       system=SYSTEM_PROMPT, max_new_tokens=max_new_tokens, logprobs=True, batch_size=batch_size,
                       progress=progress, on_batch=keep)

    texts = cached_texts(store, kind, params, keys, generate)
    records = [json.loads(texts[k]) for k in keys]
    return [(r["answer"], float("nan") if r["confidence"] is None else r["confidence"]) for r in records]


def _ranks(prompts: list[str], candidates: list[list[str]], *, model, adapter, llm_params: dict,
           store: Store | None, progress) -> list[np.ndarray]:
    """The model's score of each candidate name per prompt, from the store or the model (saved prompt by prompt)."""
    keys = [_key(p, *c) for p, c in zip(prompts, candidates)]
    asked = {k: (p, list(c)) for k, p, c in zip(keys, prompts, candidates) if c}
    params = {**llm_params, "prompt_version": PROMPT_VERSION, "system": SYSTEM_PROMPT, "prompt": TEMPLATES,
              "prefix": ANSWER_PREFIX, "suffix": "\n", "score": CONFIDENCE["rank"]}

    def score(missing: list[str], save) -> None:
        logger.info("geneset_rank: scoring candidates of %d sets (%d cached)", len(missing), len(asked) - len(missing))
        candidate_logprobs(session_llm(model, adapter, record=llm_params), [asked[k][0] for k in missing],
                           [asked[k][1] for k in missing], prefix=ANSWER_PREFIX, suffix="\n", system=SYSTEM_PROMPT,
                           progress=progress,
                           on_prompt=lambda j, scores: save({missing[j]: json.dumps(np.asarray(scores).tolist())}))

    texts = cached_texts(store, "geneset_rank", params, list(asked), score)
    return [np.asarray(json.loads(texts[k]), dtype=float) if k in asked else np.zeros(0) for k in keys]
