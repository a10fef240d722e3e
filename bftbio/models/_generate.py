"""The generator: chat prompts in, texts out (batched greedy decoding)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    batch_size: int | str = "auto",
    progress: bool | None = None,
    on_batch: Callable[[list[int], list[str]], None] | None = None,
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
        Prompts decoded together; ``"auto"`` sizes the batch to the device
        (see :func:`auto_batch_size`).
    progress
        Show a progress bar; default :attr:`bftbio.settings.progress`.
    on_batch
        Called after each batch with the indices (into ``prompts``) and answers of
        that batch, e.g. to save them at once so a killed job loses one batch.

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
    model, tokenizer = llm.model, llm.tokenizer
    encoded = [chat_prompt(tokenizer, p, system=system) for p in prompts]
    if batch_size == "auto":
        batch_size = auto_batch_size(llm, max((len(e) for e in encoded), default=1) + max_new_tokens)
    if not isinstance(batch_size, int) or batch_size < 1 or max_new_tokens < 1:
        raise ValueError(f"batch_size ('auto' or int) and max_new_tokens must be positive, got {batch_size!r} and {max_new_tokens}")
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
            if on_batch is not None:
                on_batch(list(batch), [answers[i] for i in batch])
    return answers


def auto_batch_size(llm: LanguageModel, tokens_per_sequence: int, *, cpu: int = 16, most: int = 256) -> int:
    """Sequences to decode together on the model's device.

    On CPU, ``cpu`` (16: beyond that a 2-core machine gains nothing, see
    ``benchmarks/bench_embed.py``). On CUDA, as many as fit in half the free GPU
    memory, counting the KV cache of ``tokens_per_sequence`` tokens per sequence
    and the logits of one step, capped at ``most``.
    """
    import torch

    device = next(llm.model.parameters()).device
    if device.type != "cuda":
        return cpu
    config = llm.model.config
    layers = getattr(config, "num_hidden_layers", 32)
    heads = getattr(config, "num_key_value_heads", None) or getattr(config, "num_attention_heads", 32)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // getattr(config, "num_attention_heads", 32)
    width = next(llm.model.parameters()).element_size()
    per_sequence = 2 * layers * heads * head_dim * width * tokens_per_sequence + 4 * config.vocab_size
    free, _ = torch.cuda.mem_get_info(device)
    return int(max(1, min(most, free // 2 // max(per_sequence, 1))))


def mean_hidden_states(
    llm: LanguageModel,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    progress: bool | None = None,
    on_batch: Callable[[list[int], object], None] | None = None,
):
    """The mean of the last hidden layer over each text's tokens (no generation).

    Texts are tokenized as plain text (no chat template), sorted by length and
    left-padded; padding is masked out of the mean.

    Returns
    -------
    ``float32`` array of shape ``(len(texts), hidden_size)``.
    """
    import numpy as np
    import torch

    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not one string; wrap it in a list")
    model, tokenizer = llm.model, llm.tokenizer
    encoded = [tokenizer(t)["input_ids"] for t in texts]
    out = np.zeros((len(encoded), model.config.hidden_size), dtype=np.float32)
    order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    show = settings.progress if progress is None else progress
    if show and len(batches) > 1:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="hidden states", unit="batch")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    with torch.inference_mode():
        for batch in batches:
            width = max(len(encoded[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, width - len(encoded[i]) :] = torch.tensor(encoded[i])
                attention[row, width - len(encoded[i]) :] = 1
            result = model(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                           output_hidden_states=True, logits_to_keep=1)
            hidden = result.hidden_states[-1].float()
            mask = attention.to(device).unsqueeze(-1).to(hidden.dtype)
            pooled = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy()
            out[batch] = pooled
            if on_batch is not None:
                on_batch(list(batch), pooled)
    return out
