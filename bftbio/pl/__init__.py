"""Figures drawn from tidy result frames; each function returns its matplotlib Axes.

matplotlib is imported inside the functions, so ``import bftbio.pl`` stays cheap.
"""

from ._bars import metric_bars
from ._curves import prc_curves, roc_curves
from ._perturbation import perturbation_scatter
from ._similarity import similarity_distributions
from ._training import training_curves

__all__ = ["metric_bars", "perturbation_scatter", "prc_curves", "roc_curves", "similarity_distributions", "training_curves"]
