"""The fault suite's figures for docs/promises.md: faults tried, survived, silently wrong.

Reads the tables of docs/promises.md (one row per fault, with the tests that try it), runs
every test they name once, and counts per fault:

* tried: rows of the page;
* survived with nothing lost: every test of the row passed (the test asserts the clear
  error, or that nothing beyond the item in flight was lost);
* silently wrong: a row whose test failed (a fault the suite no longer holds; the goal is 0).

    python benchmarks/fault_suite.py [--out benchmarks/results/fault_suite.csv]

It writes one row per fault to the CSV and prints the totals.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "promises.md"


def faults() -> list[dict]:
    """Rows of the page's tables: fault, and the test ids in its last column (``same test``: the row above's)."""
    rows, previous = [], []
    for line in PAGE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("fault", "---") or set(cells[0]) <= {"-"}:
            continue
        tests = re.findall(r"`(tests/[^`]+)`", cells[2]) or (previous if "same test" in cells[2] else [])
        if not tests:
            raise ValueError(f"docs/promises.md: no test named for {cells[0]!r}")
        rows.append({"fault": cells[0], "tests": tests})
        previous = tests
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fault_suite.csv"))
    args = parser.parse_args()
    import pandas as pd

    rows = faults()
    ids = sorted({t for r in rows for t in r["tests"]})
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                        *ids], cwd=ROOT)
        outcome = {}
        for case in ET.parse(report).getroot().iter("testcase"):
            path = case.get("classname").replace(".", "/") + ".py"
            failed = any(child.tag in ("failure", "error", "skipped") for child in case)
            name = case.get("name").split("[")[0]
            outcome[f"{path}::{name}"] = outcome.get(f"{path}::{name}", True) and not failed
            outcome[path] = outcome.get(path, True) and not failed
    table = pd.DataFrame([{"fault": r["fault"], "tests": " ".join(r["tests"]),
                           "survived": all(outcome.get(t, False) for t in r["tests"])} for r in rows])
    table.to_csv(args.out, index=False)
    survived = int(table["survived"].sum())
    print(f"faults tried: {len(table)}; survived with nothing lost (or named in a clear error): {survived}; "
          f"silently wrong or no longer held: {len(table) - survived}")


if __name__ == "__main__":
    main()
