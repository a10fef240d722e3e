import numpy as np
import pytest

from bftbio.models import generate_texts, load_llm


def test_batched_equals_one_by_one(tiny_llm):
    prompts = ["Tell me about gene TP53.", "MDM2?", "Tell me about gene HBB, the globin."]
    batched = generate_texts(tiny_llm, prompts, max_new_tokens=8, batch_size=3, progress=False)
    single = [generate_texts(tiny_llm, [p], max_new_tokens=8, progress=False)[0] for p in prompts]
    assert batched == single
    assert any(batched)  # a random model still writes something


def test_rejects_a_bare_string(tiny_llm):
    with pytest.raises(TypeError, match="not one string"):
        generate_texts(tiny_llm, "TP53", max_new_tokens=4)


def test_local_folder_loads(tiny_llm_dir, tiny_llm):
    llm = load_llm(tiny_llm_dir, device="cpu")
    assert llm.name == str(tiny_llm_dir)
    a = generate_texts(llm, ["TP53"], max_new_tokens=5, progress=False)
    b = generate_texts(tiny_llm, ["TP53"], max_new_tokens=5, progress=False)
    assert a == b


@pytest.mark.fault
def test_missing_local_model_error():
    with pytest.raises(OSError, match="nobody/no-such-model.*not on this machine.*download=True.*BFTBIO_ALLOW_DOWNLOAD"):
        load_llm("nobody/no-such-model", device="cpu")
    with pytest.raises(OSError, match="neither a folder on this machine nor a Hugging Face model id"):
        load_llm("/no/such/model/folder", device="cpu")


@pytest.mark.fault
def test_a_download_is_asked_for_and_goes_through_the_hub_client(monkeypatch, tiny_llm_dir):
    import huggingface_hub

    from bftbio import settings

    calls = []

    def snapshot_download(repo_id, local_files_only=False, **kwargs):
        calls.append((repo_id, local_files_only))
        if local_files_only:
            raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")
        return str(tiny_llm_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    with pytest.raises(OSError, match="not on this machine"):
        load_llm("someone/some-model", device="cpu")
    assert calls == [("someone/some-model", True)]  # the cache only: no network unless asked
    assert load_llm("someone/some-model", device="cpu", download=True).name == "someone/some-model"
    monkeypatch.setattr(settings, "allow_download", True)
    load_llm("someone/some-model", device="cpu")
    assert calls[1:] == [("someone/some-model", True), ("someone/some-model", False)] * 2


def test_continuation_logprobs_match_a_full_forward_pass(tiny_llm):
    import torch

    from bftbio.models import chat_prompt, continuation_logprobs

    prompts = ["Name a process.", "Tell me about gene TP53, the tumor suppressor."]
    answers = ["Process: apoptotic process", "Process: DNA damage"]
    starts = [len("Process: "), 0]
    got = continuation_logprobs(tiny_llm, prompts, answers, starts=starts, system="Be brief.", batch_size=2)
    model, tokenizer = tiny_llm.model, tiny_llm.tokenizer
    for prompt, answer, start, value in zip(prompts, answers, starts, got):
        head = chat_prompt(tokenizer, prompt, system="Be brief.")
        enc = tokenizer(answer, add_special_tokens=False, return_offsets_mapping=True)
        ids = enc["input_ids"]
        scored = [k for k, (_, end) in enumerate(enc["offset_mapping"]) if end > start]
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([head + ids])).logits[0].log_softmax(-1)
        expected = [float(logits[len(head) + k - 1, ids[k]]) for k in scored]
        assert value == pytest.approx(sum(expected) / len(expected), abs=1e-5)
    assert got.tolist() == pytest.approx(
        [continuation_logprobs(tiny_llm, [p], [a], starts=[s], system="Be brief.")[0]
         for p, a, s in zip(prompts, answers, starts)], abs=1e-5)  # padding changes nothing
    assert np.isnan(continuation_logprobs(tiny_llm, ["x"], [""])[0])


def test_hidden_states_do_not_depend_on_padding():
    """Left padding must not shift positions (GPT-2 has absolute position embeddings)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from bftbio.models import LanguageModel, mean_hidden_states
    from tests.conftest import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=4, n_positions=128)
    llm = LanguageModel(GPT2LMHeadModel(config).eval(), tokenizer, "tiny-gpt2")
    texts = ["TP53", "Tell me about gene MDM2 and what it does.", "HBB beta globin", "ERBB2"]
    together = mean_hidden_states(llm, texts, batch_size=4, progress=False)
    alone = np.concatenate([mean_hidden_states(llm, [t], batch_size=1, progress=False) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_logprobs_are_those_of_a_forward_pass_over_the_generated_tokens(tiny_llm):
    import torch

    from bftbio.models import Generation, chat_prompt

    prompts = ["Tell me about gene TP53.", "MDM2?", "Tell me about gene HBB, the globin, at length."]
    texts = generate_texts(tiny_llm, prompts, max_new_tokens=8, batch_size=3, progress=False)
    generated = generate_texts(tiny_llm, prompts, max_new_tokens=8, batch_size=3, logprobs=True, progress=False)
    assert all(isinstance(g, Generation) for g in generated)
    assert [g.text for g in generated] == texts  # the same answers as without log-probabilities
    model, tokenizer = tiny_llm.model, tiny_llm.tokenizer
    for prompt, g in zip(prompts, generated):
        alone = generate_texts(tiny_llm, [prompt], max_new_tokens=8, logprobs=True, progress=False)[0]
        assert alone.logprobs == pytest.approx(g.logprobs, abs=1e-4)  # left padding changes nothing
        head = chat_prompt(tokenizer, prompt)
        with torch.inference_mode():
            ids = model.generate(input_ids=torch.tensor([head]), max_new_tokens=8, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)[0, len(head):].tolist()
            forward = model(input_ids=torch.tensor([head + ids])).logits[0].log_softmax(-1)
        expected = [float(forward[len(head) + k - 1, ids[k]]) for k in range(len(ids))]
        assert list(g.logprobs) == pytest.approx(expected, abs=1e-4)
        assert list(g.token_ends) == sorted(g.token_ends) and g.token_ends[-1] == len(g.text)
        assert g.span_logprob(0) == pytest.approx(np.mean([v for v, e in zip(expected, g.token_ends)
                                                           if e > 0]), abs=1e-4)


def test_span_logprob_takes_the_tokens_overlapping_the_span():
    from bftbio.models import Generation

    g = Generation("Process: apoptosis\nMore", (8, 9, 13, 18, 19, 23), (-0.1, -0.2, -1.0, -2.0, -0.3, -0.4))
    assert g.span_logprob(9, 18) == pytest.approx(-1.5)  # "apop" and "tosis"
    assert g.span_logprob(10, 11) == pytest.approx(-1.0)  # a span inside one token
    assert np.isnan(g.span_logprob(23))  # nothing after the end


def test_auto_batches_keep_long_prompts_apart():
    from bftbio.models._generate import _sorted_batches

    lengths = [100, 2000, 120, 900, 110, 130]
    batches = _sorted_batches(lengths, lambda n: max(1, 2048 // n), desc="", progress=False)
    assert batches == [[1], [3, 5], [2, 4, 0]]  # longest first; a 2000-token prompt goes alone
    assert _sorted_batches(lengths, 4, desc="", progress=False) == [[1, 3, 5, 2], [4, 0]]


@pytest.mark.fault
def test_a_killed_conversion_leaves_nothing_behind_on_the_next_start(tmp_path):
    import os
    import subprocess
    import sys

    from bftbio.models._llm import _remove_leftovers

    target = tmp_path / "HuggingFaceTB--SmolLM2-135M-Instruct-gguf-0.1.2"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs: its conversion was killed
    killed = tmp_path / f"{target.name}.tmp-{dead.pid}-x1"
    running = tmp_path / f"{target.name}.tmp-{os.getppid()}-x2"  # a live process converting right now
    for folder in (killed, running):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half a model")
    _remove_leftovers(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name]


def test_candidate_logprobs_sum_is_the_mean_times_the_tokens_scored(tiny_llm):
    from bftbio.models import candidate_logprobs

    options = [["peroxisome organization", "mitosis"], ["DNA repair"]]
    kwargs = dict(prefix="Process: ", suffix="\n", system="Be brief.", progress=False)
    prompts = ["Name the process of PEX1, PEX2.", "TP53?"]
    mean = candidate_logprobs(tiny_llm, prompts, options, **kwargs)
    total = candidate_logprobs(tiny_llm, prompts, options, reduction="sum", **kwargs)
    for means, sums, names in zip(mean, total, options):
        counts = [len(tiny_llm.tokenizer(" " + c + "\n", add_special_tokens=False)["input_ids"]) for c in names]
        assert sums == pytest.approx(means * counts, abs=1e-9)
        assert (sums <= 0).all()
    with pytest.raises(ValueError, match="reduction"):
        candidate_logprobs(tiny_llm, prompts, options, reduction="max", **kwargs)
