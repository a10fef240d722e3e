"""Figures drawn from tidy result frames; each function returns its matplotlib Axes.

matplotlib is imported inside the functions, so ``import bftbio.pl`` stays cheap.
"""

from ._curves import prc_curves, roc_curves

__all__ = ["prc_curves", "roc_curves"]
