"""Condition labels: which genes a condition perturbs (GEARS's ``"A+ctrl"``, ``"A+B"``,
``"ctrl"``), and the short listings that error messages use."""

from __future__ import annotations

from collections.abc import Sequence

_SHOWN = 10


def listing(items: Sequence[str]) -> str:
    """The first ten items, quoted, and how many more: for warnings and errors."""
    shown = ", ".join(repr(i) for i in items[:_SHOWN])
    return shown + (f", ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def parse_condition(condition: str, *, control: str = "ctrl", separator: str = "+") -> tuple[str, ...]:
    """The genes a condition label perturbs: ``()`` for the control.

    ``"CBL+ctrl"`` → ``("CBL",)``, ``"CBL+CNN1"`` → ``("CBL", "CNN1")``, ``"ctrl"`` → ``()``
    (GEARS's convention; ``control`` and ``separator`` make it fit other files).

    Examples
    --------
    >>> parse_condition("CBL+CNN1")
    ('CBL', 'CNN1')
    >>> parse_condition("TP53_ctrl", separator="_")
    ('TP53',)
    """
    if condition == control:
        return ()
    parts = [p.strip() for p in str(condition).split(separator)]
    if any(p == "" for p in parts):
        raise ValueError(f"condition {condition!r}: empty gene name around the separator {separator!r}")
    return tuple(p for p in parts if p != control)
