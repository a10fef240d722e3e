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


def test_missing_local_model_error():
    with pytest.raises(OSError, match="nobody/no-such-model"):
        load_llm("nobody/no-such-model", device="cpu")


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
