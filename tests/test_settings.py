from pathlib import Path

import pytest

from bftbio._settings import Settings


def test_cachedir_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("BFTBIO_CACHE", raising=False)
    s = Settings()
    assert s.cachedir == Path.home() / ".cache" / "bftbio"
    monkeypatch.setenv("BFTBIO_CACHE", str(tmp_path))
    assert s.cachedir == tmp_path
    s.cachedir = tmp_path / "explicit"
    assert s.cachedir == tmp_path / "explicit"  # an explicit setting beats the environment


def test_device_auto_resolves_to_a_torch_device():
    s = Settings()
    assert s.device == "auto"
    assert s.resolve_device() in {"cpu", "cuda", "mps"}
    s.device = "cpu"
    assert s.resolve_device() == "cpu"
    with pytest.raises(ValueError, match="device"):
        s.device = ""


def test_verbosity_validated():
    s = Settings()
    s.verbosity = "info"
    with pytest.raises(ValueError, match="verbosity must be one of"):
        s.verbosity = "loud"


def test_default_names():
    s = Settings()
    assert s.default_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert s.default_encoder == "sentence-transformers/all-MiniLM-L6-v2"
