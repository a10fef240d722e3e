"""Gene-set naming with a language model that works from evidence.

A biologist hands over a gene set and asks which biological process it represents.
The model gets GeneAgent's system message and request (Wang et al., Nature Methods
2025) together with the set's evidence: its top enriched GO terms in the knowledge
base (:func:`bftbio.knowledge.gene_set_evidence`), the very prompt
:func:`bftbio.train.build_naming_data` trains on (:mod:`bftbio.prompts`). The model
then writes a name (``choose="generate"``), scores the evidence's terms as answers
and takes the likeliest (``"rank"``), or both. An optional second round, the offline
counterpart of GeneAgent's self-verification, shows the model its proposal beside
the evidence and lets it keep or revise it.

Answers are cached in the store (:mod:`bftbio.store`) under a namespace of the
model, adapter content, prompt version and generation settings, keyed by the prompt,
so a second call does no generation and a killed run resumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..._settings import logger
from ...models import LanguageModel, llm_record, resolve_adapter
from ...prompts import MAX_GENES_SHOWN, TEMPLATES, naming_prompt
from ...store import Store, open_store
from ._evidence import ENRICHMENT_OPTIONS, MIN_KNOWN_GENES, _gene_set_frame, set_evidence
from ._model_calls import CONFIDENCE, _answers, _ranks, _same_name, parse_answer
from ._verify import _verify

#: How a name is reached: the model writes it, scores the evidence's terms, or both.
CHOICES = ("generate", "rank", "both")


def name_gene_sets(
    gene_sets,
    *,
    model: str | LanguageModel = "default",
    adapter="default",
    evidence: bool = True,
    choose: str = "generate",
    exclude: str = "none",
    exclude_terms: Iterable[str] = (),
    n_terms: int = 8,
    max_q: float = 0.05,
    enrichment_options: Mapping | None = None,
    verify: bool = False,
    max_new_tokens: int = 96,
    batch_size: int | str = "auto",
    cache: bool = True,
    store: Store | str | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Name the biological process of each gene set with a language model and its evidence.

    Each set's evidence is its top ``n_terms`` enriched GO terms at ``q <= max_q``
    (:func:`bftbio.knowledge.gene_set_evidence`: one-sided hypergeometric test against
    every gene annotated in the ontology, Benjamini–Hochberg corrected; processes,
    functions and components ranked together by p-value, or one ontology with
    ``enrichment_options={"ontology": "BP"}``). The model gets GeneAgent's system message and
    the request of :func:`bftbio.prompts.naming_prompt` with that evidence block:
    the prompt :func:`bftbio.train.build_naming_data` trains on. Then:

    * ``choose="generate"``: the model answers greedily; :func:`parse_answer`
      reads the name;
    * ``choose="rank"``: the model scores each evidence term as the answer
      ``Process: <term>`` (:func:`bftbio.models.candidate_logprobs`) and the
      likeliest is the name;
    * ``choose="both"``: the generated name joins the candidates, then ranking.

    A set with fewer than three known genes gets no name (``status`` says
    ``"insufficient evidence"``); with ranking, neither does a set without an
    enriched term (``"no enriched term"``). A set of more than
    :data:`bftbio.prompts.MAX_GENES_SHOWN` genes is listed by its genes most
    supported by the evidence (a warning says how many sets); its enrichment uses
    every gene.

    With ``verify=True`` a second round, the offline counterpart of GeneAgent's
    self-verification, shows the model its proposal beside the evidence and lets
    it keep or revise the name.

    Parameters
    ----------
    gene_sets
        DataFrame with ``set_id`` and ``genes`` (list-likes of gene names), e.g.
        :func:`bftbio.datasets.geneagent_gene_sets`, or a dict of set id -> genes.
        Members must be strings.
    model
        ``"default"`` (SmolLM2-135M-Instruct), a Hugging Face id, a local folder,
        or a loaded :class:`bftbio.models.LanguageModel`.
    adapter
        ``"default"``: the naming adapter bftbio ships for the default model
        (:func:`bftbio.models.packaged_adapter`; with any other model, none); a
        LoRA adapter folder (e.g. from :func:`bftbio.train.finetune`); None: the
        base model alone.
    evidence
        Show the evidence block in the prompt (``False``: the genes alone; ranking
        still scores the evidence's terms).
    choose
        ``"generate"``, ``"rank"`` or ``"both"`` (see above).
    exclude
        Per-set exclusion rule of :data:`bftbio.knowledge.EXCLUSION_SETTINGS` for the
        evidence (a ``set_id`` that is a GO ID is the set's own term): ``"none"``
        (default: a user's own sets), ``"term"`` (leaky on GO-derived sets),
        ``"lineage"`` or ``"related"`` (lineage and near-duplicates: the rule for
        sets taken from GO, as in training).
    exclude_terms
        GO IDs the evidence may never show, with every term whose gene set is
        identical to one of theirs.
    n_terms, max_q
        The evidence holds at most ``n_terms`` terms, each with ``q <= max_q``.
    enrichment_options
        Overrides of :data:`bftbio.knowledge.ENRICHMENT_OPTIONS`.
    verify
        Add the verification round.
    max_new_tokens
        Length limit of each generated answer, in tokens.
    batch_size
        Prompts decoded together; ``"auto"`` sizes it to the device.
    cache
        Read and write the store; ``False`` computes everything and stores nothing.
    store
        A :class:`bftbio.store.Store` or its file; default the one in
        :attr:`bftbio.settings.cachedir`.
    progress
        Progress bars; default :attr:`bftbio.settings.progress`.

    Returns
    -------
    DataFrame, one row per set in input order: ``set_id``, ``genes`` (tuple),
    ``process`` (the name; None without one), ``confidence`` (see
    :data:`CONFIDENCE`: 0 is certain, lower is less sure; NaN without a name),
    ``status`` (``"named"``, ``"insufficient evidence"`` or, ranking,
    ``"no enriched term"``), ``unknown`` (the
    set's names not found in the knowledge base), ``candidates`` and
    ``candidate_scores`` (ranking; empty lists otherwise), ``analysis`` and
    ``answer`` (the generated text; None when nothing was generated), ``flagged``
    (the answer had no ``Process:`` header; the name is its first line) and
    ``evidence`` (the dict of :func:`bftbio.knowledge.gene_set_evidence`). With
    ``verify``: ``verified_process``, ``verified_confidence``, ``revised`` and
    ``verification`` (the raw second answer). ``attrs["params"]`` records the
    model, adapter fingerprint, prompts and settings.

    Examples
    --------
    >>> from bftbio.tasks import name_gene_sets
    >>> sets = {"peroxins": ["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7"]}
    >>> name_gene_sets(sets, choose="rank").loc[0, "process"]  # doctest: +SKIP
    'peroxisome organization'
    """
    if choose not in CHOICES:
        raise ValueError(f"choose must be one of {CHOICES}, got {choose!r}")
    frame = _gene_set_frame(gene_sets)
    adapter = resolve_adapter(adapter, model, task="naming")
    checked = set_evidence(frame, exclude=exclude, exclude_terms=exclude_terms, n_terms=n_terms, max_q=max_q,
                           enrichment_options=enrichment_options)
    llm_params = llm_record(model, adapter)
    the_store = open_store(store, cache=cache)
    ok = np.array([e["known_genes"] >= MIN_KNOWN_GENES for e in checked], dtype=bool)
    long_sets = int(sum(len(g) > MAX_GENES_SHOWN for g in frame["genes"][ok]))
    if long_sets:
        logger.warning("%d gene set(s) have more than %d genes: each prompt lists the %d most supported by the "
                       "evidence (its enrichment uses every gene)", long_sets, MAX_GENES_SHOWN, MAX_GENES_SHOWN)
    if not ok.all():
        logger.warning("%d gene set(s) have fewer than %d known genes: no name, status 'insufficient evidence'",
                       int((~ok).sum()), MIN_KNOWN_GENES)
    prompts = [naming_prompt(g, e if evidence else None) for g, e in zip(frame["genes"], checked)]
    asked = [p for p, use in zip(prompts, ok) if use]
    n = len(frame)
    process: list = [None] * n
    confidence = [float("nan")] * n
    analysis: list = [None] * n
    answer: list = [None] * n
    flagged = [False] * n
    candidates: list[list[str]] = [[] for _ in range(n)]
    scores: list[list[float]] = [[] for _ in range(n)]
    rows = np.flatnonzero(ok)
    if choose in ("generate", "both") and len(rows):
        generated = _answers(asked, kind="geneset_answer", template=TEMPLATES, model=model, adapter=adapter,
                             llm_params=llm_params, max_new_tokens=max_new_tokens, batch_size=batch_size,
                             store=the_store, progress=progress)
        for i, (text, conf) in zip(rows, generated):
            name, rest, bad = parse_answer(text)
            process[i], confidence[i], analysis[i], answer[i], flagged[i] = name, conf, rest, text, bad
    if choose in ("rank", "both") and len(rows):
        for i in rows:
            options = [t["name"] for t in checked[i]["terms"]]
            if choose == "both" and process[i] and not any(_same_name(process[i], o) for o in options):
                options.append(process[i])
            candidates[i] = options
        ranked = _ranks(asked, [candidates[i] for i in rows], model=model, adapter=adapter, llm_params=llm_params,
                        store=the_store, progress=progress)
        for i, values in zip(rows, ranked):
            scores[i] = [float(v) for v in values]
            if len(values):  # without an enriched term, "rank" leaves the set unnamed
                best = int(np.argmax(values))
                process[i], confidence[i] = candidates[i][best], float(values[best])
    frame["process"] = process
    frame["confidence"] = confidence
    status = np.where(ok, "named", "insufficient evidence").astype(object)
    if choose != "generate":  # ranking needs at least one enriched term to choose from
        status[[i for i in rows if process[i] is None]] = "no enriched term"
    frame["status"] = status
    frame["unknown"] = [e["unknown"] for e in checked]
    frame["candidates"] = candidates
    frame["candidate_scores"] = scores
    frame["analysis"] = analysis
    frame["flagged"] = flagged
    frame["answer"] = answer
    frame["evidence"] = checked
    frame.attrs["params"] = {**llm_params, "prompt": TEMPLATES, "evidence": evidence, "choose": choose,
                             "enrichment_options": {**ENRICHMENT_OPTIONS, **dict(enrichment_options or {})},
                             "exclude": exclude, "n_terms": n_terms, "max_q": max_q,
                             "max_new_tokens": max_new_tokens, "decoding": "greedy",
                             "confidence": CONFIDENCE["rank" if choose != "generate" else "generate"],
                             "verify": False}
    if not verify:
        return frame
    return _verify(frame, model=model, adapter=adapter, max_new_tokens=max_new_tokens, batch_size=batch_size,
                   store=the_store, progress=progress)
