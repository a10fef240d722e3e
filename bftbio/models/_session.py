"""Models loaded once per session, and the record of what their outputs depend on.

Every feature that caches model outputs (gene profiles, process names, name vectors)
keys its store entries by :func:`llm_record` or :func:`encoder_record`, and gets the
loaded model from :func:`session_llm` or :func:`session_encoder`, so a notebook that
embeds genes and then names gene sets loads the default model once.
"""

from __future__ import annotations

import functools
import os

from .._settings import logger, settings
from ._encoder import Encoder, load_encoder
from ._llm import LanguageModel, adapter_fingerprint, load_llm, model_fingerprint
from ._sources import PACKAGED_ADAPTERS, canonical_name, packaged_adapter


def resolve_adapter(adapter, model: str | os.PathLike | LanguageModel = "default", *, task: str):
    """The adapter folder a feature uses: ``adapter="default"`` means the one bftbio ships for ``task``.

    The shipped adapter (:data:`bftbio.models.PACKAGED_ADAPTERS`) belongs to one base
    model: with another model, or a loaded :class:`LanguageModel` (which carries its
    own adapter), ``"default"`` means no adapter. An install without the shipped
    files falls back to the base model with a warning. None and paths pass through.
    """
    if not (isinstance(adapter, str) and adapter == "default"):
        return adapter
    if isinstance(model, LanguageModel):
        return None
    if canonical_name(model, settings.default_model) != PACKAGED_ADAPTERS[task]:
        logger.info("no shipped %s adapter for %s: using the model without one", task, model)
        return None
    folder = packaged_adapter(task)
    if folder is None:
        logger.warning("the shipped %s adapter is missing from this install: using the base model", task)
    return folder


def llm_record(model: str | os.PathLike | LanguageModel = "default", adapter=None) -> dict:
    """What a language model's outputs depend on: its name, its weights' identity and its adapter's hash.

    ``model`` is a name (``"default"``, a Hugging Face id, a local folder) or a
    loaded :class:`LanguageModel`, which carries its adapter already (``adapter``
    must then be None).
    """
    if isinstance(model, LanguageModel):
        if adapter is not None:
            raise ValueError("adapter= is for a model given by name; this LanguageModel already has its adapter")
        return {"model": model.name, "weights": model_fingerprint(model.name), "adapter": model.adapter}
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name, a folder or a LanguageModel, got {type(model).__name__}")
    name = canonical_name(model, settings.default_model)
    return {"model": name, "weights": model_fingerprint(name),
            "adapter": adapter_fingerprint(adapter) if adapter is not None else None}


def encoder_record(encoder: str | os.PathLike | Encoder = "default") -> dict:
    """What a sentence encoder's vectors depend on: its name (and, once loaded, its length limit)."""
    if isinstance(encoder, Encoder):
        return {"encoder": encoder.name, "encoder_max_length": encoder.max_length}
    if not isinstance(encoder, (str, os.PathLike)):
        raise TypeError(f"encoder must be a name, a folder or an Encoder, got {type(encoder).__name__}")
    return {"encoder": canonical_name(encoder, settings.default_encoder)}


@functools.lru_cache(maxsize=1)
def _load_llm_once(name: str, adapter: str | None, fingerprint: str | None, device: str) -> LanguageModel:
    return load_llm(name, adapter=adapter, device=device, merge=True)


@functools.lru_cache(maxsize=2)
def _load_encoder_once(name: str, device: str) -> Encoder:
    return load_encoder(name, device=device)


def session_llm(model: str | os.PathLike | LanguageModel = "default", adapter=None, *,
                record: dict | None = None) -> LanguageModel:
    """The language model (with its adapter) on the settings' device, loaded once per session.

    The adapter is merged into the base weights: features only run inference, and an
    unmerged LoRA costs about 1.25 times the base model's time.

    A loaded :class:`LanguageModel` is returned as it is. The last model loaded by
    name stays in memory; asking for another replaces it. ``record`` (from
    :func:`llm_record`) saves hashing the adapter again.
    """
    if isinstance(model, LanguageModel):
        return model
    record = record or llm_record(model, adapter)
    return _load_llm_once(record["model"], None if adapter is None else os.fspath(adapter), record["adapter"],
                          settings.resolve_device())


def session_encoder(encoder: str | os.PathLike | Encoder = "default") -> Encoder:
    """The sentence encoder on the settings' device, loaded once per session (the last two kept)."""
    if isinstance(encoder, Encoder):
        return encoder
    return _load_encoder_once(canonical_name(encoder, settings.default_encoder), settings.resolve_device())
