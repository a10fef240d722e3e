"""Gene profiles and gene embeddings.

The recipe of the paper (and of GenePT): a language model writes a profile of each
gene, a sentence encoder embeds the profile. Every text and vector is kept in the
store (:mod:`bftbio.store`) under a namespace made of everything that changes it,
so a second call for the same genes does no model work, and a killed run resumes.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import knowledge
from .._settings import logger
from .._settings import progress as progress_display
from ..models import (
    Encoder,
    LanguageModel,
    encoder_record,
    generate_texts,
    llm_record,
    mean_hidden_states,
    session_encoder,
    session_llm,
)
from ..store import Store, cached_texts, cached_vectors, open_store

#: Bump when the prompt or the post-processing of profiles changes: old cache entries are then not reused.
PROMPT_VERSION = "1"
#: The user message that asks for a profile (the paper's and GenePT's wording; also bftbio.train's first template).
PROFILE_PROMPT = "Tell me about gene {gene}."
#: Profiles are cut at a sentence end below this many characters.
MAX_CHARS = 2000
#: Options of :func:`bftbio.knowledge.knowledge_profile` for ``source="knowledge"``. The profile's
#: location phrase is left out: it costs the interaction benchmark (``benchmarks/knowledge_location.py``).
KNOWLEDGE_OPTIONS = {"max_terms": 12, "max_chars": MAX_CHARS, "location": False}
#: What ``knowledge_options=`` may change: the keyword-only arguments of ``knowledge_profile``.
_KNOWLEDGE_KEYS = tuple(name for name, p in inspect.signature(knowledge.knowledge_profile).parameters.items()
                        if p.kind is inspect.Parameter.KEYWORD_ONLY)
#: What ``embed_genes`` embeds: model-written profiles, knowledge-base text, or the model's hidden state.
SOURCES = ("profile", "knowledge", "hidden")
_ENCODE_CHUNK = 512  # profiles encoded (and committed to the store) together


# -- what a result depends on ---------------------------------------------------------
@functools.cache
def _kb_version() -> str:
    record = {k: v for k, v in knowledge.provenance().items() if k != "build_date"}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _knowledge_options(source: str, knowledge_options: Mapping | None) -> dict:
    """``KNOWLEDGE_OPTIONS`` with the user's changes, checked; empty for the other sources."""
    if source != "knowledge":
        if knowledge_options:
            raise ValueError(f"knowledge_options= applies to source='knowledge' only, got source={source!r}")
        return {}
    unknown = sorted(set(knowledge_options or {}) - set(_KNOWLEDGE_KEYS))
    if unknown:
        raise ValueError(f"knowledge_options has unknown keys {unknown}; allowed: {list(_KNOWLEDGE_KEYS)}")
    return {**KNOWLEDGE_OPTIONS, **(knowledge_options or {})}


def _text_params(source: str, llm_params: dict | None, max_new_tokens: int, knowledge_options: Mapping) -> dict:
    if source == "knowledge":
        options = dict(knowledge_options)
        if options["location"]:  # profiles with the location phrase were stored before the option existed
            del options["location"]
        return {"source": "knowledge", "kb": _kb_version(), **options}
    return {"source": source, **llm_params, "prompt_version": PROMPT_VERSION, "prompt": PROFILE_PROMPT,
            "max_chars": MAX_CHARS, "max_new_tokens": max_new_tokens, "decoding": "greedy"}


# -- genes --------------------------------------------------------------------------------
def _resolve(genes) -> pd.Series:
    if isinstance(genes, str):
        raise TypeError(f"genes must be a list of names, not one string; use [{genes!r}]")
    names = list(genes)
    if not names:
        raise ValueError("genes is empty")
    return knowledge.resolve_symbols(names, warn=True)


def parse_shard(shard) -> tuple[int, int] | None:
    """``"i/n"`` or ``(i, n)`` as ``(i, n)``, checked (``0 <= i < n``); None stays None."""
    if shard is None:
        return None
    try:
        parts = [x.strip() for x in shard.split("/")] if isinstance(shard, str) else list(shard)
        if len(parts) != 2 or any(isinstance(x, float) or (isinstance(x, str) and not x.isdigit()) for x in parts):
            raise ValueError
        i, n = (int(x) for x in parts)
    except (TypeError, ValueError):
        raise ValueError(f"shard must be 'i/n' or (i, n) with 0 <= i < n, got {shard!r}") from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"shard must be 'i/n' or (i, n) with 0 <= i < n (shards are numbered from 0), got {shard!r}")
    return i, n


def shard_of(symbol: str, n: int) -> int:
    """The shard (0 … n-1) an official symbol belongs to: a hash of the symbol, so the same on every machine
    and for any order or subset of the gene list."""
    digest = hashlib.blake2b(symbol.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


def _in_shard(symbols: pd.Series, shard) -> pd.Series:
    """The rows of ``symbols`` whose official symbol belongs to ``shard`` (names without one belong to no shard)."""
    shard = parse_shard(shard)
    if shard is None:
        return symbols
    i, n = shard
    keep = np.array([pd.notna(s) and shard_of(str(s), n) == i for s in symbols], dtype=bool)
    out = symbols[keep]
    out.attrs = dict(symbols.attrs)
    return out


def _trim(text: str, max_chars: int = MAX_CHARS) -> str:
    """Cut a profile at the last sentence end below ``max_chars``."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > 0 else cut


def _check_source(source: str, allowed: Sequence[str]) -> None:
    if source not in allowed:
        raise ValueError(f"source must be one of {tuple(allowed)}, got {source!r}")


# -- texts --------------------------------------------------------------------------------
def _profile_texts(symbols: list[str], source: str, model, adapter, llm_params, *, max_new_tokens: int,
                   batch_size, store: Store | None, progress, knowledge_options: Mapping) -> dict[str, str]:
    if source == "knowledge":
        return {s: knowledge.knowledge_profile(s, **knowledge_options) for s in symbols}

    def write(missing: list[str], save) -> None:
        logger.info("writing %d gene profiles (%d cached)", len(missing), len(set(symbols)) - len(missing))
        llm = session_llm(model, adapter, record=llm_params)
        generate_texts(llm, [PROFILE_PROMPT.format(gene=s) for s in missing], max_new_tokens=max_new_tokens,
                       batch_size=batch_size, progress=progress,
                       on_batch=lambda indices, answers: save({missing[i]: _trim(a) for i, a in zip(indices, answers)}))

    return cached_texts(store, "profile", _text_params("profile", llm_params, max_new_tokens, {}), symbols, write)


def gene_profiles(
    genes,
    *,
    model: str | LanguageModel = "default",
    adapter=None,
    source: str = "profile",
    max_new_tokens: int = 128,
    batch_size: int | str = "auto",
    cache: bool = True,
    store: Store | str | None = None,
    progress: bool | None = None,
    shard=None,
    knowledge_options: Mapping | None = None,
) -> pd.DataFrame:
    """The texts behind the embeddings: what the model (or the knowledge base) says about each gene.

    Parameters
    ----------
    genes
        Gene names: symbols, aliases, NCBI or Ensembl IDs (resolved with
        :func:`bftbio.knowledge.resolve_symbols`; unknown and ambiguous names
        warn and get no profile).
    model
        ``"default"`` (SmolLM2-135M-Instruct), a Hugging Face id, a local folder,
        or a loaded :class:`bftbio.models.LanguageModel`.
    adapter
        A LoRA adapter folder, e.g. the output of :func:`bftbio.train.finetune`.
    source
        ``"profile"``: the model answers "Tell me about gene X." (greedy, cut
        below 2,000 characters). ``"knowledge"``: a factual profile from NCBI
        Gene and GO (:func:`bftbio.knowledge.knowledge_profile`), no model.
    max_new_tokens
        Length limit of a generated profile, in tokens.
    batch_size
        Profiles generated together; ``"auto"`` sizes it to the device.
    cache
        Read and write the store; ``False`` recomputes and stores nothing.
    store
        A :class:`bftbio.store.Store` or its file; default the one in
        :attr:`bftbio.settings.cachedir`.
    progress
        Progress bars; default :attr:`bftbio.settings.progress`.
    shard
        ``"i/n"`` or ``(i, n)``: only the genes of shard ``i`` of ``n`` (numbered from 0), chosen by
        a hash of the official symbol (:func:`shard_of`), so ``n`` workers given the same list
        share it without overlap, each writing its own ``store``; ``bftbio.store.merge_stores``
        combines their stores. The result holds only the shard's rows.
    knowledge_options
        Changes to :data:`KNOWLEDGE_OPTIONS` for ``source="knowledge"``: ``max_terms``,
        ``max_chars``, or ``location=True`` (name the chromosome and cytoband, which the
        default leaves out; see :func:`bftbio.knowledge.knowledge_profile`).

    Returns
    -------
    DataFrame indexed by the names as given, with columns ``symbol`` (official
    symbol or ``<NA>``) and ``profile`` (text or ``None``).

    Examples
    --------
    >>> import bftbio
    >>> bftbio.embed.gene_profiles(["TP53", "p53"], source="knowledge")  # doctest: +SKIP
    """
    _check_source(source, ("profile", "knowledge"))
    options = _knowledge_options(source, knowledge_options)
    symbols = _in_shard(_resolve(genes), shard)
    wanted = list(dict.fromkeys(s for s in symbols if pd.notna(s)))
    llm_params = llm_record(model, adapter) if source == "profile" else None
    texts = _profile_texts(wanted, source, model, adapter, llm_params, max_new_tokens=max_new_tokens,
                           batch_size=batch_size, store=open_store(store, cache=cache), progress=progress,
                           knowledge_options=options)
    return pd.DataFrame(
        {"symbol": symbols.to_numpy(), "profile": [texts.get(s) if pd.notna(s) else None for s in symbols]},
        index=pd.Index(symbols.index, name="gene"),
    )


# -- vectors ------------------------------------------------------------------------------
def _text_vectors(symbols, source, model, adapter, encoder, *, max_new_tokens, batch_size, store, progress,
                  knowledge_options):
    llm_params = llm_record(model, adapter) if source == "profile" else None
    params = {**_text_params(source, llm_params, max_new_tokens, knowledge_options), **encoder_record(encoder)}

    def compute(missing: list[str], save) -> None:
        texts = _profile_texts(missing, source, model, adapter, llm_params, max_new_tokens=max_new_tokens,
                               batch_size=batch_size, store=store, progress=progress,
                               knowledge_options=knowledge_options)
        enc = session_encoder(encoder)
        chunks = [missing[i : i + _ENCODE_CHUNK] for i in range(0, len(missing), _ENCODE_CHUNK)]
        for chunk in progress_display(chunks, "encoding profiles", unit="chunk", show=progress):
            save(chunk, enc.encode([texts[s] for s in chunk], progress=False))

    return cached_vectors(store, f"{source}_vector", params, symbols, compute), params


def _hidden_vectors(symbols, model, adapter, *, batch_size, store, progress):
    llm_params = llm_record(model, adapter)
    params = {"source": "hidden", **llm_params, "prompt_version": PROMPT_VERSION, "prompt": PROFILE_PROMPT,
              "pooling": "mean of the last hidden layer over the prompt tokens, positions from the attention mask"}

    def compute(missing: list[str], save) -> None:
        llm = session_llm(model, adapter, record=llm_params)
        mean_hidden_states(llm, [PROFILE_PROMPT.format(gene=s) for s in missing],
                           batch_size=32 if batch_size == "auto" else batch_size, progress=progress,
                           on_batch=lambda indices, array: save([missing[i] for i in indices], array))

    return cached_vectors(store, "hidden_vector", params, symbols, compute), params


def embed_genes(
    genes,
    *,
    model: str | LanguageModel = "default",
    adapter=None,
    encoder: str | Encoder = "default",
    source: str = "knowledge",
    max_new_tokens: int = 128,
    batch_size: int | str = "auto",
    cache: bool = True,
    store: Store | str | None = None,
    progress: bool | None = None,
    shard=None,
    knowledge_options: Mapping | None = None,
) -> pd.DataFrame:
    """Embed genes: a text profile of each gene, embedded by the encoder.

    By default the profile is the knowledge base's (NCBI Gene and GO, no language model):
    the source that scores best in bftbio's interaction benchmark (Gene2vec test AUROC
    0.825 against 0.736 for model hidden states; see docs/tasks.md), and the cheapest.
    ``source="profile"`` has the language model write the profiles (the paper's route).

    Parameters
    ----------
    genes
        Gene names: symbols, aliases, NCBI or Ensembl IDs, resolved with
        :func:`bftbio.knowledge.resolve_symbols`. Unknown and ambiguous names
        warn and get a row of NaN.
    model
        ``"default"`` (SmolLM2-135M-Instruct), a Hugging Face id, a local folder,
        or a loaded :class:`bftbio.models.LanguageModel`.
    adapter
        A LoRA adapter folder (e.g. from :func:`bftbio.train.finetune`).
    encoder
        ``"default"`` (all-MiniLM-L6-v2), a Hugging Face id, a local folder or an
        :class:`bftbio.models.Encoder`.
    source
        ``"knowledge"`` (default: a factual profile from NCBI Gene and GO, no
        language model, GenePT-style), ``"profile"`` (the model writes the profile;
        ``model`` and ``adapter`` apply) or ``"hidden"`` (the model's last hidden state, averaged over
        the prompt "Tell me about gene X.", no generation and no encoder).
    max_new_tokens
        Length limit of a generated profile, in tokens.
    batch_size
        Prompts per generation batch; ``"auto"`` sizes it to the device.
    cache
        Read and write the store (texts and vectors); ``False`` recomputes all.
    store
        A :class:`bftbio.store.Store` or its file; default the one in
        :attr:`bftbio.settings.cachedir`.
    progress
        Progress bars; default :attr:`bftbio.settings.progress`.
    shard
        ``"i/n"`` or ``(i, n)``: only the genes of shard ``i`` of ``n`` (numbered from 0), chosen by
        a hash of the official symbol (:func:`shard_of`), so ``n`` workers given the same list
        share it without overlap, each writing its own ``store``; ``bftbio.store.merge_stores``
        combines their stores. The result holds only the shard's rows.
    knowledge_options
        Changes to :data:`KNOWLEDGE_OPTIONS` for ``source="knowledge"``: ``max_terms``,
        ``max_chars``, or ``location=True`` (profiles that name the chromosome and cytoband;
        the default leaves them out, which scores higher on the interaction benchmark;
        docs/tasks.md). The options enter the cache key, so each setting has its own vectors.

    Returns
    -------
    ``float32`` DataFrame, one row per input name (index: the names as given,
    duplicates kept), one column per dimension. ``df.attrs`` holds ``symbol``
    (the official symbol of each row, or ``None``), ``unknown``, ``ambiguous``
    and ``params`` (everything the vectors depend on).

    Examples
    --------
    >>> import bftbio
    >>> emb = bftbio.embed_genes(["TP53", "MDM2", "HBB"], source="knowledge")  # doctest: +SKIP
    >>> emb.shape  # doctest: +SKIP
    (3, 384)
    """
    _check_source(source, SOURCES)
    options = _knowledge_options(source, knowledge_options)
    if source == "knowledge" and (adapter is not None or not (isinstance(model, str) and model == "default")):
        raise ValueError("source='knowledge' uses no language model, so model= and adapter= would be ignored; "
                         "pass source='profile' (the model writes the profiles) or source='hidden'")
    resolved = _resolve(genes)
    if not resolved.notna().any():
        raise ValueError(f"none of the {len(resolved)} gene names could be resolved to an official symbol "
                         f"(first: {list(resolved.index[:5])})")
    symbols = _in_shard(resolved, shard)
    wanted = list(dict.fromkeys(s for s in symbols if pd.notna(s)))
    if not wanted:  # a shard with no gene of the list (every name resolved to some symbol above)
        frame = pd.DataFrame(np.zeros((0, 0), dtype=np.float32), index=pd.Index([], name="gene"))
        frame.attrs = {"symbol": [], "unknown": list(symbols.attrs.get("unknown", [])),
                       "ambiguous": dict(symbols.attrs.get("ambiguous", {})), "params": {}}
        return frame
    the_store = open_store(store, cache=cache)
    if source == "hidden":
        vectors, params = _hidden_vectors(wanted, model, adapter, batch_size=batch_size, store=the_store,
                                          progress=progress)
    else:
        vectors, params = _text_vectors(wanted, source, model, adapter, encoder, max_new_tokens=max_new_tokens,
                                        batch_size=batch_size, store=the_store, progress=progress,
                                        knowledge_options=options)
    dim = len(next(iter(vectors.values())))
    matrix = np.full((len(symbols), dim), np.nan, dtype=np.float32)
    present = np.flatnonzero(symbols.notna().to_numpy())
    if len(present):
        matrix[present] = np.stack([vectors[symbols.iloc[i]] for i in present])
    frame = pd.DataFrame(matrix, index=pd.Index(symbols.index, name="gene"))
    frame.attrs = {
        "symbol": [None if pd.isna(s) else str(s) for s in symbols],
        "unknown": list(symbols.attrs.get("unknown", [])),
        "ambiguous": dict(symbols.attrs.get("ambiguous", {})),
        "params": params,
    }
    return frame
