"""Run the tutorial notebooks top to bottom with small settings.

Each notebook in ``tutorials/`` has one code cell tagged ``parameters`` (the papermill
convention) that holds its settings. :func:`run_notebook` executes the notebook with
nbclient in its own folder, after inserting a cell right below that one that
overrides some settings (smaller budgets for CI), and returns the executed notebook
so a test can check what the cells printed. A cell that raises fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "tutorials"


def _override_cell(nbformat, params: dict):
    lines = ["# injected by the test suite: small settings"]
    lines += [f"{name} = {value!r}" for name, value in params.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    return cell


def run_notebook(name: str, params: dict | None = None, timeout: int = 1200):
    """Execute ``tutorials/<name>`` with ``params`` overriding its parameters cell."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = TUTORIALS / name
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name} needs exactly one code cell tagged 'parameters', found {len(tagged)}"
    if params:
        nb.cells.insert(tagged[0] + 1, _override_cell(nbformat, params))
    env_before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(TUTORIALS)}})
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_before
    return nb


def cell_text(nb) -> str:
    """Everything the executed notebook printed or displayed as text."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if "text" in o:
                out.append(o["text"])
            elif "data" in o and "text/plain" in o["data"]:
                out.append(o["data"]["text/plain"])
    return "\n".join(out)


@pytest.fixture(autouse=True)
def kernel_environment(monkeypatch, request):
    """The notebook kernel imports this checkout's bftbio (installed or not) and reads the shared data."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(dict.fromkeys(paths)))
    # Notebooks read the benchmark data that ship with the package, as a new user's would.
    monkeypatch.delenv("BFTBIO_DATA", raising=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The benchmark data that ship with the package (data/benchmarks)."""
    from bftbio.datasets import packaged_dir

    return packaged_dir()
