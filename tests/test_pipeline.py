"""The main job's settings (the run itself is exercised in tests/test_cli.py)."""

import pytest

from bftbio._pipeline import RunConfig, _markdown_table, _prepare_out


def test_quick_overrides_and_unknown_fields(tmp_path):
    assert RunConfig().max_steps == -1 and RunConfig.quick().max_steps == 4
    assert RunConfig.from_dict({"naming_sets": 5}, quick=True).max_steps == 4
    assert RunConfig.from_dict({"naming_sets": 5}).naming_sets == 5
    with pytest.raises(ValueError, match="unknown run options \\['n_gene'\\]"):
        RunConfig.from_dict({"n_gene": 3})
    path = tmp_path / "run.yaml"
    path.write_text("losses: [sft]\nsources: [hidden, profile]\n")
    cfg = RunConfig.from_yaml(path)
    assert cfg.losses == ["sft"] and cfg.sources == ["hidden", "profile"]
    path.write_text("- not a mapping\n")
    with pytest.raises(ValueError, match="mapping"):
        RunConfig.from_yaml(path)


@pytest.mark.parametrize("bad, match", [
    ({"losses": ["ce"]}, "losses"),
    ({"losses": []}, "losses"),
    ({"sources": ["knowledge"]}, "sources"),
    ({"interaction_genes": [10, 10]}, "three sizes"),
    ({"naming_sets": 0}, "naming_sets"),
])
def test_bad_settings_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        RunConfig(**bad)


def test_defaults_are_not_shared_between_instances():
    a, b = RunConfig(), RunConfig()
    a.losses.append("dft")
    assert b.losses == ["bft", "sft"]


def test_run_directory_is_never_overwritten_silently(tmp_path):
    (tmp_path / "mine.txt").write_text("the user's")
    with pytest.raises(FileExistsError, match="not empty"):
        _prepare_out(tmp_path, overwrite=False)
    assert _prepare_out(tmp_path / "new", overwrite=False).is_dir()


def test_markdown_table():
    import pandas as pd

    text = _markdown_table(pd.DataFrame({"method": ["a", "b"], "auroc": [0.5, float("nan")], "ok": [True, False]}))
    assert text.splitlines() == ["| method | auroc | ok |", "|---|---|---|", "| a | 0.500 | True |", "| b |  | False |"]
