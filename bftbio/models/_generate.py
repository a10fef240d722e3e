"""The generator: chat prompts in, texts out (batched greedy decoding)."""

from __future__ import annotations

from collections.abc import Sequence

from .._settings import settings
from ._llm import LanguageModel


def chat_prompt(tokenizer, user: str, *, system: str | None = None) -> list[int]:
    """Token ids of a one-turn chat prompt, ending where the assistant speaks."""
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):  # newer transformers return a BatchEncoding
            ids = ids["input_ids"]
        return list(ids)
    # Base models without a chat template: a plain text prompt.
    text = (system + "\n\n" if system else "") + user + "\n"
    return tokenizer(text)["input_ids"]


def generate_texts(
    llm: LanguageModel,
    prompts: Sequence[str],
    *,
    system: str | None = None,
    max_new_tokens: int = 128,
    batch_size: int = 16,
    progress: bool | None = None,
) -> list[str]:
    """Greedy answers to one-turn chat prompts, batched.

    Prompts are sorted by length and left-padded, so each batch wastes little
    padding and the KV cache serves every new token. Greedy decoding makes the
    output deterministic.

    Parameters
    ----------
    llm
        From :func:`bftbio.models.load_llm`.
    prompts
        User messages.
    system
        An optional system message for every prompt.
    max_new_tokens
        Length limit of each answer, in tokens.
    batch_size
        Prompts decoded together.
    progress
        Show a progress bar; default :attr:`bftbio.settings.progress`.

    Returns
    -------
    The answers, in the order of ``prompts``.

    Examples
    --------
    >>> from bftbio.models import load_llm, generate_texts
    >>> llm = load_llm()  # doctest: +SKIP
    >>> generate_texts(llm, ["Tell me about gene TP53."], max_new_tokens=20)  # doctest: +SKIP
    """
    import torch

    if isinstance(prompts, str):
        raise TypeError("prompts must be a sequence of strings, not one string; wrap it in a list")
    if batch_size < 1 or max_new_tokens < 1:
        raise ValueError(f"batch_size and max_new_tokens must be positive, got {batch_size} and {max_new_tokens}")
    model, tokenizer = llm.model, llm.tokenizer
    encoded = [chat_prompt(tokenizer, p, system=system) for p in prompts]
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    show = settings.progress if progress is None else progress
    if show and len(batches) > 1:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="generating", unit="batch")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    answers: list[str] = [""] * len(encoded)
    with torch.inference_mode():
        for batch in batches:
            width = max(len(encoded[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids = encoded[i]
                input_ids[row, width - len(ids) :] = torch.tensor(ids)
                attention[row, width - len(ids) :] = 1
            out = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=pad_id,
            )
            for row, i in enumerate(batch):
                answers[i] = tokenizer.decode(out[row, width:], skip_special_tokens=True).strip()
    return answers
