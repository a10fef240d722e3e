"""The main job killed mid-way (SIGKILL, at a known point) and started again: nothing saved is redone."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.fault  # the fault suite (docs/promises.md)

# Killed while the second batch of gene-set names is being saved; the first batch is committed.
KILLED = textwrap.dedent("""
    import os, signal, sys
    from bftbio.store import Store
    from bftbio.run import run_main_job

    real_put, batches = Store.put_texts, []

    def put_then_die(self, namespace, items):
        if namespace.startswith("geneset_answer"):
            batches.append(len(items))
            if len(batches) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        real_put(self, namespace, items)

    Store.put_texts = put_then_die
    run_main_job(sys.argv[1], quick=True)
""")

# Started again: counts the naming prompts the model is asked to answer.
RERUN = textwrap.dedent("""
    import json, sys
    from bftbio.tasks.genesets import _model_calls
    from bftbio.run import run_main_job

    asked, real = [], _model_calls.generate_texts

    def counting(llm, prompts, **kwargs):
        asked.extend(prompts)
        return real(llm, prompts, **kwargs)

    _model_calls.generate_texts = counting
    run_main_job(sys.argv[1], quick=True, overwrite=True)
    json.dump(len(asked), open(sys.argv[2], "w"))
""")


@pytest.mark.slow
def test_a_killed_main_job_resumes_without_redoing_saved_work(tmp_path):
    from bftbio.store import Store

    cache = tmp_path / "cache"
    cache.mkdir()
    home = Path(os.environ.get("BFTBIO_CACHE", Path.home() / ".cache" / "bftbio")) / "models"
    if home.is_dir():
        (cache / "models").symlink_to(home)  # the converted default model, not the cache under test
    env = {**{k: v for k, v in os.environ.items() if k != "BFTBIO_DATA"}, "BFTBIO_CACHE": str(cache),
           "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    out = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILLED, str(out)], capture_output=True, text=True, env=env,
                            timeout=900)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (out / "report.md").exists()  # no report of a job that did not finish

    def answers():
        with Store(cache / "store.sqlite", read_only=True) as store:
            info = store.info()
            assert store.check()["bad_texts"] == 0
            return int(info.loc[info["kind"] == "geneset_answer", "n_texts"].sum())

    saved = answers()
    assert saved > 0
    count = tmp_path / "asked.json"
    again = subprocess.run([sys.executable, "-c", RERUN, str(out), str(count)], capture_output=True, text=True,
                           env=env, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    total = answers()
    assert 0 < saved < total
    assert json.loads(count.read_text()) == total - saved  # the saved batch is not asked again
    assert (out / "report.md").is_file() and "gene-set naming" in (out / "run.log").read_text()
