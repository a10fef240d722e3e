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

import hashlib
import json
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .. import knowledge
from .._settings import logger
from ..datasets import split_answer
from ..models import LanguageModel, candidate_logprobs, generate_texts, llm_record, resolve_adapter, session_llm
from ..prompts import (
    ANSWER_PREFIX,
    MAX_GENES_SHOWN,
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    TEMPLATES,
    evidence_block,
    naming_prompt,
    shown_genes,
)
from ..store import Store, open_store

#: The verification request: the proposal, and the enrichment evidence.
VERIFY_PROMPT = (
    "Genes: {genes}.\n"
    "You named their biological process: {name}.\n"
    "{evidence}\n"
    "Check your name against this evidence: keep it if it is supported, otherwise revise it. "
    "Answer with 'Process:' followed by the name, then give one sentence of reasoning."
)
#: What the ``confidence`` column holds, by how the name was chosen.
CONFIDENCE = {
    "generate": "mean natural-log probability of the name's tokens as the model generated them (greedy)",
    "rank": "mean natural-log probability of the chosen candidate's tokens (and the line end after it)",
}
#: How a name is reached: the model writes it, scores the evidence's terms, or both.
CHOICES = ("generate", "rank", "both")
#: Sets with fewer known genes than this get no name, only ``status="insufficient evidence"``.
MIN_KNOWN_GENES = 3
ENRICHMENT_OPTIONS = knowledge.ENRICHMENT_OPTIONS


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


# -- inputs -------------------------------------------------------------------------------
def _gene_set_frame(gene_sets) -> pd.DataFrame:
    if isinstance(gene_sets, Mapping):
        gene_sets = pd.DataFrame({"set_id": list(gene_sets.keys()), "genes": list(gene_sets.values())})
    if not isinstance(gene_sets, pd.DataFrame):
        raise TypeError(f"gene_sets must be a DataFrame with set_id and genes, or a dict of set id -> genes; "
                        f"got {type(gene_sets).__name__}")
    missing = {"set_id", "genes"} - set(gene_sets.columns)
    if missing:
        raise ValueError(f"gene_sets needs the columns {sorted(missing)}; it has {list(gene_sets.columns)}")
    genes = []
    for set_id, members in zip(gene_sets["set_id"], gene_sets["genes"]):
        if isinstance(members, str) or not isinstance(members, Iterable):
            raise TypeError(f"genes of set {set_id!r} must be a list of gene names, not {type(members).__name__}")
        members = list(members)
        bad = [(i, g) for i, g in enumerate(members) if not isinstance(g, str)]
        if bad:
            i, g = bad[0]
            raise TypeError(f"gene set {set_id!r} holds {len(bad)} member(s) that are not gene names, the first "
                            f"{g!r} at position {i}; drop missing values (None, NaN) before naming")
        members = tuple(g.strip() for g in members if g.strip())
        if not members:
            raise ValueError(f"gene set {set_id!r} has no genes")
        genes.append(members)
    return pd.DataFrame({"set_id": gene_sets["set_id"].tolist(), "genes": genes})


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join([SYSTEM_PROMPT, *parts]).encode()).hexdigest()[:24]


# -- generation and ranking, cached ---------------------------------------------------------
def _answers(prompts: list[str], *, kind: str, template, model, adapter, llm_params: dict,
             max_new_tokens: int, batch_size, store: Store | None, progress) -> list[tuple[str, float]]:
    """``(answer, confidence)`` per prompt, from the store or the generator (saved batch by batch)."""
    keys = [_key(p) for p in prompts]
    done: dict[str, tuple[str, float]] = {}
    namespace = None
    if store is not None:
        params = {**llm_params, "prompt_version": PROMPT_VERSION, "system": SYSTEM_PROMPT, "prompt": template,
                  "max_new_tokens": max_new_tokens, "decoding": "greedy", "confidence": CONFIDENCE["generate"]}
        namespace = store.namespace(kind, params)
        for key, value in store.get_texts(namespace, keys).items():
            record = json.loads(value)
            done[key] = (record["answer"], float("nan") if record["confidence"] is None else record["confidence"])
    todo = list(dict.fromkeys(k for k in keys if k not in done))
    if todo:
        logger.info("%s: generating %d answers (%d cached)", kind, len(todo), len(set(keys)) - len(todo))
        llm = session_llm(model, adapter, record=llm_params)
        asked = {k: p for k, p in zip(keys, prompts)}
        todo_prompts = [asked[k] for k in todo]

        def save(indices: list[int], generated: list) -> None:
            batch = {}
            for i, g in zip(indices, generated):
                parts = split_answer(g.text)
                conf = g.span_logprob(parts.start, parts.start + len(parts.name)) if parts.name else float("nan")
                batch[todo[i]] = (g.text, conf)
            done.update(batch)
            if store is not None:
                store.put_texts(namespace, {k: json.dumps({"answer": t, "confidence": None if np.isnan(c) else c})
                                            for k, (t, c) in batch.items()})

        generate_texts(llm, todo_prompts, system=SYSTEM_PROMPT, max_new_tokens=max_new_tokens, logprobs=True,
                       batch_size=batch_size, progress=progress, on_batch=save)
    return [done[k] for k in keys]


def _ranks(prompts: list[str], candidates: list[list[str]], *, model, adapter, llm_params: dict,
           store: Store | None, progress) -> list[np.ndarray]:
    """The model's score of each candidate name per prompt, from the store or the model (saved prompt by prompt)."""
    keys = [_key(p, *c) for p, c in zip(prompts, candidates)]
    done: dict[str, np.ndarray] = {}
    namespace = None
    if store is not None:
        params = {**llm_params, "prompt_version": PROMPT_VERSION, "system": SYSTEM_PROMPT, "prompt": TEMPLATES,
                  "prefix": ANSWER_PREFIX, "suffix": "\n", "score": CONFIDENCE["rank"]}
        namespace = store.namespace("geneset_rank", params)
        for key, value in store.get_texts(namespace, keys).items():
            done[key] = np.asarray(json.loads(value), dtype=float)
    todo = [i for i, k in enumerate(keys) if k not in done and candidates[i]]
    if todo:
        logger.info("geneset_rank: scoring candidates of %d sets (%d cached)", len(todo), len(keys) - len(todo))
        llm = session_llm(model, adapter, record=llm_params)

        def save(j: int, scores: np.ndarray) -> None:
            done[keys[todo[j]]] = scores
            if store is not None:
                store.put_texts(namespace, {keys[todo[j]]: json.dumps(scores.tolist())})

        candidate_logprobs(llm, [prompts[i] for i in todo], [candidates[i] for i in todo], prefix=ANSWER_PREFIX,
                           suffix="\n", system=SYSTEM_PROMPT, progress=progress, on_prompt=save)
    return [done.get(k, np.zeros(0)) for k in keys]


# -- evidence -------------------------------------------------------------------------------
def _exclude_term_ids(exclude_terms) -> set[str]:
    if isinstance(exclude_terms, str):
        exclude_terms = [exclude_terms]
    terms = set(exclude_terms)
    bad = sorted(str(t) for t in terms if not (isinstance(t, str) and knowledge.GO_ID.match(t)))
    if bad:
        raise ValueError(f"exclude_terms must be GO IDs such as 'GO:0006915'; got {bad[:5]}")
    return terms


def _expand_exclude_terms(terms: set[str], ontology: str) -> set[str]:
    """The given GO terms and every term with the identical propagated gene set."""
    if not terms:
        return set()
    sets = knowledge.gene_sets(ontology, min_size=1, max_size=None)
    members = [sets[t] for t in sorted(terms) if t in sets]
    return terms | knowledge.related_terms([], members, ontology=ontology, lineage=False, jaccard=1.0)


def _evidence_options(enrichment_options, exclude_terms) -> tuple[dict, set[str]]:
    """The enrichment options (checked by :func:`bftbio.knowledge.gene_set_evidence`) and the GO IDs to exclude."""
    return {**ENRICHMENT_OPTIONS, **(enrichment_options or {})}, _exclude_term_ids(exclude_terms)


def set_evidence(gene_sets, *, exclude: str = "none", exclude_terms: Iterable[str] = (), n_terms: int = 8,
                 max_q: float = 0.05, enrichment_options: Mapping | None = None) -> list[dict]:
    """The evidence of each set, as :func:`name_gene_sets` computes and shows it.

    :func:`bftbio.knowledge.gene_set_evidence` per set, with ``exclude_terms``
    widened to every term with an identical gene set (so a GO-derived set cannot
    look itself up under another ID). Enrichment baselines that read this list
    see exactly what the model saw.
    """
    frame = _gene_set_frame(gene_sets)
    options, given = _evidence_options(enrichment_options, exclude_terms)
    fixed = _expand_exclude_terms(given, options["ontology"])
    return [knowledge.gene_set_evidence(g, set_id=s, exclude=exclude, exclude_terms=fixed, n_terms=n_terms,
                                        max_q=max_q, **options)
            for s, g in zip(frame["set_id"], frame["genes"])]


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(s):
        return re.sub(r"[^a-z0-9]+", " ", (s or "").lower()).strip()

    return norm(a) == norm(b)


# -- verification ---------------------------------------------------------------------------
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

    Each set's evidence is its top ``n_terms`` enriched GO biological processes at
    ``q <= max_q`` (:func:`bftbio.knowledge.gene_set_evidence`: one-sided
    hypergeometric test against every gene annotated in the ontology,
    Benjamini–Hochberg corrected). The model gets GeneAgent's system message and
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
                             "exclude": exclude, "n_terms": n_terms, "max_q": max_q,
                             "max_new_tokens": max_new_tokens, "decoding": "greedy",
                             "confidence": CONFIDENCE["rank" if choose != "generate" else "generate"],
                             "verify": False}
    if not verify:
        return frame
    return _verify(frame, model=model, adapter=adapter, max_new_tokens=max_new_tokens, batch_size=batch_size,
                   store=the_store, progress=progress)
