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


@pytest.mark.fault
def test_write_atomic_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    import os

    from bftbio._settings import write_atomic

    target = tmp_path / "bftbio_provenance.json"
    target.write_text('{"old": true}')
    real_replace = os.replace

    def killed(*args):
        raise KeyboardInterrupt  # the process dies between writing and renaming

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, '{"new": true}')
    assert target.read_text() == '{"old": true}' and [p.name for p in tmp_path.iterdir()] == [target.name]
    monkeypatch.setattr(os, "replace", real_replace)
    old_mask = os.umask(0o027)
    try:
        write_atomic(target, b'{"new": true}')
    finally:
        os.umask(old_mask)
    assert target.read_text() == '{"new": true}' and (target.stat().st_mode & 0o777) == 0o640


@pytest.mark.fault
def test_follow_umask_undoes_tempfile_modes(tmp_path):
    import os
    import tempfile

    from bftbio._settings import follow_umask

    old_mask = os.umask(0o022)
    try:
        folder = follow_umask(tempfile.mkdtemp(dir=tmp_path))
        fd, name = tempfile.mkstemp(dir=tmp_path)
        os.close(fd)
        assert (folder.stat().st_mode & 0o777, follow_umask(name).stat().st_mode & 0o777) == (0o755, 0o644)
    finally:
        os.umask(old_mask)
