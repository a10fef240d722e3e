import re
import shutil
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
    assert re.search(r"bftbio run( --data \S+)?$", commands[0]) and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "<!-- test-command -->" in setup.split(commands[1])[0]


def _fresh_copy(tmp_path: Path) -> Path:
    """This checkout as a new user's clone has it: no ../shared beside it, no runs/ or caches."""
    copy = tmp_path / "clone" / "bftbio"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "__pycache__", "site",
                                                               "*.egg-info", ".pytest_cache", ".ruff_cache"))
    assert not (copy.parent / "shared").exists()
    return copy


@pytest.mark.slow
def test_main_job_quick(tmp_path):
    """The newcomer's path: `bftbio run --quick` in a fresh copy, then with --train, twice (the cache is reused)."""
    import os

    from matplotlib.image import imread

    clone = _fresh_copy(tmp_path)
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "BFTBIO_DATA"}
    env.update({"HF_HUB_OFFLINE": "1", "BFTBIO_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(clone)})
    models = tmp_path / "cache" / "models"  # the converted default model, not the cache under test
    home_models = Path(os.environ.get("BFTBIO_CACHE", Path.home() / ".cache" / "bftbio")) / "models"
    if home_models.is_dir():
        shutil.copytree(home_models, models)
    command = [sys.executable, "-m", "bftbio", "run", "--quick"]

    def run(*extra):
        return subprocess.run([*command, *extra], capture_output=True, text=True, env=env, cwd=clone)

    # The default job trains nothing and runs every task on the packaged data.
    done = run("--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    report = (out / "report.md").read_text()
    assert "p53 → TP53" in report and "NOT_A_GENE → (unknown)" in report
    assert "Skipped" not in report and "skipped" not in report
    assert "Not run: this job trains nothing" in report and not (out / "training.csv").exists()
    # Every headline figure comes with its interval.
    for column in ("test 95% interval", "all 95% interval", "rougeL 95% interval", "rougeL − top term"):
        assert f"| {column} |" in report, column
    # The terminal ends with a short summary: one line per task's headline, and where the report is.
    summary = done.stdout[done.stdout.index("bftbio run finished"):].splitlines()
    assert 5 <= len(summary) <= 10 and summary[-1].endswith("report.md")
    assert any(line.startswith("  interactions, Gene2vec test") and "knowledge" in line for line in summary)
    assert sum(line.startswith("  naming ") and "shipped adapter" in line for line in summary) == 3
    assert str(clone / "data" / "benchmarks") in (out / "settings.json").read_text()  # the clone's own copy
    profiles = pd.read_csv(out / "profiles.csv")
    assert profiles["gene"].tolist() == ["TP53", "MDM2", "HBB"] and list(profiles.columns) == ["gene", "knowledge", "base"]
    assert profiles[["knowledge", "base"]].map(len).min().min() > 20
    interactions = pd.read_csv(out / "interactions.csv")
    test_auroc = interactions[(interactions.metric == "auroc") & (interactions.split == "test")]
    assert {"knowledge", "hidden (base)", "random", "prior"} <= set(test_auroc["method"])
    assert test_auroc["value"].between(0, 1).all()
    perturbation = pd.read_csv(out / "perturbation.csv")
    assert perturbation["dataset"].str.contains("simulated").all()
    assert "SIMULATED" in report
    naming = pd.read_csv(out / "gene_set_naming.csv")
    assert set(naming["dataset"]) == {"NeST", "MSigDB", "GO"}
    # Naming is the shipped naming adapter's job, beside the base model and the evidence's top term.
    assert {"base", "shipped adapter", "GeneAgent (published)", "GPT-4 (published)",
            "shuffled curated names (trivial)"} <= set(naming["method"])
    assert any(m.startswith("top enriched GO term") for m in naming["method"])
    assert sorted(p.name for p in out.glob("*.png")) == ["gene_set_naming.png", "interactions_roc.png",
                                                        "perturbation.png"]
    for png in out.glob("*.png"):
        assert imread(png).ndim == 3, png
    assert (out / "store.sqlite").stat().st_size > 0

    # --train adds the fine-tuning comparison.
    trained = tmp_path / "run2"
    done = run("--train", "--out", str(trained))
    assert done.returncode == 0, done.stderr[-3000:]
    training = pd.read_csv(trained / "training.csv")
    assert training["loss"].tolist() == ["bft", "sft"] and (training["steps"] == 4).all()
    assert not training["reused_from_cache"].any()
    for loss in ("bft", "sft"):
        assert (trained / "adapters" / loss / "adapter_model.safetensors").stat().st_size > 0
    profiles = pd.read_csv(trained / "profiles.csv")
    for column in ("knowledge", "base", "BFT", "SFT"):
        assert profiles[column].str.len().min() > 20, column
    assert "hidden (BFT)" in set(pd.read_csv(trained / "interactions.csv")["method"])
    assert (trained / "training.png").is_file() and "## Fine-tuning" in (trained / "report.md").read_text()
    # A second run reuses the adapters and the store: no training, no generation.
    again = run("--train", "--out", str(tmp_path / "run3"))
    assert again.returncode == 0, again.stderr[-3000:]
    assert pd.read_csv(tmp_path / "run3" / "training.csv")["reused_from_cache"].all()
    log = (tmp_path / "run3" / "run.log").read_text()
    assert "reusing the finished bft run" in log and "generating" not in log
    # A run into a non-empty folder refuses to overwrite it.
    refused = run("--out", str(out))
    assert refused.returncode != 0 and "not empty" in refused.stderr

@pytest.mark.fault
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
    capsys.readouterr()
    assert main(["embed", "TP53", "--source", "knowledge", "--out", str(out)]) == 2  # never replaced unasked
    assert "exists; pass --overwrite" in capsys.readouterr().err and len(pd.read_csv(out)) == 2
    assert main(["store", "info"]) == 0
    assert "knowledge_vector-" in capsys.readouterr().out
    shared = tmp_path / "share.sqlite"
    assert main(["store", "export", str(shared)]) == 0
    assert main(["store", "--store", str(tmp_path / "other.sqlite"), "import", str(shared)]) == 0
    assert "imported 0 texts and 2 vectors" in capsys.readouterr().out
    # A damaged copy: check says so with exit 1, import refuses it in one line, --repair drops the entry.
    vector = table.loc["TP53"].iloc[1:].to_numpy(dtype="float32").tobytes()[:16]
    data = bytearray(shared.read_bytes())
    data[data.find(vector) : data.find(vector) + 8] = b"\xff" * 8
    shared.write_bytes(bytes(data))
    assert main(["store", "--store", str(shared), "check"]) == 1
    assert "2 vectors (1 bad)" in capsys.readouterr().out
    assert main(["store", "--store", str(tmp_path / "third.sqlite"), "import", str(shared)]) == 2
    assert "1 entries fail verification" in capsys.readouterr().err
    assert main(["store", "--store", str(shared), "check", "--repair"]) == 0
    assert "1 bad entries dropped" in capsys.readouterr().out
    assert main(["store", "--store", str(shared), "check"]) == 0


def test_help_and_argument_errors_need_no_torch():
    code = ("import sys\nfrom bftbio.cli import build_parser\nparser = build_parser()\n"
            "parser.parse_args(['run', '--quick'])\nassert 'torch' not in sys.modules, 'torch imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    bad = subprocess.run([sys.executable, "-m", "bftbio", "run", "--no-such-option"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unrecognized arguments: --no-such-option" in bad.stderr


def test_run_refuses_a_data_folder_that_is_not_there_before_any_work(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "bftbio", "run", "--quick", "--data", "/no/such/dir", "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--data /no/such/dir: no such folder" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()  # nothing was started
    # A folder without the expected files names what is missing.
    (tmp_path / "data" / "gene2vec").mkdir(parents=True)
    incomplete = subprocess.run([sys.executable, "-m", "bftbio", "run", "--data", str(tmp_path / "data"), "--out", str(out)],
                                capture_output=True, text=True, timeout=60)
    assert incomplete.returncode == 2 and "geneagent files the main job reads" in incomplete.stderr


def test_user_errors_are_one_line_unless_debug(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BFTBIO_DEBUG", raising=False)
    missing = tmp_path / "nothing.yaml"
    assert main(["train", "--config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bftbio: error: ") and str(missing) in err and len(err.strip().splitlines()) == 1
    with pytest.raises(FileNotFoundError):
        main(["--debug", "train", "--config", str(missing)])
    monkeypatch.setenv("BFTBIO_DEBUG", "1")
    with pytest.raises(FileNotFoundError):
        main(["train", "--config", str(missing)])


@pytest.mark.fault
def test_an_unusable_cache_folder_is_named_with_the_remedy(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BFTBIO_CACHE", str(blocker / "cache"))
    monkeypatch.delenv("BFTBIO_DEBUG", raising=False)
    assert main(["embed", "TP53"]) == 2
    err = capsys.readouterr().err
    assert str(blocker / "cache") in err and "$BFTBIO_CACHE" in err and len(err.strip().splitlines()) == 1
