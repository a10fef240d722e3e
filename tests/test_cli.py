import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bftbio.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def test_parser_knows_the_commands():
    parser = build_parser()
    assert parser.parse_args(["run", "--quick"]).quick
    assert parser.parse_args(["kb", "build", "--source", "x"]).source == "x"
    assert parser.parse_args(["bench", "genesets", "--limit", "3"]).limit == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "genesets", "--datasets", "KEGG"])


def test_kb_info_prints_the_sources(capsys):
    assert main(["kb", "info"]) == 0
    assert "2022-07-01" in capsys.readouterr().out


def test_readme_has_two_setup_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up from scratch", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", setup, flags=re.S)
    assert len(commands) == 2
    assert commands[0].endswith("bftbio run") and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "<!-- test-command -->" in setup.split(commands[1])[0]


@pytest.mark.slow
def test_main_job_quick(tmp_path):
    out = tmp_path / "run"
    data = ROOT.parent / "shared" / "data"
    args = [sys.executable, "-m", "bftbio", "run", "--quick", "--out", str(out)]
    if data.exists():
        args += ["--data", str(data)]
    done = subprocess.run(args, capture_output=True, text=True, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    report = (out / "report.md").read_text()
    assert "| p53 | TP53 |" in report
    profiles = pd.read_csv(out / "profiles.csv")
    assert len(profiles) == 6 and profiles["language_model"].str.len().min() > 20
    if data.exists():
        naming = pd.read_csv(out / "gene_set_naming.csv")
        assert set(naming["dataset"]) == {"NeST", "MSigDB"}
    # A second run into the same folder refuses to overwrite it.
    again = subprocess.run(args, capture_output=True, text=True)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_embed_and_store_commands(tmp_path, capsys, monkeypatch, real_kb):
    import bftbio

    monkeypatch.setattr(bftbio.settings, "_cachedir", tmp_path / "cache")
    assert main(["embed", "p53", "HBB", "--source", "knowledge", "--profiles"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("gene,symbol,profile") and "p53,TP53,\"TP53 (tumor protein p53)" in printed
    out = tmp_path / "emb.csv"
    assert main(["embed", "TP53", "MDM2", "--source", "knowledge", "--out", str(out)]) == 0
    table = pd.read_csv(out, index_col=0)
    assert table.shape == (2, 385) and table["symbol"].tolist() == ["TP53", "MDM2"]
    with pytest.raises(SystemExit, match="exists"):
        main(["embed", "TP53", "--source", "knowledge", "--out", str(out)])
    capsys.readouterr()
    assert main(["store", "info"]) == 0
    assert "knowledge_vector-" in capsys.readouterr().out
    shared = tmp_path / "share.sqlite"
    assert main(["store", "export", str(shared)]) == 0
    assert main(["store", "--store", str(tmp_path / "other.sqlite"), "import", str(shared)]) == 0
    assert "imported 0 texts and 2 vectors" in capsys.readouterr().out
