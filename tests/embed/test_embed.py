import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from bftbio import embed
from bftbio.embed import _embed
from bftbio.knowledge import knowledge_profile
from bftbio.models import generate_texts
from bftbio.store import Store

GENES = ["TP53", "MDM2", "HBB", "ERBB2", "EGFR", "MYC", "BRCA1", "CDK2", "GAPDH", "ACTB", "INS", "ALB"]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.sqlite") as s:
        yield s


def test_batched_generation_equals_one_by_one(tiny_llm):
    prompts = [embed.PROFILE_PROMPT.format(gene=g) for g in GENES[:6]]
    together = generate_texts(tiny_llm, prompts, max_new_tokens=12, batch_size=6, progress=False)
    alone = [generate_texts(tiny_llm, [p], max_new_tokens=12, batch_size=1, progress=False)[0] for p in prompts]
    assert together == alone


def test_profile_embeddings_are_cached_and_a_hit_does_no_model_work(real_kb, tiny_llm, tiny_encoder, store,
                                                                    monkeypatch):
    first = embed.embed_genes(GENES[:4], model=tiny_llm, source="profile", encoder=tiny_encoder, store=store, max_new_tokens=8,
                              progress=False)
    assert first.shape == (4, 16) and first.dtypes.eq(np.float32).all()
    assert list(first.index) == GENES[:4]
    assert first.attrs["params"]["model"] == "tiny-llama"
    assert first.attrs["params"]["prompt_version"] == embed.PROMPT_VERSION

    def no_model(*args, **kwargs):
        raise AssertionError("the model was called on a cache hit")

    monkeypatch.setattr(_embed, "generate_texts", no_model)
    monkeypatch.setattr(type(tiny_encoder), "encode", no_model)
    again = embed.embed_genes(GENES[:4], model=tiny_llm, source="profile", encoder=tiny_encoder, store=store, max_new_tokens=8,
                              progress=False)
    pd.testing.assert_frame_equal(first, again)
    texts = embed.gene_profiles(GENES[:4], model=tiny_llm, store=store, max_new_tokens=8, progress=False)
    assert texts["profile"].notna().all()
    with pytest.raises(AssertionError, match="cache hit"):  # other settings are another namespace
        embed.embed_genes(GENES[:4], model=tiny_llm, source="profile", encoder=tiny_encoder, store=store, max_new_tokens=9)


def test_cache_false_computes_and_stores_nothing(real_kb, tiny_llm, tiny_encoder, store):
    embed.embed_genes(GENES[:2], model=tiny_llm, source="profile", encoder=tiny_encoder, store=store, cache=False, max_new_tokens=4,
                      progress=False)
    assert store.info().empty


@pytest.mark.fault
def test_aliases_unknown_and_duplicates(real_kb, tiny_encoder, store):
    with pytest.warns(UserWarning, match="NOTAGENE"):
        emb = embed.embed_genes(["p53", "TP53", "NOTAGENE", "HBB", "TP53"], source="knowledge",
                                encoder=tiny_encoder, store=store, progress=False)
    assert list(emb.index) == ["p53", "TP53", "NOTAGENE", "HBB", "TP53"]
    assert emb.attrs["symbol"] == ["TP53", "TP53", None, "HBB", "TP53"]
    assert emb.attrs["unknown"] == ["NOTAGENE"]
    values = emb.to_numpy()
    assert np.isnan(values[2]).all() and not np.isnan(np.delete(values, 2, axis=0)).any()
    np.testing.assert_array_equal(values[0], values[1])
    assert len(store.get_vectors(store.info()["namespace"][0], ["TP53", "HBB"])) == 2


def test_knowledge_profiles_are_the_knowledge_base_text(real_kb, store):
    texts = embed.gene_profiles(["p53", "HBB"], source="knowledge", store=store)
    assert texts.loc["p53", "symbol"] == "TP53"
    assert texts.loc["p53", "profile"] == knowledge_profile("TP53", **embed.KNOWLEDGE_OPTIONS)


def test_hidden_source(real_kb, tiny_llm, store):
    emb = embed.embed_genes(GENES[:5], model=tiny_llm, source="hidden", store=store, progress=False)
    assert emb.shape == (5, tiny_llm.model.config.hidden_size)
    assert not np.isnan(emb.to_numpy()).any()
    assert emb.attrs["params"]["source"] == "hidden"
    again = embed.embed_genes(GENES[:5], model=tiny_llm, source="hidden", store=store, batch_size=2, progress=False)
    np.testing.assert_allclose(emb.to_numpy(), again.to_numpy())


@pytest.mark.fault
def test_bad_input_is_named(real_kb, tiny_llm, store):
    with pytest.raises(TypeError, match=r"\['TP53'\]"):
        embed.embed_genes("TP53", store=store)
    with pytest.raises(ValueError, match="source must be one of"):
        embed.embed_genes(["TP53"], source="summary", store=store)
    with pytest.raises(ValueError, match="source must be one of"):
        embed.gene_profiles(["TP53"], source="hidden", store=store)
    with pytest.raises(ValueError, match="empty"):
        embed.embed_genes([], store=store)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="none of the 1 gene names"):
        embed.embed_genes(["NOTAGENE"], source="knowledge", store=store)
    with pytest.raises(ValueError, match="adapter="):
        embed.embed_genes(["TP53"], model=tiny_llm, source="profile", adapter="somewhere", store=store)


@pytest.mark.fault
def test_an_interrupted_run_resumes_without_redoing_work(real_kb, tiny_llm, tiny_encoder, store, monkeypatch):
    calls = {"n": 0}
    real_put = Store.put_texts

    def put_then_die(self, namespace, items):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # killed while the third batch was in flight
        real_put(self, namespace, items)

    monkeypatch.setattr(Store, "put_texts", put_then_die)
    with pytest.raises(KeyboardInterrupt):
        embed.embed_genes(GENES, model=tiny_llm, source="profile", encoder=tiny_encoder, store=store, batch_size=2,
                          max_new_tokens=6, progress=False)
    monkeypatch.setattr(Store, "put_texts", real_put)
    namespace = store.info().query("kind == 'profile'")["namespace"].item()
    assert len(store.get_texts(namespace, GENES)) == 4  # two whole batches, nothing of the third

    generated = []
    real_generate = _embed.generate_texts

    def counting(llm, prompts, **kwargs):
        generated.extend(prompts)
        return real_generate(llm, prompts, **kwargs)

    monkeypatch.setattr(_embed, "generate_texts", counting)
    resumed = embed.embed_genes(GENES, model=tiny_llm, source="profile", encoder=tiny_encoder, store=store, batch_size=2,
                                max_new_tokens=6, progress=False)
    assert len(generated) == len(GENES) - 4
    fresh = embed.embed_genes(GENES, model=tiny_llm, source="profile", encoder=tiny_encoder, cache=False, batch_size=2,
                              max_new_tokens=6, progress=False)
    np.testing.assert_allclose(resumed.to_numpy(), fresh.to_numpy(), atol=1e-6)


@pytest.mark.fault
def test_a_killed_process_leaves_a_consistent_store(real_kb, tiny_llm_dir, tmp_path):
    """SIGKILL while the fourth batch is being saved: the store holds the three whole batches before it,
    and the rerun generates only the rest. The kill comes at that known point, not after a deadline."""
    path = tmp_path / "killed.sqlite"
    genes = list(real_kb_genes(40))
    script = textwrap.dedent(f"""
        import os, signal
        import bftbio
        from bftbio.store import Store

        real_put, calls = Store.put_texts, []

        def put_then_die(self, namespace, items):
            calls.append(len(items))
            if len(calls) == 4:
                os.kill(os.getpid(), signal.SIGKILL)  # the fourth batch is in flight
            real_put(self, namespace, items)

        Store.put_texts = put_then_die
        bftbio.settings.device = "cpu"
        bftbio.embed.gene_profiles({genes!r}, model={str(tiny_llm_dir)!r}, store={str(path)!r},
                                   batch_size=4, max_new_tokens=24, progress=False)
    """)
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONWARNINGS": "ignore"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    with Store(path) as s:
        assert s.check() == {"integrity": "ok", "namespaces": 1, "texts": 12, "bad_texts": 0, "vectors": 0,
                             "bad_vectors": 0, "dropped": 0}
        namespace = s.info()["namespace"].item()
        saved = s.get_texts(namespace, genes)
        assert len(saved) == 12
        generated = []
        real_generate = _embed.generate_texts

        def counting(llm, prompts, **kwargs):
            generated.extend(prompts)
            return real_generate(llm, prompts, **kwargs)

        _embed.generate_texts = counting
        try:
            texts = embed.gene_profiles(genes, model=str(tiny_llm_dir), store=s, batch_size=4, max_new_tokens=24,
                                        progress=False)
        finally:
            _embed.generate_texts = real_generate
        assert len(generated) == len(genes) - 12  # nothing saved is generated again
        assert texts["profile"].notna().all() and s.info()["n_texts"].item() == len(genes)
        assert all(texts.loc[g, "profile"] == t for g, t in saved.items())


def real_kb_genes(n):
    from bftbio.knowledge import genes

    table = genes()
    return table.index[table["type"] == "protein-coding"][:n]


@pytest.mark.slow
def test_knowledge_embeddings_with_the_real_defaults(real_kb, store):
    emb = embed.embed_genes(["TP53", "MDM2", "HBB"], source="knowledge", store=store, progress=False)
    v = emb.to_numpy()
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, rtol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_knowledge_is_the_default_source_and_refuses_a_model_it_would_ignore(real_kb, store):
    emb = embed.embed_genes(["TP53", "HBB"], store=store, progress=False)
    assert emb.attrs["params"]["source"] == "knowledge"
    with pytest.raises(ValueError, match="source='knowledge' uses no language model"):
        embed.embed_genes(["TP53"], adapter="runs/bft", store=store)


@pytest.mark.fault
def test_a_corrupted_cached_vector_is_recomputed_never_served(real_kb, tiny_encoder, tmp_path):
    """The fault of issue 20: bytes overwritten in the store file must not come back as NaN or junk."""
    from bftbio.store import StoreIntegrityWarning

    path = tmp_path / "store.sqlite"
    genes = ["TP53", "MDM2", "HBB"]
    with Store(path) as store:
        first = embed.embed_genes(genes, source="knowledge", encoder=tiny_encoder, store=store, progress=False)
    data = bytearray(path.read_bytes())
    at = data.find(first.loc["MDM2"].to_numpy(dtype=np.float32).tobytes()[:16])
    assert at >= 0
    data[at : at + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with Store(path) as store:
        with pytest.warns(StoreIntegrityWarning, match="1 of 3 vectors"):
            again = embed.embed_genes(genes, source="knowledge", encoder=tiny_encoder, store=store, progress=False)
        pd.testing.assert_frame_equal(again, first)
        assert store.check()["bad_vectors"] == 0  # the recomputed entry replaced the bad one


def test_knowledge_options_change_the_text_and_the_cache_key(real_kb, tiny_encoder, store):
    texts = embed.gene_profiles(["TP53"], source="knowledge", store=store)
    assert "chromosome" not in texts.loc["TP53", "profile"]  # the default leaves the location out
    located = embed.gene_profiles(["TP53"], source="knowledge", knowledge_options={"location": True}, store=store)
    assert located.loc["TP53", "profile"] == knowledge_profile("TP53", max_terms=12, max_chars=embed.MAX_CHARS)
    default = embed.embed_genes(["TP53", "HBB"], encoder=tiny_encoder, store=store, progress=False)
    with_location = embed.embed_genes(["TP53", "HBB"], encoder=tiny_encoder, store=store, progress=False,
                                      knowledge_options={"location": True})
    # Profiles with the location were stored without the key before the option existed: they keep that key.
    assert default.attrs["params"]["location"] is False and "location" not in with_location.attrs["params"]
    assert not np.allclose(default.to_numpy(), with_location.to_numpy())
    assert len(store.info()["namespace"]) == 2  # each setting keeps its own vectors
    again = embed.embed_genes(["TP53", "HBB"], encoder=tiny_encoder, store=store, progress=False,
                              knowledge_options={"location": True})
    np.testing.assert_array_equal(again.to_numpy(), with_location.to_numpy())


def test_knowledge_options_are_checked(real_kb, store):
    with pytest.raises(ValueError, match="unknown keys \\['locaton'\\]"):
        embed.embed_genes(["TP53"], store=store, knowledge_options={"locaton": False})
    with pytest.raises(ValueError, match="source='knowledge' only"):
        embed.gene_profiles(["TP53"], source="profile", store=store, knowledge_options={"location": False})
