"""The main job's settings (the run itself is exercised in tests/test_cli.py)."""

import pytest

from bftbio.run import RunConfig
from bftbio.run._job import _prepare_out
from bftbio.run._section import markdown_table


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


def testmarkdown_table():
    import pandas as pd

    text = markdown_table(pd.DataFrame({"method": ["a", "b"], "auroc": [0.5, float("nan")], "ok": [True, False]}))
    assert text.splitlines() == ["| method | auroc | ok |", "|---|---|---|", "| a | 0.500 | True |", "| b |  | False |"]


def test_every_template_is_filled_and_a_missing_field_is_named():
    from bftbio.run._section import TEMPLATES, Section, render

    assert {p.stem for p in TEMPLATES.glob("*.md")} == {"report", "knowledge", "training", "not_trained",
                                                          "profiles", "interactions", "perturbation", "naming"}
    assert Section("not_trained", fields={"losses": "bft, sft"}).render().startswith("## Fine-tuning\n\nNot run")
    with pytest.raises(KeyError, match="losses"):
        render("not_trained")


def test_report_puts_sections_in_order_and_concatenates_their_tidy_rows(tmp_path):
    import pandas as pd

    from bftbio.run._report import summary, write_report
    from bftbio.run._section import Section

    rows = pd.DataFrame({"task": ["t"], "dataset": ["d"], "split": ["test"], "method": ["m"], "metric": ["x"],
                         "value": [0.5]})
    sections = [Section("not_trained", fields={"losses": "bft"}, summary=["  one"]),
                Section("profiles", fields={"genes": "TP53", "profiles": "**knowledge**"}, results=rows,
                        summary=["  two"])]
    write_report(tmp_path, sections, cfg=RunConfig(), quick=True, data={"geneagent": None},
                 steps=[("a", 1.0)], total=3.0)
    report = (tmp_path / "report.md").read_text()
    assert report.index("## Fine-tuning") < report.index("## What the models write") < report.index("## Steps")
    assert "(quick settings: a smoke run)" in report and "- a: 1.0 s" in report and "$" not in report
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "results.csv"), rows)
    assert summary(sections, tmp_path, total=3.0, quick=False) == [
        "bftbio run finished in 3 s", "  one", "  two", f"  report: {tmp_path / 'report.md'}"]
