"""Gene-set naming with a language model, and its offline self-verification.

A biologist hands over a gene set and asks which biological process it represents.
The prompt follows GeneAgent's (Wang et al., Nature Methods 2025): the model, an
assistant to a molecular biologist, analyses the genes' functions and names the most
significant process, answering ``Process: <name>`` and then its reasoning.
GeneAgent then checks its proposal against 18 databases through web APIs and
revises it; bftbio's offline counterpart tests the gene set for GO enrichment in the
knowledge base and shows the model the top terms and the genes behind them.

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
from ..datasets._geneagent import split_answer
from ..embed._embed import _get_llm, _llm_params, _store_or_none
from ..models import LanguageModel, generate_texts
from ..store import Store
from ._enrichment_names import _GO_ID

#: Bump when a prompt, the parsing or the confidence changes: cached answers are then not reused.
PROMPT_VERSION = "1"
#: The system message GeneAgent and the gene-set studies before it use.
SYSTEM_PROMPT = "You are an efficient and insightful assistant to a molecular biologist."
#: The naming request. Its first sentence is a wording the bftbio adapters were trained on
#: (bftbio.train GENE_SET_TEMPLATES), so a tuned model meets a familiar question; the rest
#: gives GeneAgent's steps, short enough for a 135M-parameter model.
NAMING_PROMPT = (
    "Name the most significant biological process performed by these genes: {genes}.\n"
    "Analyse the functions of the genes, find how they are associated, and name the process they share. "
    "Start your answer with 'Process: <name>', then justify it briefly."
)
#: The verification request: the proposal, and the enrichment evidence.
VERIFY_PROMPT = (
    "Genes: {genes}.\n"
    "You named their biological process: {name}.\n"
    "GO enrichment of these genes (hypergeometric test against {universe:,} annotated genes, "
    "Benjamini-Hochberg corrected):\n{evidence}\n"
    "Check your name against this evidence: keep it if it is supported, otherwise revise it. "
    "Start your answer with 'Process: <name>', then give one sentence of reasoning."
)
#: What the ``confidence`` column holds.
CONFIDENCE = "mean natural-log probability of the name's tokens as the model generated them (greedy)"
#: Options of :func:`bftbio.knowledge.enrichment` for verification (those of the enrichment baseline).
ENRICHMENT_OPTIONS = {"ontology": "BP", "min_size": 5, "max_size": 500, "min_overlap": 2}
_GENES_PER_TERM = 10  # genes listed after each enriched term in the verification prompt


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
        members = tuple(str(g).strip() for g in members if str(g).strip())
        if not members:
            raise ValueError(f"gene set {set_id!r} has no genes")
        genes.append(members)
    return pd.DataFrame({"set_id": gene_sets["set_id"].tolist(), "genes": genes})


def _key(prompt: str) -> str:
    return hashlib.sha256(f"{SYSTEM_PROMPT}\n{prompt}".encode()).hexdigest()[:24]


# -- generation, cached -------------------------------------------------------------------
def _answers(prompts: list[str], *, kind: str, template: str, model, adapter, llm_params: dict,
             max_new_tokens: int, batch_size, store: Store | None, progress) -> list[tuple[str, float]]:
    """``(answer, confidence)`` per prompt, from the store or the generator (saved batch by batch)."""
    keys = [_key(p) for p in prompts]
    done: dict[str, tuple[str, float]] = {}
    namespace = None
    if store is not None:
        params = {**llm_params, "prompt_version": PROMPT_VERSION, "system": SYSTEM_PROMPT, "prompt": template,
                  "max_new_tokens": max_new_tokens, "decoding": "greedy", "confidence": CONFIDENCE}
        namespace = store.namespace(kind, params)
        for key, value in store.get_texts(namespace, keys).items():
            record = json.loads(value)
            done[key] = (record["answer"], float("nan") if record["confidence"] is None else record["confidence"])
    todo = list(dict.fromkeys(k for k in keys if k not in done))
    if todo:
        logger.info("%s: generating %d answers (%d cached)", kind, len(todo), len(set(keys)) - len(todo))
        llm = _get_llm(model, adapter, llm_params)
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


# -- verification evidence ----------------------------------------------------------------
def _exclude_term_ids(exclude_terms) -> set[str]:
    if isinstance(exclude_terms, str):
        exclude_terms = [exclude_terms]
    terms = set(exclude_terms)
    bad = sorted(str(t) for t in terms if not (isinstance(t, str) and _GO_ID.match(t)))
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


def _verify_options(exclude, exclude_terms, enrichment_options, n_terms, max_q) -> tuple[dict, set[str]]:
    """Checked verification settings: the enrichment options and the GO IDs given to exclude."""
    if exclude not in knowledge.EXCLUSION_SETTINGS:
        raise ValueError(f"exclude must be one of {sorted(knowledge.EXCLUSION_SETTINGS)}, got {exclude!r}")
    if n_terms < 1 or not 0 < max_q <= 1:
        raise ValueError(f"need n_terms >= 1 and 0 < max_q <= 1, got {n_terms} and {max_q}")
    unknown = sorted(set(enrichment_options or {}) - {*ENRICHMENT_OPTIONS, "universe", "evidence"})
    if unknown:
        raise ValueError(f"enrichment_options {unknown} unknown; accepted: {sorted(ENRICHMENT_OPTIONS)}, "
                         "universe, evidence")
    return {**ENRICHMENT_OPTIONS, **(enrichment_options or {})}, _exclude_term_ids(exclude_terms)


def _evidence(set_id, genes, *, exclude: str, fixed: set[str], options: dict, n_terms: int,
              max_q: float) -> dict:
    """Enrichment of one set with the excluded terms removed: what verification shows the model."""
    ontology = options.get("ontology", "BP")
    resolved = knowledge.resolve_symbols(list(genes), warn=False)
    symbols = set(resolved.dropna().tolist())
    excluded = set(fixed)
    rule = knowledge.EXCLUSION_SETTINGS[exclude]
    if rule is not None:
        own = [set_id] if isinstance(set_id, str) and _GO_ID.match(set_id) else []
        excluded |= knowledge.related_terms(own, [symbols], ontology=ontology, **rule)
    table = knowledge.enrichment(sorted(symbols), exclude=excluded, **options)
    significant = table[table["q_value"] <= max_q]
    return {
        "exclude": exclude,
        "n_excluded": len(excluded),
        "universe_size": int(table.attrs["universe_size"]),
        "genes_tested": int(table["set_size"].iloc[0]) if len(table) else None,
        "unknown_genes": int(resolved.isna().sum()),
        "max_q": max_q,
        "n_significant": len(significant),
        "terms": [
            {"go_id": r.go_id, "name": r.name, "q_value": float(r.q_value), "p_value": float(r.p_value),
             "overlap": int(r.overlap), "term_size": int(r.term_size), "genes": r.genes.split(",")}
            for r in significant.head(n_terms).itertuples()
        ],
    }


def _evidence_text(checked: dict) -> str:
    if not checked["terms"]:
        return f"- no GO biological process is enriched at q <= {checked['max_q']:g}"
    lines = []
    for term in checked["terms"]:
        genes = term["genes"][:_GENES_PER_TERM]
        more = ", ..." if len(term["genes"]) > _GENES_PER_TERM else ""
        lines.append(f"- {term['name']} (q = {term['q_value']:.1e}; genes: {', '.join(genes)}{more})")
    return "\n".join(lines)


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(s):
        return re.sub(r"[^a-z0-9]+", " ", (s or "").lower()).strip()

    return norm(a) == norm(b)


def _verify(named: pd.DataFrame, *, model, adapter, exclude: str, exclude_terms, enrichment_options,
            n_terms: int, max_q: float, max_new_tokens: int, batch_size, store: Store | None,
            progress) -> pd.DataFrame:
    """Add the verification round to a frame of :func:`name_gene_sets` (generation batched)."""
    options, given = _verify_options(exclude, exclude_terms, enrichment_options, n_terms, max_q)
    fixed = _expand_exclude_terms(given, options["ontology"])
    checked = [_evidence(s, g, exclude=exclude, fixed=fixed, options=options, n_terms=n_terms, max_q=max_q)
               for s, g in zip(named["set_id"], named["genes"])]
    prompts = [VERIFY_PROMPT.format(genes=", ".join(g), name=p or "(none)", universe=c["universe_size"],
                                    evidence=_evidence_text(c))
               for g, p, c in zip(named["genes"], named["process"], checked)]
    answers = _answers(prompts, kind="geneset_verification", template=VERIFY_PROMPT, model=model, adapter=adapter,
                       llm_params=_llm_params(model, adapter), max_new_tokens=max_new_tokens,
                       batch_size=batch_size, store=store, progress=progress)
    out = named.copy()
    verified, confidence, revised = [], [], []
    for first, first_conf, (text, conf), record in zip(named["process"], named["confidence"], answers, checked):
        name, _, flagged = parse_answer(text)
        record["answer_flagged"] = bool(flagged or name is None)
        if record["answer_flagged"]:  # an answer outside the format keeps the proposal
            name, conf = first, first_conf
        verified.append(name)
        confidence.append(conf)
        revised.append(not _same_name(first, name))
    out["verified_process"] = verified
    out["verified_confidence"] = confidence
    out["revised"] = revised
    out["verification"] = [text for text, _ in answers]
    out["checked"] = checked
    out.attrs["params"] = {**named.attrs.get("params", {}), "verify": True, "exclude": exclude,
                           "exclude_terms": sorted(fixed), "enrichment": options, "n_terms": n_terms,
                           "max_q": max_q, "verify_prompt": VERIFY_PROMPT}
    return out


def name_gene_sets(
    gene_sets,
    *,
    model: str | LanguageModel = "default",
    adapter=None,
    verify: bool = False,
    exclude_terms: Iterable[str] = (),
    exclude: str = "none",
    n_terms: int = 5,
    max_q: float = 0.05,
    enrichment_options: Mapping | None = None,
    max_new_tokens: int = 96,
    batch_size: int | str = "auto",
    cache: bool = True,
    store: Store | str | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Name the biological process of each gene set with a language model.

    The model gets GeneAgent's system message (:data:`SYSTEM_PROMPT`) and the
    request :data:`NAMING_PROMPT` (the genes as given, in order), answers greedily,
    and :func:`parse_answer` reads the name. With ``verify=True`` a second round,
    the offline counterpart of GeneAgent's self-verification (Wang et al., Nature
    Methods 2025), tests each set for GO enrichment in the knowledge base
    (:func:`bftbio.knowledge.enrichment`: one-sided hypergeometric test against
    every gene annotated in the ontology, Benjamini-Hochberg corrected), shows the
    model its proposal with the top ``n_terms`` terms at ``q <= max_q`` and the
    genes behind them (:data:`VERIFY_PROMPT`), and lets it keep or revise the name.

    Parameters
    ----------
    gene_sets
        DataFrame with ``set_id`` and ``genes`` (list-likes of gene names), e.g.
        :func:`bftbio.datasets.geneagent_gene_sets`, or a dict of set id -> genes.
    model
        ``"default"`` (SmolLM2-135M-Instruct), a Hugging Face id, a local folder,
        or a loaded :class:`bftbio.models.LanguageModel`.
    adapter
        A LoRA adapter folder (e.g. from :func:`bftbio.train.finetune`).
    verify
        Add the verification round.
    exclude_terms
        GO IDs that verification may not show, for every set, together with every
        term whose gene set is identical to one of theirs (so a GO-derived set
        cannot look itself up under another ID).
    exclude
        Per-set exclusion rule of :data:`bftbio.knowledge.EXCLUSION_SETTINGS`, applied
        as :func:`enrichment_names` applies it (a ``set_id`` that is a GO ID is the
        set's own term): ``"none"``, ``"term"`` (leaky on GO-derived sets),
        ``"lineage"`` or ``"related"`` (lineage and near-duplicates: use it for sets
        taken from GO).
    n_terms, max_q
        Verification shows at most ``n_terms`` terms, each with ``q <= max_q``.
    enrichment_options
        Overrides of :data:`ENRICHMENT_OPTIONS` (``ontology``, ``min_size``,
        ``max_size``, ``min_overlap``, ``universe``, ``evidence``).
    max_new_tokens
        Length limit of each answer, in tokens (both rounds).
    batch_size
        Prompts decoded together; ``"auto"`` sizes it to the device.
    cache
        Read and write the store; ``False`` generates everything and stores nothing.
    store
        A :class:`bftbio.store.Store` or its file; default the one in
        :attr:`bftbio.settings.cachedir`.
    progress
        Progress bars; default :attr:`bftbio.settings.progress`.

    Returns
    -------
    DataFrame, one row per set in input order: ``set_id``, ``genes`` (tuple),
    ``process`` (the name; None for an empty answer), ``confidence`` (the model's
    mean natural-log probability of the name's tokens as it generated them, given
    the prompt and the answer before the name: 0 is certain, lower is less sure;
    NaN without a name), ``analysis`` (the rest of the answer), ``flagged`` (the answer
    had no ``Process:`` header; the name is its first line) and ``answer`` (the raw
    text). With ``verify``: ``verified_process``, ``verified_confidence``,
    ``revised`` (the name changed), ``verification`` (the raw second answer) and
    ``checked``, a dict per set: ``exclude``, ``n_excluded``, ``universe_size``,
    ``genes_tested``, ``unknown_genes``, ``max_q``, ``n_significant``, ``terms``
    (shown to the model: ``go_id``, ``name``, ``q_value``, ``p_value``, ``overlap``,
    ``term_size``, ``genes``) and ``answer_flagged`` (the second answer ignored the
    format, so the proposal was kept). ``attrs["params"]`` records the model,
    adapter fingerprint, prompts and settings.

    Examples
    --------
    >>> from bftbio.tasks import name_gene_sets
    >>> sets = {"peroxins": ["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7"]}
    >>> named = name_gene_sets(sets, verify=True)  # doctest: +SKIP
    >>> named.loc[0, ["process", "verified_process"]].tolist()  # doctest: +SKIP
    """
    frame = _gene_set_frame(gene_sets)
    if verify:  # bad verification options fail before any generation
        _verify_options(exclude, exclude_terms, enrichment_options, n_terms, max_q)
    llm_params = _llm_params(model, adapter)
    the_store = _store_or_none(cache, store)
    prompts = [NAMING_PROMPT.format(genes=", ".join(g)) for g in frame["genes"]]
    answers = _answers(prompts, kind="geneset_answer", template=NAMING_PROMPT, model=model, adapter=adapter,
                       llm_params=llm_params, max_new_tokens=max_new_tokens, batch_size=batch_size,
                       store=the_store, progress=progress)
    parsed = [parse_answer(text) for text, _ in answers]
    frame["process"] = [name for name, _, _ in parsed]
    frame["confidence"] = [conf for _, conf in answers]
    frame["analysis"] = [analysis for _, analysis, _ in parsed]
    frame["flagged"] = [flagged for _, _, flagged in parsed]
    frame["answer"] = [text for text, _ in answers]
    frame.attrs["params"] = {**llm_params, "prompt_version": PROMPT_VERSION, "system": SYSTEM_PROMPT,
                             "prompt": NAMING_PROMPT, "max_new_tokens": max_new_tokens, "decoding": "greedy",
                             "confidence": CONFIDENCE, "verify": False}
    if not verify:
        return frame
    return _verify(frame, model=model, adapter=adapter, exclude=exclude, exclude_terms=exclude_terms,
                   enrichment_options=enrichment_options, n_terms=n_terms, max_q=max_q,
                   max_new_tokens=max_new_tokens, batch_size=batch_size, store=the_store, progress=progress)
