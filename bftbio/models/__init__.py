"""Language models, sentence encoders and the generator, offline by default.

Imports torch and transformers only when a function is called.
"""

from ._encoder import Encoder, load_encoder, resolve_encoder_path
from ._generate import (
    Generation,
    auto_batch_size,
    candidate_logprobs,
    chat_prompt,
    continuation_logprobs,
    generate_texts,
    mean_hidden_states,
)
from ._llm import LanguageModel, adapter_fingerprint, load_llm, model_fingerprint, resolve_llm_path
from ._session import encoder_record, llm_record, resolve_adapter, session_encoder, session_llm
from ._sources import PACKAGED_ADAPTERS, PACKAGED_MODELS, packaged_adapter

__all__ = [
    "Encoder",
    "Generation",
    "LanguageModel",
    "PACKAGED_ADAPTERS",
    "PACKAGED_MODELS",
    "adapter_fingerprint",
    "auto_batch_size",
    "candidate_logprobs",
    "chat_prompt",
    "continuation_logprobs",
    "encoder_record",
    "generate_texts",
    "llm_record",
    "load_encoder",
    "load_llm",
    "mean_hidden_states",
    "packaged_adapter",
    "model_fingerprint",
    "resolve_encoder_path",
    "resolve_adapter",
    "resolve_llm_path",
    "session_encoder",
    "session_llm",
]
