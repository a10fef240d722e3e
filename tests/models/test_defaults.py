"""Smoke tests of the real offline defaults (seconds; the first run converts the GGUF)."""

import numpy as np
import pytest

from bftbio.models import generate_texts, load_encoder, load_llm

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def test_default_llm_generates_offline():
    llm = load_llm("default", device="cpu")
    assert llm.name == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert llm.model.config.num_hidden_layers == 30  # SmolLM2-135M
    (answer,) = generate_texts(llm, ["Tell me about gene TP53."], max_new_tokens=12, progress=False)
    assert len(answer.split()) >= 3
    # The Hub id resolves to the same packaged copy.
    assert load_llm("HuggingFaceTB/SmolLM2-135M-Instruct", device="cpu").name == llm.name


def test_default_encoder_ranks_related_gene_sentences_higher():
    enc = load_encoder("default", device="cpu")
    assert enc.dim == 384
    vecs = enc.encode(
        [
            "TP53 is a tumor suppressor that responds to DNA damage by arresting the cell cycle.",
            "MDM2 is an E3 ubiquitin ligase that binds and degrades the tumor suppressor p53.",
            "HBB encodes the beta chain of hemoglobin, which carries oxygen in red blood cells.",
        ],
        progress=False,
    )
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2] + 0.2


def test_encoder_batching_does_not_change_vectors():
    enc = load_encoder("default", device="cpu")
    texts = ["short", "a somewhat longer sentence about the gene BRCA1 and DNA repair", "HBB"]
    together = enc.encode(texts, progress=False)
    apart = np.vstack([enc.encode([t], progress=False) for t in texts])
    np.testing.assert_allclose(together, apart, atol=1e-5)
