"""bftbio.train.lm_loss: hand-computed values, a naive reference written straight from
the formulas, gradients, gradient accumulation, bf16 and errors."""

from __future__ import annotations

import doctest
import math

import pytest
import torch
import torch.nn.functional as F

from bftbio.train import _loss, lm_loss
from bftbio.train._loss import LOSSES, token_logprobs

LN2, LN3 = math.log(2), math.log(3)


# --- A naive reference, one sample and one window at a time ---------------------


def reference_loss(logits, labels, loss, group_size=256, gamma=1.0, eps=1e-8, num_items_in_batch=None,
                   num_samples=None):
    """The loss straight from the formulas in lm_loss's docstring (float64, loops)."""
    logprobs = torch.log_softmax(logits.double(), dim=-1)
    batch, length = labels.shape
    per_sample, weights, confidences = [], [], []
    for b in range(batch):
        # Position t predicts labels[b, t + 1]; the last position predicts nothing.
        targets = [logprobs[b, t, labels[b, t + 1]] for t in range(length - 1) if labels[b, t + 1] != -100]
        lp = torch.stack(targets) if targets else logprobs.new_zeros(0)
        n = len(targets)
        c = lp.detach().exp()
        if loss in ("sft", "dft"):
            w = torch.ones_like(c) if loss == "sft" else c
            per_sample.append((w * -lp).sum())
            weights.append(1.0)
            confidences.append(math.exp(lp.detach().mean()) if n else 0.0)
            continue
        if loss == "bft":
            if n == 0:
                p = 0.0
            elif n < group_size:
                p = math.exp(lp.detach().mean())
            else:
                p = math.exp(min(lp.detach()[k : k + group_size].mean() for k in range(n - group_size + 1)))
            s, w = 1.0 - p**gamma, c
            confidences.append(p)
        else:
            local = [c[max(0, t - group_size // 2) : min(n, t + math.ceil(group_size / 2))].mean()
                     for t in range(n)]
            w = torch.stack([torch.clamp(c[t] / (local[t] + eps), 0, 1) for t in range(n)]) if n else c
            minimum = float(min(local)) if n else 0.0
            s = 1.0 - minimum
            confidences.append(minimum)
        weights.append(s)
        per_sample.append(s * (w * -lp).sum() / (n + eps))
    n_total = int((labels[:, 1:] != -100).sum())
    if loss in ("sft", "dft"):
        value = sum(per_sample) / (num_items_in_batch if num_items_in_batch is not None else max(n_total, 1))
    else:
        value = sum(per_sample) / (num_samples if num_samples is not None else batch)
    return value, torch.tensor(weights, dtype=torch.float64), torch.tensor(confidences, dtype=torch.float64)


def edge_case_labels(vocab, generator):
    """Rows: all targets; none; left padding; right padding; holes in the middle; one target."""
    length = 8
    labels = torch.randint(0, vocab, (6, length), generator=generator)
    labels[1] = -100
    labels[2, :4] = -100
    labels[3, 5:] = -100
    labels[4, [2, 3, 5]] = -100
    labels[5, :] = -100
    labels[5, 6] = 3
    return labels


def random_case(seed, vocab=11):
    generator = torch.Generator().manual_seed(seed)
    labels = edge_case_labels(vocab, generator)
    logits = 2 * torch.randn(*labels.shape, vocab, generator=generator)
    return logits, labels


# --- Hand-computed values --------------------------------------------------------
#
# B = 2, T = 5, V = 3. Logits log([a, b, c]) give probabilities [a, b, c] / (a + b + c).
# Sample 0: logits log([2, 1, 1]) everywhere, so p = [1/2, 1/4, 1/4]; labels
#   [-100, 0, 1, 0, 2] shift to targets 0, 1, 0, 2 at positions 0..3:
#   c = [1/2, 1/4, 1/2, 1/4], l = ln2 * [1, 2, 1, 2].
# Sample 1: labels [-100, -100, 2, -100, 1] shift to targets at positions 1 (class 2)
#   and 3 (class 1), a masked token between them. Logits log([1, 1, 2]) at position 1
#   (c = 1/2), zeros at position 3 (c = 1/3): l = [ln2, ln3].


def hand_case():
    logits = torch.zeros(2, 5, 3)
    logits[0] = torch.log(torch.tensor([2.0, 1.0, 1.0]))
    logits[1, 1] = torch.log(torch.tensor([1.0, 1.0, 2.0]))
    labels = torch.tensor([[-100, 0, 1, 0, 2], [-100, -100, 2, -100, 1]])
    return logits, labels


def hand_expected(loss, gamma=1.0):
    """(loss, sample weights, confidences) for hand_case with group_size=3."""
    if loss == "sft":  # (6 ln2 + ln2 + ln3) / 6 targets
        value = (6 * LN2 + LN2 + LN3) / 6
        return value, [1.0, 1.0], [2 ** -1.5, 6 ** -0.5]  # exp(mean log c) per sample
    if loss == "dft":  # sum c*l: sample 0 -> 4 * (ln2 / 2) = 2 ln2; sample 1 -> ln2/2 + ln3/3
        value = (2 * LN2 + LN2 / 2 + LN3 / 3) / 6
        return value, [1.0, 1.0], [2 ** -1.5, 6 ** -0.5]
    if loss == "bft":
        # G = 3. Sample 0 windows of log c: -(1+2+1)/3 ln2, -(2+1+2)/3 ln2 -> min -5/3 ln2.
        # Sample 1 has 2 < 3 targets: mean over both, -(ln2 + ln3)/2 -> p = 6^-1/2.
        p0, p1 = 2 ** (-5 / 3), 6 ** -0.5
        s0, s1 = 1 - p0**gamma, 1 - p1**gamma
        value = (s0 * 2 * LN2 / 4 + s1 * (LN2 / 2 + LN3 / 3) / 2) / 2  # w = c as in dft
        return value, [s0, s1], [p0, p1]
    # bft-local, G = 3: window t-1..t+1 clipped to the row's targets.
    # Sample 0, c = [1/2, 1/4, 1/2, 1/4]: C = [3/8, 5/12, 1/3, 3/8];
    #   c / C = [4/3, 3/5, 3/2, 2/3] -> clipped w = [1, 3/5, 1, 2/3]; min C = 1/3.
    #   sum w l = ln2 (1 + 6/5 + 1 + 4/3) = 68/15 ln2.
    # Sample 1, c = [1/2, 1/3]: both windows hold both targets, C = 5/12;
    #   w = [6/5 -> 1, 4/5]; min C = 5/12.
    s0, s1 = 1 - 1 / 3, 1 - 5 / 12
    value = (s0 * (68 / 15) * LN2 / 4 + s1 * (LN2 + 0.8 * LN3) / 2) / 2
    return value, [s0, s1], [1 / 3, 5 / 12]


@pytest.mark.parametrize("loss", LOSSES)
def test_hand_computed_values(loss):
    logits, labels = hand_case()
    value, stats = lm_loss(logits, labels, loss, group_size=3, return_stats=True)
    expected, weights, confidences = hand_expected(loss)
    assert value.item() == pytest.approx(expected, abs=1e-6)
    assert stats["sample_weight"].tolist() == pytest.approx(weights, abs=1e-6)
    assert stats["confidence"].tolist() == pytest.approx(confidences, abs=1e-6)
    assert stats["ce"].item() == pytest.approx((7 * LN2 + LN3) / 6, abs=1e-6)
    assert int(stats["n_tokens"]) == 6


def test_hand_computed_gamma():
    logits, labels = hand_case()
    value = lm_loss(logits, labels, "bft", group_size=3, gamma=2.0)
    assert value.item() == pytest.approx(hand_expected("bft", gamma=2.0)[0], abs=1e-6)
    # and gamma matters: p^2 < p, so the samples weigh more than with gamma = 1
    assert value.item() > hand_expected("bft", gamma=1.0)[0] + 1e-3


def test_docstring_example():
    result = doctest.testmod(_loss, verbose=False)
    assert result.attempted > 0 and result.failed == 0


# --- Against the naive reference -------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("group_size", [1, 2, 3, 5, 20])
@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_matches_reference(loss, group_size, gamma):
    logits, labels = random_case(seed=group_size)
    logits.requires_grad_(True)
    # chunk_size=5 does not divide B*T = 48: chunk boundaries fall inside rows of samples.
    value, stats = lm_loss(logits, labels, loss, group_size=group_size, gamma=gamma, chunk_size=5,
                           return_stats=True)
    (grad,) = torch.autograd.grad(value, logits)

    reference_logits = logits.detach().double().requires_grad_(True)
    expected, weights, confidences = reference_loss(reference_logits, labels, loss, group_size, gamma)
    (expected_grad,) = torch.autograd.grad(expected, reference_logits)

    assert value.item() == pytest.approx(expected.item(), abs=1e-5)
    torch.testing.assert_close(grad.double(), expected_grad, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(stats["sample_weight"].double(), weights, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(stats["confidence"].double(), confidences, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("loss", ["bft", "bft-local"])
def test_matches_reference_long_rows(loss):
    # Longer rows with random holes, so windows straddle masked tokens and G < n < T.
    generator = torch.Generator().manual_seed(7)
    labels = torch.randint(0, 13, (4, 40), generator=generator)
    labels[torch.rand(4, 40, generator=generator) < 0.3] = -100
    labels[1, :25] = -100
    logits = torch.randn(4, 40, 13, generator=generator, requires_grad=True)
    value = lm_loss(logits, labels, loss, group_size=8)
    (grad,) = torch.autograd.grad(value, logits)
    reference_logits = logits.detach().double().requires_grad_(True)
    expected = reference_loss(reference_logits, labels, loss, 8)[0]
    (expected_grad,) = torch.autograd.grad(expected, reference_logits)
    assert value.item() == pytest.approx(expected.item(), abs=1e-5)
    torch.testing.assert_close(grad.double(), expected_grad, atol=1e-5, rtol=1e-5)


def test_sft_equals_cross_entropy():
    logits, labels = random_case(seed=3)
    shifted = F.pad(labels, (0, 1), value=-100)[:, 1:]
    expected = F.cross_entropy(logits.view(-1, logits.shape[-1]), shifted.reshape(-1), ignore_index=-100)
    assert lm_loss(logits, labels, "sft").item() == pytest.approx(expected.item(), abs=1e-6)


def test_no_targets_gives_zero_loss_and_gradient():
    logits = torch.randn(2, 4, 5, requires_grad=True)
    labels = torch.full((2, 4), -100)
    for loss in LOSSES:
        value = lm_loss(logits, labels, loss)
        (grad,) = torch.autograd.grad(value, logits)
        assert value.item() == 0.0
        assert torch.count_nonzero(grad) == 0


# --- Gradients -------------------------------------------------------------------


def test_token_logprobs_gradcheck():
    # gradcheck feeds upstream gradients of both signs: the general backward branch.
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    targets = torch.tensor([[0, 3, -100], [-100, 2, 1]])
    assert torch.autograd.gradcheck(lambda z: token_logprobs(z, targets, chunk_size=4), (logits,))


def test_token_logprobs_gradcheck_positive_weights():
    # Non-negative weights on -logp: the backward's exp(z - lse + log(-g)) branch.
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    targets = torch.tensor([[0, 3, -100], [-100, 2, 1]])
    weights = torch.tensor([[0.5, 2.0, 1.0], [1.0, 0.0, 0.3]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda z: -(weights * token_logprobs(z, targets, chunk_size=4)).sum(),
                                    (logits,))
    assert torch.autograd.gradcheck(lambda z: lm_loss(z, targets, "sft", chunk_size=2), (logits,))


def test_saves_no_full_size_tensor_but_the_logits():
    # What autograd keeps for backward: the logits themselves, and nothing else of
    # size [B*T, V] (no log_softmax, no float32 copy).
    logits, labels = random_case(seed=4, vocab=50)
    logits.requires_grad_(True)
    full = logits.numel()
    saved = []

    def pack(tensor):
        saved.append((tensor.numel(), tensor.untyped_storage().data_ptr()))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        lm_loss(logits, labels, "bft", group_size=2, chunk_size=7)
    large = [(numel, pointer) for numel, pointer in saved if numel >= full // 4]
    assert large and all(pointer == logits.untyped_storage().data_ptr() for _, pointer in large)


# --- Gradient accumulation -------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_accumulation_is_exact(loss):
    generator = torch.Generator().manual_seed(5)
    labels = torch.randint(0, 7, (4, 9), generator=generator)
    # Unequal target counts (8, 2, 5, 6), so averaging per micro-batch would differ.
    labels[1, :7] = -100
    labels[2, 6:] = -100
    labels[3, [1, 2]] = -100
    logits = torch.randn(4, 9, 7, generator=generator, requires_grad=True)

    (full,) = torch.autograd.grad(lm_loss(logits, labels, loss, group_size=3), logits)

    total_tokens = int((labels[:, 1:] != -100).sum())
    accumulated = torch.zeros_like(logits)
    naive = torch.zeros_like(logits)
    for half in (slice(0, 2), slice(2, 4)):
        part = logits[half].detach().requires_grad_(True)
        value = lm_loss(part, labels[half], loss, group_size=3, num_items_in_batch=torch.tensor(total_tokens),
                        num_samples=4)
        accumulated[half] = torch.autograd.grad(value, part)[0]
        # what a Trainer without the normalisers would do: mean of micro-batch means
        naive[half] = torch.autograd.grad(lm_loss(part, labels[half], loss, group_size=3) / 2, part)[0]

    torch.testing.assert_close(accumulated, full, atol=1e-7, rtol=1e-5)
    if loss in ("sft", "dft"):
        assert not torch.allclose(naive, full, atol=1e-5)


# --- dtypes ----------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_bfloat16_logits(loss):
    logits, labels = random_case(seed=6, vocab=64)
    low = logits.to(torch.bfloat16).requires_grad_(True)
    value = lm_loss(low, labels, loss, group_size=3, chunk_size=7)
    (grad,) = torch.autograd.grad(value, low)
    # the same (bf16-representable) logits in float32
    high = low.detach().float().requires_grad_(True)
    expected = lm_loss(high, labels, loss, group_size=3)
    (expected_grad,) = torch.autograd.grad(expected, high)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    assert grad.dtype == torch.bfloat16 and torch.isfinite(grad).all()
    assert value.item() == pytest.approx(expected.item(), rel=1e-3, abs=1e-4)
    # only the final rounding of the gradient to bf16 differs (relative 2^-8)
    torch.testing.assert_close(grad.float(), expected_grad, rtol=2**-7, atol=1e-6)


# --- Errors ----------------------------------------------------------------------


def test_bad_loss_name():
    logits, labels = hand_case()
    with pytest.raises(ValueError, match=r"loss must be one of .*'sft'.*got 'cross-entropy'"):
        lm_loss(logits, labels, "cross-entropy")


def test_bad_shapes():
    logits, labels = hand_case()
    message = r"logits must be a float tensor of shape \[B, T, V\], got \(10, 3\)"
    with pytest.raises(ValueError, match=message):
        lm_loss(logits.view(10, 3), labels, "sft")
    with pytest.raises(ValueError, match=r"labels must have shape \[B, T\] = \(2, 5\).*got \(2, 4\)"):
        lm_loss(logits, labels[:, :4], "sft")
    with pytest.raises(ValueError, match=r"got \(10,\)"):
        lm_loss(logits, labels.reshape(-1), "sft")


@pytest.mark.parametrize(("option", "bad", "message"), [
    ("group_size", 0, r"group_size must be an integer >= 1, got 0"),
    ("group_size", 2.5, r"group_size must be an integer >= 1, got 2.5"),
    ("gamma", 0.0, r"gamma must be > 0, got 0.0"),
    ("gamma", -1, r"gamma must be > 0, got -1"),
    ("chunk_size", 0, r"chunk_size must be an integer >= 1 or None, got 0"),
])
def test_bad_options(option, bad, message):
    logits, labels = hand_case()
    with pytest.raises(ValueError, match=message):
        lm_loss(logits, labels, "bft", **{option: bad})
