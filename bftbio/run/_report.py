"""The run directory's report.md (from templates/report.md), results.csv, settings.json, and the terminal summary."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from .._settings import package_versions, settings
from ._config import RunConfig
from ._section import Section, render


def write_report(path: Path, sections: list[Section], *, cfg: RunConfig, quick: bool, data: dict,
                 steps: list[tuple[str, float]], total: float) -> None:
    """report.md, results.csv (every section's tidy rows) and settings.json."""
    import pandas as pd

    text = render(
        "report",
        finished=f"{datetime.now():%Y-%m-%d %H:%M}",
        total=f"{total:.0f}",
        quick=" (quick settings: a smoke run)" if quick else "",
        device=settings.resolve_device(),
        model=settings.default_model,
        encoder=settings.default_encoder,
        sections="\n".join(section.render() for section in sections),
        steps="\n".join(f"- {name}: {sec:.1f} s" for name, sec in steps),
        versions="\n".join(f"- {k}: {v}" for k, v in package_versions().items()),
    )
    (path / "report.md").write_text(text)
    frames = [s.results for s in sections if s.results is not None]
    pd.concat(frames, ignore_index=True).to_csv(path / "results.csv", index=False)
    (path / "settings.json").write_text(json.dumps(
        {"quick": quick, "config": cfg.to_dict(), "settings": repr(settings),
         "data": {k: str(v) if v else None for k, v in data.items()}, "versions": package_versions()},
        indent=1))


def summary(sections: list[Section], path: Path, *, total: float, quick: bool) -> list[str]:
    """The few lines the terminal shows at the end: each task's headline beside its anchor and baselines."""
    return [f"bftbio run finished in {total:.0f} s{' (quick settings: a smoke run)' if quick else ''}",
            *[line for section in sections for line in section.summary],
            f"  report: {path / 'report.md'}"]
