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
