"""Token losses for causal-LM fine-tuning: SFT, DFT and Balanced Fine-Tuning (BFT).

Everything here is a pure function of ``logits``, ``labels`` and options, so it can be
tested on hand-made tensors and dropped into a ``transformers.Trainer.compute_loss``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: The losses :func:`lm_loss` computes: SFT, DFT, BFT (the released form) and BFT-local (the revised form).
LOSSES = ("sft", "dft", "bft", "bft-local")

IGNORE_INDEX = -100


class _TokenLogProbs(torch.autograd.Function):
    """``log softmax(logits)[target]`` per row, without materialising ``log_softmax``.

    ``F.cross_entropy`` saves a full ``[N, V]`` log-softmax for its backward, and its
    backward builds another ``[N, V]`` gradient of that log-softmax before the input
    gradient. Here the forward keeps only the log-sum-exp ``[N]``; the backward
    recomputes the softmax ``chunk_size`` rows at a time, straight into the gradient
    buffer. Peak memory is the gradient itself plus, for bf16/fp16 logits, one float32
    work buffer of ``chunk_size`` rows.
    """

    @staticmethod
    def forward(ctx, logits, targets, chunk_size):
        vocab = logits.shape[-1]
        flat = logits.reshape(-1, vocab)  # a view for the contiguous logits of a model
        rows = flat.shape[0]
        flat_targets = targets.reshape(-1)
        ignored = flat_targets == IGNORE_INDEX
        safe_targets = flat_targets.masked_fill(ignored, 0)
        # float32 at least: exp/sum over 50k-150k classes in bf16 loses too much;
        # float64 logits stay float64 (gradcheck).
        compute = torch.promote_types(logits.dtype, torch.float32)
        lse = torch.empty(rows, dtype=compute, device=logits.device)
        # One work buffer reused by every chunk: no fresh allocation (and, on CPU, no
        # fresh page faults) per chunk.
        work = torch.empty((min(chunk_size, rows), vocab), dtype=compute, device=logits.device)
        for start in range(0, rows, chunk_size):
            chunk = flat[start : start + chunk_size]
            # Upcast by copying into the work buffer: faster than a mixed-dtype op.
            buffer = work[: chunk.shape[0]].copy_(chunk)
            peak = buffer.amax(dim=-1)
            peak = peak.masked_fill(~torch.isfinite(peak), 0.0)  # all -inf row: lse = -inf
            # log sum exp z = max + log sum exp(z - max)
            buffer.sub_(peak[:, None]).exp_()
            lse[start : start + chunk_size] = buffer.sum(dim=-1).log_().add_(peak)
        del work
        picked = flat.gather(1, safe_targets[:, None]).squeeze(1).to(compute)
        logp = (picked - lse).masked_fill(ignored, 0.0)
        ctx.save_for_backward(logits, safe_targets, ignored, lse)
        ctx.chunk_size = chunk_size
        return logp.view(targets.shape)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_logp):
        logits, safe_targets, ignored, lse = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None, None
        vocab = logits.shape[-1]
        flat = logits.reshape(-1, vocab)
        rows, chunk_size = flat.shape[0], ctx.chunk_size
        # d logp_i / d z_ij = onehot_ij - softmax_ij; ignored rows contribute nothing.
        grad = grad_logp.reshape(-1).to(lse.dtype).masked_fill(ignored, 0.0)
        grad_flat = torch.empty_like(flat, memory_format=torch.contiguous_format)
        same_dtype = grad_flat.dtype == lse.dtype
        work = None if same_dtype else torch.empty((min(chunk_size, rows), vocab), dtype=lse.dtype,
                                                    device=flat.device)
        # softmax * (-g) = exp(z - lse + log(-g)) when g <= 0, which holds for every loss
        # here (non-negative weights on -logp): one pass fewer over each [chunk, V].
        # Checked once, not per chunk, to sync a GPU only once.
        nonpositive = bool((grad <= 0).all())
        for start in range(0, rows, chunk_size):
            stop = start + chunk_size
            chunk = flat[start:stop]
            g = grad[start:stop, None]
            if nonpositive:
                shift = lse[start:stop, None] - torch.log(-g)  # g = 0 -> +inf -> exp = 0
            else:
                shift = lse[start:stop, None]
            # float32 logits: computed in place in the gradient; bf16/fp16: in float32 in
            # the work buffer, so g (1 - p) at the target does not cancel in bf16.
            if same_dtype:
                out = torch.sub(chunk, shift, out=grad_flat[start:stop])
            else:
                out = work[: chunk.shape[0]].copy_(chunk).sub_(shift)
            out.exp_()
            if not nonpositive:
                out.mul_(-g)
            out.scatter_add_(1, safe_targets[start:stop, None], g)
            if not same_dtype:
                grad_flat[start:stop].copy_(out)
        return grad_flat.view(logits.shape), None, None


def default_chunk_size(vocab: int, device) -> int:
    """Rows per chunk: about 8 Mi values on CPU, 64 Mi on accelerators.

    On CPU a chunk of 32 MiB (float32) keeps the exp and sum passes close to the cache
    while leaving few enough chunks that the per-operation thread synchronisation
    does not dominate on a busy machine; on a GPU larger chunks keep kernel launches
    few, and the 256 MiB float32 work buffer is small next to the gradient of the
    logits.
    """
    budget = 2**23 if torch.device(device).type == "cpu" else 2**26
    return max(1, budget // max(vocab, 1))


def token_logprobs(logits, targets, *, chunk_size: int | None = None):
    """Log-probability of each target token, ``[B, T]``, 0 where ``targets == -100``.

    Differentiable w.r.t. ``logits``; computed in float32 (float64 for float64
    logits) without a float32 copy of the whole ``logits``. See :class:`_TokenLogProbs`.
    """
    if chunk_size is None:
        chunk_size = default_chunk_size(logits.shape[-1], logits.device)
    return _TokenLogProbs.apply(logits, targets, chunk_size)


def _prefix_sums(values):
    """``S[:, k] = sum(values[:, :k])``, shape ``[B, T + 1]``.

    Accumulated in float64 where the device has it: window sums are differences of
    prefix sums, and in float32 the prefix sum of thousands of log-probabilities
    would cancel away the last digits of a window mean.
    """
    wide = torch.float32 if values.device.type == "mps" else torch.float64
    return F.pad(values.to(wide).cumsum(dim=1), (1, 0))


def _compact(values, mask):
    """Each row's target values moved to the front, order kept; zeros after ``n_b``.

    A stable sort of the inverted mask puts targets first without a Python loop.
    Returns the compacted values and the permutation ``order`` (``compact[b, k] =
    values[b, order[b, k]]``).
    """
    order = torch.argsort((~mask).to(torch.int32), dim=1, stable=True)
    compact = values.gather(1, order).masked_fill(~mask.gather(1, order), 0.0)
    return compact, order


def _minimum_window_mean_logprob(logp, mask, n_targets, group_size):
    """Minimum over windows of ``group_size`` consecutive targets of the mean log-prob.

    Stride 1, full windows only; a row with fewer targets than ``group_size`` uses the
    mean over all of them, a row without targets gives ``-inf`` (so ``p_b = 0``).
    """
    compact, _ = _compact(logp, mask)
    sums = _prefix_sums(compact)
    length = logp.shape[1]
    whole = sums.gather(1, n_targets[:, None]).squeeze(1) / n_targets.clamp_min(1)
    result = whole
    if group_size <= length:
        windows = (sums[:, group_size:] - sums[:, :-group_size]) / group_size  # start k
        starts = torch.arange(windows.shape[1], device=logp.device)
        full = starts[None, :] <= (n_targets - group_size)[:, None]
        smallest = windows.masked_fill(~full, float("inf")).amin(dim=1)
        result = torch.where(n_targets >= group_size, smallest, whole)
    return result.masked_fill(n_targets == 0, float("-inf")).to(logp.dtype)


def _local_confidence(confidence, mask, n_targets, group_size):
    """``C_bt``: mean confidence of the targets in a window of ``group_size`` centred on t.

    Window ``t - G//2 ... t + ceil(G/2) - 1`` in the row's sequence of targets, clipped
    at both ends. Returns ``C`` in the original positions (0 at non-targets) and
    ``min_t C_bt`` (``+inf`` for rows without targets).
    """
    compact, order = _compact(confidence, mask)
    sums = _prefix_sums(compact)
    length = confidence.shape[1]
    k = torch.arange(length, device=confidence.device)
    low = (k - group_size // 2).clamp_min(0).expand(len(n_targets), -1)
    high = torch.minimum(k[None, :] + (group_size + 1) // 2, n_targets[:, None])  # exclusive
    high = torch.maximum(high, low + 1)  # only non-targets (k >= n_b) hit this
    local = (sums.gather(1, high) - sums.gather(1, low)) / (high - low)
    local = local.to(confidence.dtype)
    is_target = k[None, :] < n_targets[:, None]
    local = local.masked_fill(~is_target, 0.0)
    minimum = local.masked_fill(~is_target, float("inf")).amin(dim=1)
    return torch.empty_like(local).scatter_(1, order, local), minimum


def lm_loss(
    logits,
    labels,
    loss: str = "bft",
    group_size: int = 256,
    gamma: float = 1.0,
    *,
    eps: float = 1e-8,
    num_items_in_batch=None,
    num_samples=None,
    return_stats: bool = False,
    chunk_size: int | None = None,
):
    r"""Causal-LM loss: SFT, DFT or Balanced Fine-Tuning (BFT).

    For sample :math:`b` and target token :math:`t` (shifted label not -100) let
    :math:`c_{bt} = p(y_{bt} \mid y_{b,<t})`, :math:`\ell_{bt} = -\log c_{bt}`,
    :math:`m_{bt}` the target mask, :math:`n_b = \sum_t m_{bt}` and :math:`\mathrm{sg}`
    stop-gradient.

    ``"sft"``
        Token-mean cross-entropy :math:`\sum m\ell / \sum m`.
    ``"dft"``
        Dynamic Fine-Tuning (Wu et al. 2025, arXiv:2508.05629):
        :math:`\sum m\,\mathrm{sg}(c)\,\ell / \sum m`.
    ``"bft"``
        Balanced Fine-Tuning (Tang et al. 2025, arXiv:2511.21075), the released
        formulation. Token weight :math:`w_{bt} = \mathrm{sg}(c_{bt})`. The
        minimum group confidence :math:`p_b = \exp \min_k \frac1G \sum_{j=k}^{k+G-1}
        \log c_{bj}` over windows of :math:`G` consecutive targets (stride 1, full
        windows only; the mean over all targets when :math:`n_b < G`; :math:`p_b = 0`
        when :math:`n_b = 0`), and sample weight :math:`s_b = \mathrm{sg}(1 -
        p_b^\gamma)`. The loss is

        .. math:: \frac1B \sum_b s_b \frac{\sum_t m_{bt} w_{bt} \ell_{bt}}{n_b + \epsilon}.
    ``"bft-local"``
        The revised formulation: local confidence :math:`C_{bt}`, the mean of
        :math:`c_{bj}` over targets :math:`j \in [t - \lfloor G/2 \rfloor,
        t + \lceil G/2 \rceil - 1]` (positions in the sample's sequence of targets,
        clipped at its ends), :math:`w_{bt} = \mathrm{sg}(\mathrm{clip}(c_{bt} /
        (C_{bt} + \epsilon), 0, 1))`, :math:`s_b = \mathrm{sg}(1 - \min_t C_{bt})`
        (1 without targets), and the same reduction as ``"bft"``.

    The weights are statistics of the same per-token log-probabilities, detached and
    in float32; the log-probabilities come from one chunked log-sum-exp over the
    vocabulary whose backward recomputes the softmax chunk by chunk, so the peak
    memory stays at or below that of ``F.cross_entropy`` on the same logits.

    Parameters
    ----------
    logits
        ``[B, T, V]``, any float dtype, as the model returns them.
    labels
        ``[B, T]``, *unshifted*, -100 where no loss is wanted, exactly as transformers
        passes them: ``logits[:, t]`` predicts ``labels[:, t + 1]``.
    loss
        One of :data:`LOSSES`: ``"sft"``, ``"dft"``, ``"bft"``, ``"bft-local"``.
    group_size
        Window length :math:`G` in target tokens (BFT losses only).
    gamma
        Exponent on :math:`p_b` (``"bft"`` only); larger values down-weight
        confident samples less.
    eps
        Added to the per-sample token count and to :math:`C_{bt}` (BFT losses).
    num_items_in_batch
        sft/dft: divide the token sum by this instead of :math:`\sum m`; transformers'
        convention, the number of target tokens in the whole accumulated batch.
        Ignored by the BFT losses.
    num_samples
        bft/bft-local: divide the sum over samples by this instead of :math:`B`, the
        number of samples in the whole accumulated batch. Ignored by sft/dft.
    return_stats
        Also return a dict of detached tensors: ``sample_weight`` ``[B]``
        (:math:`s_b`; ones for sft/dft), ``confidence`` ``[B]`` (:math:`p_b` before
        ``gamma`` for bft, :math:`\min_t C_{bt}` for bft-local, the exp of the mean
        target log-prob for sft/dft; 0 for a sample without targets), ``ce`` (plain
        token-mean cross-entropy, for logging) and ``n_tokens`` (target tokens).
    chunk_size
        Rows of the flattened ``[B*T, V]`` logits processed at a time; bounds the
        float32 working memory to ``chunk_size * V`` values. Default: about 8 Mi values
        on CPU, 64 Mi on GPUs (see :func:`default_chunk_size`).

    Returns
    -------
    The scalar loss (float32; float64 for float64 logits), or ``(loss, stats)``.

    Notes
    -----
    Gradient accumulation is exact with the normalisers: two micro-batches of 2
    samples, each called with ``num_items_in_batch`` = target tokens of all 4 (sft,
    dft) or ``num_samples=4`` (bft, bft-local), give gradients that sum to those of
    the batch of 4 in one step. Without them, each micro-batch would be averaged on
    its own and samples in short micro-batches would count more.

    A batch without any target token gives a loss of 0 (not NaN as in
    ``F.cross_entropy``), so a fully masked micro-batch does not poison a run.

    Examples
    --------
    Uniform logits over 3 classes: every :math:`c = 1/3`, so SFT is :math:`\log 3`;
    BFT has :math:`w = p_b = 1/3`, :math:`s_b = 2/3`, hence :math:`\frac29 \log 3`.

    >>> import torch
    >>> from bftbio.train import lm_loss
    >>> logits = torch.zeros(1, 4, 3, requires_grad=True)
    >>> labels = torch.tensor([[-100, 0, 1, 2]])
    >>> round(lm_loss(logits, labels, "sft").item(), 4)
    1.0986
    >>> round(lm_loss(logits, labels, "bft", group_size=2).item(), 4)
    0.2441
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3 or not logits.is_floating_point():
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits must be a float tensor of shape [B, T, V], got {shape}")
    if not isinstance(labels, torch.Tensor) or tuple(labels.shape) != tuple(logits.shape[:2]):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(
            f"labels must have shape [B, T] = {tuple(logits.shape[:2])} to match logits "
            f"{tuple(logits.shape)}, got {shape}"
        )
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be an integer >= 1, got {group_size!r}")
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma!r}")
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be an integer >= 1 or None, got {chunk_size!r}")

    # transformers' ForCausalLMLoss shift: pad labels, never slice (and copy) the logits.
    labels = labels.to(logits.device)
    targets = F.pad(labels, (0, 1), value=IGNORE_INDEX)[:, 1:]
    mask = targets != IGNORE_INDEX
    logp = token_logprobs(logits, targets, chunk_size=chunk_size)  # [B, T], 0 off-target

    with torch.no_grad():
        lp = logp.detach()
        maskf = mask.to(lp.dtype)
        n_targets = mask.sum(dim=1)
        n_total = n_targets.sum()
        batch = logits.shape[0]
        if loss in ("sft", "dft"):
            denominator = n_total.clamp_min(1) if num_items_in_batch is None else num_items_in_batch
            token_weight = maskf if loss == "sft" else maskf * lp.exp()
            coefficient = token_weight / denominator
            sample_weight = maskf.new_ones(batch)
            mean_logp = lp.sum(dim=1) / n_targets.clamp_min(1)
            confidence = mean_logp.exp().masked_fill(n_targets == 0, 0.0)
        else:
            if loss == "bft":
                # The released BFT formulation: the weakest window of G targets sets the
                # sample's confidence, so one badly known stretch keeps a sample weighted.
                confidence = _minimum_window_mean_logprob(lp, mask, n_targets, group_size).exp()
                sample_weight = 1.0 - confidence**gamma
                token_weight = maskf * lp.exp()
            else:
                local, minimum = _local_confidence(lp.exp() * maskf, mask, n_targets, group_size)
                confidence = torch.where(n_targets > 0, minimum, 0.0)
                sample_weight = 1.0 - confidence
                token_weight = maskf * (lp.exp() / (local + eps)).clamp(0.0, 1.0)
            samples = batch if num_samples is None else num_samples
            per_sample = sample_weight / (n_targets.to(lp.dtype) + eps) / samples
            coefficient = token_weight * per_sample[:, None]

    # loss = sum of detached coefficients times -logp: gradients flow only through logp.
    value = -(coefficient * logp).sum()
    if not return_stats:
        return value
    stats = {
        "sample_weight": sample_weight,
        "confidence": confidence,
        "ce": -lp.sum() / n_total.clamp_min(1),
        "n_tokens": n_total,
    }
    return value, stats
