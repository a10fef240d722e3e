"""The generator: chat prompts in, texts out (batched greedy decoding)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from .._settings import progress as progress_display
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


def _sorted_batches(lengths: Sequence[int], batch_size: int | Callable[[int], int], *, desc: str,
                    progress: bool | None) -> list[list[int]]:
    """Indices in batches of similar length (longest first), with a progress bar when asked.

    ``batch_size`` is a number, or a function of a batch's longest length giving
    how many sequences of that length fit: long prompts then go in small batches
    and short ones in large batches, so one long prompt does not pad a whole batch.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    size = batch_size if callable(batch_size) else (lambda _: batch_size)
    batches, at = [], 0
    while at < len(order):
        step = max(1, int(size(lengths[order[at]])))
        batches.append(order[at : at + step])
        at += step
    return progress_display(batches, desc, unit="batch", show=progress)


def _left_padded(sequences: Sequence[Sequence[int]], pad_id: int):
    """Token ids left-padded to one width, their attention mask and position ids."""
    import torch

    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        input_ids[row, width - len(seq) :] = torch.tensor(seq)
        attention[row, width - len(seq) :] = 1
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    return input_ids, attention, positions


def _pad_id(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


class Generation(NamedTuple):
    """One generated answer and the log-probability of each of its tokens.

    Attributes
    ----------
    text
        The answer, decoded without special tokens and stripped (as
        :func:`generate_texts` returns it).
    token_ends
        For each generated token, the character offset in ``text`` where it ends.
    logprobs
        For each generated token, its natural-log probability under the model
        at the step that produced it.
    """

    text: str
    token_ends: tuple[int, ...]
    logprobs: tuple[float, ...]

    def span_logprob(self, start: int, end: int | None = None) -> float:
        """The mean log-probability of the tokens overlapping ``text[start:end]`` (NaN when none).

        Examples
        --------
        >>> g = Generation("Process: apoptosis", (8, 9, 18), (-0.1, -0.2, -1.5))
        >>> g.span_logprob(9)
        -1.5
        """
        end = len(self.text) if end is None else end
        picked, begin = [], 0
        for stop, value in zip(self.token_ends, self.logprobs):
            if stop > start and begin < end:
                picked.append(value)
            begin = stop
        return float(sum(picked) / len(picked)) if picked else float("nan")


def _generation(tokenizer, ids: list[int], logprobs: list[float]) -> Generation:
    """A :class:`Generation` from generated token ids, with the character end of each token."""
    raw = tokenizer.decode(ids, skip_special_tokens=True)
    text = raw.strip()
    lead = len(raw) - len(raw.lstrip())
    ends, last = [], 0
    for k in range(len(ids)):
        # Decoding each prefix is exact for byte-level BPE (a token may hold half a
        # character); 128 short decodes per answer cost nothing beside the model.
        last = max(last, min(len(text), len(tokenizer.decode(ids[: k + 1], skip_special_tokens=True)) - lead))
        ends.append(last)
    return Generation(text, tuple(ends), tuple(float(v) for v in logprobs))


def generate_texts(
    llm: LanguageModel,
    prompts: Sequence[str],
    *,
    system: str | None = None,
    max_new_tokens: int = 128,
    batch_size: int | str = "auto",
    logprobs: bool = False,
    progress: bool | None = None,
    on_batch: Callable[[list[int], list], None] | None = None,
) -> list:
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
        Prompts decoded together; ``"auto"`` sizes each batch to its longest
        prompt and the device (see :func:`auto_batch_size`).
    logprobs
        Return a :class:`Generation` per prompt (text, and each token's
        log-probability as generated) instead of the text alone. This costs no
        extra forward pass: the logits come from the decoding steps.
    progress
        Show a progress bar; default :attr:`bftbio.settings.progress`.
    on_batch
        Called after each batch with the indices (into ``prompts``) and answers of
        that batch, e.g. to save them at once so a killed job loses one batch.

    Returns
    -------
    The answers (texts, or :class:`Generation` with ``logprobs=True``), in the
    order of ``prompts``.

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
    if batch_size != "auto" and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be 'auto' or a positive int, got {batch_size!r}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
    kept_logits = max_new_tokens if logprobs else 1
    sizes = batch_size if batch_size != "auto" else (
        lambda length: auto_batch_size(llm, length + max_new_tokens, kept_logits=kept_logits))
    batches = _sorted_batches([len(e) for e in encoded], sizes, desc="generating", progress=progress)
    pad_id = _pad_id(tokenizer)
    device = next(model.parameters()).device
    answers: list = [""] * len(encoded)
    with torch.inference_mode():
        for batch in batches:
            input_ids, attention, _ = _left_padded([encoded[i] for i in batch], pad_id)
            width = input_ids.shape[1]
            out = model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=pad_id,
                return_dict_in_generate=logprobs,
                output_logits=logprobs,
            )
            sequences = (out.sequences if logprobs else out)[:, width:]
            if logprobs:
                chosen = torch.stack([torch.log_softmax(step.float(), -1).gather(1, sequences[:, k : k + 1])[:, 0]
                                      for k, step in enumerate(out.logits)], dim=1).cpu()
            for row, i in enumerate(batch):
                ids = sequences[row].tolist()
                if logprobs:
                    answers[i] = _generation(tokenizer, ids, chosen[row].tolist())
                else:
                    answers[i] = tokenizer.decode(ids, skip_special_tokens=True).strip()
            if on_batch is not None:
                on_batch(list(batch), [answers[i] for i in batch])
    return answers


def auto_batch_size(llm: LanguageModel, tokens_per_sequence: int, *, cpu: int = 16, cpu_tokens: int = 4096,
                    most: int = 256, kept_logits: int = 1) -> int:
    """Sequences of ``tokens_per_sequence`` tokens (prompt and answer) to decode together.

    On CPU, ``cpu`` sequences (16: beyond that a 2-core machine gains nothing,
    see ``benchmarks/bench_embed.py``) but no more than ``cpu_tokens`` tokens in
    all, so that long prompts go in small batches. On CUDA, as many as fit in
    half the free GPU memory, counting the KV cache of each sequence and
    ``kept_logits`` steps of logits (1, or every step when log-probabilities
    are kept), capped at ``most``.
    """
    import torch

    device = next(llm.model.parameters()).device
    if device.type != "cuda":
        return max(1, min(cpu, cpu_tokens // max(tokens_per_sequence, 1)))
    config = llm.model.config
    layers = getattr(config, "num_hidden_layers", 32)
    heads = getattr(config, "num_key_value_heads", None) or getattr(config, "num_attention_heads", 32)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // getattr(config, "num_attention_heads", 32)
    width = next(llm.model.parameters()).element_size()
    per_sequence = 2 * layers * heads * head_dim * width * tokens_per_sequence + 4 * config.vocab_size * kept_logits
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
    batches = _sorted_batches([len(e) for e in encoded], batch_size, desc="hidden states", progress=progress)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for batch in batches:
            input_ids, attention, positions = _left_padded([encoded[i] for i in batch], _pad_id(tokenizer))
            result = model(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                           position_ids=positions.to(device), output_hidden_states=True, logits_to_keep=1)
            hidden = result.hidden_states[-1].float()
            mask = attention.to(device).unsqueeze(-1).to(hidden.dtype)
            pooled = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy()
            out[batch] = pooled
            if on_batch is not None:
                on_batch(list(batch), pooled)
    return out


def continuation_logprobs(
    llm: LanguageModel,
    prompts: Sequence[str],
    continuations: Sequence[str],
    *,
    starts: Sequence[int] | None = None,
    system: str | None = None,
    batch_size: int = 8,
):
    """The model's mean log-probability of (a span of) each answer, by teacher forcing.

    One forward pass over chat prompt + answer scores every token of the answer
    from character ``starts[i]`` on, given the prompt and the answer before it.
    The answer is re-tokenized, so for generated text this is the log-probability
    of its canonical tokenization, which greedy decoding almost always produced.

    Parameters
    ----------
    llm
        From :func:`bftbio.models.load_llm`.
    prompts
        User messages, formatted as :func:`generate_texts` formats them.
    continuations
        The assistant's answers (or their beginnings).
    starts
        Character offset in each continuation where the scored span begins
        (default 0: the whole continuation). A token counts when it ends after
        the offset.
    system
        The system message the prompts were asked with.
    batch_size
        Sequences per forward pass.

    Returns
    -------
    ``float64`` array: the mean natural-log probability per scored token (≤ 0;
    NaN where the span holds no token).

    Examples
    --------
    >>> llm = load_llm()  # doctest: +SKIP
    >>> continuation_logprobs(llm, ["Name a process."], ["Process: apoptosis"], starts=[9])  # doctest: +SKIP
    array([-1.73])
    """
    import numpy as np
    import torch

    if isinstance(prompts, str) or isinstance(continuations, str):
        raise TypeError("prompts and continuations must be sequences of strings, not one string")
    if len(prompts) != len(continuations):
        raise ValueError(f"{len(prompts)} prompts but {len(continuations)} continuations")
    starts = [0] * len(prompts) if starts is None else list(starts)
    if len(starts) != len(prompts):
        raise ValueError(f"{len(prompts)} prompts but {len(starts)} starts")
    model, tokenizer = llm.model, llm.tokenizer
    rows = []  # (prompt ids, continuation ids, index of the first scored continuation token)
    for prompt, text, start in zip(prompts, continuations, starts):
        if getattr(tokenizer, "is_fast", False):
            enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            ids = enc["input_ids"]
            first = next((k for k, (_, end) in enumerate(enc["offset_mapping"]) if end > start), len(ids))
        else:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            first = len(tokenizer(text[:start], add_special_tokens=False)["input_ids"]) if start > 0 else 0
        rows.append((chat_prompt(tokenizer, prompt, system=system), ids, first))
    out = np.full(len(rows), np.nan)
    order = sorted(range(len(rows)), key=lambda i: -(len(rows[i][0]) + len(rows[i][1])))
    pad_id = _pad_id(tokenizer)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            batch = [i for i in order[b : b + batch_size] if len(rows[i][1]) > rows[i][2]]
            if not batch:
                continue
            # Left padding puts every answer at the end, so only the last `keep`
            # positions need logits (the vocabulary is large).
            keep = max(len(rows[i][1]) for i in batch) + 1
            input_ids, attention, positions = _left_padded([rows[i][0] + rows[i][1] for i in batch], pad_id)
            logits = model(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                           position_ids=positions.to(device), logits_to_keep=keep).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
            for row, i in enumerate(batch):
                ids, first = rows[i][1], rows[i][2]
                n = len(ids)
                # Token j of the answer sits at position width - n + j and is predicted
                # by the logits one position earlier, i.e. at keep-row index keep - n - 1 + j.
                js = torch.arange(first, n)
                picked = logprobs[row, keep - n - 1 + js, torch.tensor(ids)[js]]
                out[i] = float(picked.mean())
    return out


def _cache_argument(model) -> str:
    """The forward argument that takes a key–value cache: ``cache`` in newer transformers, else ``past_key_values``."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(type(base).forward).parameters else "past_key_values"


def candidate_logprobs(
    llm: LanguageModel,
    prompts: Sequence[str],
    candidates: Sequence[Sequence[str]],
    *,
    prefix: str = "",
    suffix: str = "",
    system: str | None = None,
    progress: bool | None = None,
    on_prompt: Callable[[int, object], None] | None = None,
    reduction: str = "mean",
) -> list:
    """The model's mean (or summed) log-probability of each candidate answer to each prompt.

    For prompt ``i`` the model reads the chat prompt and the answer's start
    ``prefix`` once; the key–value cache of that shared part is then repeated for
    all of ``candidates[i]``, which are scored in one batch by teacher forcing. A
    candidate ``c`` is the text ``prefix + c + suffix``; its score is the mean
    natural-log probability of the tokens of ``c + suffix`` (a ``suffix`` such as
    ``"\\n"`` also scores where the candidate ends). So ranking 10 candidates costs
    one prompt plus 10 short continuations, not 10 prompts.

    Parameters
    ----------
    llm
        From :func:`bftbio.models.load_llm`.
    prompts
        User messages, formatted as :func:`generate_texts` formats them.
    candidates
        One list of candidate texts per prompt (may be empty).
    prefix
        Text every answer starts with before the candidate (e.g. ``"Process:"``);
        its trailing space is moved into the candidates, as a tokenizer reads it.
    suffix
        Text scored after each candidate.
    system
        The system message of the prompts.
    progress
        A progress bar over prompts; default :attr:`bftbio.settings.progress`.
    on_prompt
        Called as ``on_prompt(i, scores)`` after each prompt (to save as it goes).
    reduction
        ``"mean"`` over the candidate's tokens (comparable across lengths) or
        ``"sum"``, the log-probability of the whole text (what a probability
        ratio such as pointwise mutual information needs).

    Returns
    -------
    A list of ``float64`` arrays, one per prompt, of the candidates' mean (or
    summed) log-probabilities (≤ 0).

    Examples
    --------
    >>> llm = load_llm()  # doctest: +SKIP
    >>> candidate_logprobs(llm, ["Name the process of PEX1, PEX2, PEX5."],
    ...                    [["peroxisome organization", "mitosis"]], prefix="Process: ", suffix="\\n")  # doctest: +SKIP
    [array([-1.2, -4.8])]
    """
    import numpy as np
    import torch

    if isinstance(prompts, str):
        raise TypeError("prompts must be a sequence of strings, not one string")
    if len(prompts) != len(candidates):
        raise ValueError(f"{len(prompts)} prompts but {len(candidates)} candidate lists")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")
    model, tokenizer = llm.model, llm.tokenizer
    space = prefix[len(prefix.rstrip()):]
    head = prefix.rstrip()
    device = next(model.parameters()).device
    out = []
    indices = progress_display(range(len(prompts)), "scoring candidates", unit="prompt", show=progress)
    with torch.inference_mode():
        for i in indices:
            options = list(candidates[i])
            if not options:
                out.append(np.zeros(0))
                if on_prompt is not None:
                    on_prompt(i, out[-1])
                continue
            shared = chat_prompt(tokenizer, prompts[i], system=system)
            if head:
                shared = shared + tokenizer(head, add_special_tokens=False)["input_ids"]
            rows = [tokenizer(space + c + suffix, add_special_tokens=False)["input_ids"] for c in options]
            result = model(input_ids=torch.tensor([shared], device=device), use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(result.logits[0, -1].float(), dim=-1)  # predicts each candidate's token 0
            cache = result.past_key_values
            cache.batch_repeat_interleave(len(rows))
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), _pad_id(tokenizer), dtype=torch.long)
            for r, row in enumerate(rows):
                ids[r, : len(row)] = torch.tensor(row)
            attention = torch.ones((len(rows), len(shared) + width), dtype=torch.long)
            positions = torch.arange(len(shared), len(shared) + width).expand(len(rows), -1)
            logits = model(input_ids=ids.to(device), attention_mask=attention.to(device),
                           position_ids=positions.to(device), use_cache=False, **{_cache_argument(model): cache}).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
            first = first.cpu()
            scores = np.empty(len(rows))
            for r, row in enumerate(rows):
                picked = [float(first[row[0]])] + [float(logprobs[r, j - 1, row[j]]) for j in range(1, len(row))]
                scores[r] = sum(picked) / len(picked) if reduction == "mean" else sum(picked)
            out.append(scores)
            if on_prompt is not None:
                on_prompt(i, scores)
    return out
