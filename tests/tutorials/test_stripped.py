"""Tutorials are kept in git without outputs: the test suite executes them."""

import json

import pytest

from tests.tutorials.conftest import TUTORIALS

NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))


def test_there_are_five_tutorials():
    assert len(NOTEBOOKS) == 5, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], f"{path.name} cell {i} has outputs: strip them"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
