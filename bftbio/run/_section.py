"""What each step of the main job hands on: a tidy frame, its part of the report, its summary line."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Section:
    """One step's result.

    ``results`` holds its figures as tidy rows (``task, dataset, split, method, metric,
    value``, ...), concatenated into the run's ``results.csv``; ``template`` names the
    markdown file in ``templates/`` that the report fills with ``fields``; ``summary`` is
    what the terminal shows of it at the end.
    """

    template: str
    fields: dict = field(default_factory=dict)
    results: pd.DataFrame | None = None
    summary: list[str] = field(default_factory=list)

    def render(self) -> str:
        return render(self.template, **self.fields)


def render(template: str, **fields) -> str:
    """``templates/<template>.md`` with its ``$placeholders`` filled (a missing one is a KeyError)."""
    text = (TEMPLATES / f"{template}.md").read_text(encoding="utf-8")
    return string.Template(text).substitute(fields).rstrip("\n") + "\n"


def fmt(value) -> str:
    """A figure as the report and the summary print it."""
    return "n/a" if value is None or value != value else f"{value:.3f}"


def span(low: float, high: float, *, signed: bool = False) -> str:
    """An interval as ``[low, high]``."""
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"[{f.format(low)}, {f.format(high)}]"


def save_figure(figure, target: Path, **options) -> None:
    """Write a figure as PNG and free it (a long job draws many)."""
    import matplotlib.pyplot as plt

    figure.savefig(target, dpi=120, **options)
    plt.close(figure)


def markdown_table(frame: pd.DataFrame) -> str:
    """A small DataFrame as a markdown table (no tabulate dependency)."""
    def cell(v):
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, float):
            return "" if v != v else f"{v:.3f}"
        return str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)
