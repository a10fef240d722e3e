"""bftbio: Balanced Fine-Tuning of language models on gene knowledge.

The top level stays light: ``import bftbio`` imports neither torch nor
transformers. Subpackages are loaded on first attribute access.

>>> import bftbio
>>> bftbio.settings.cachedir  # doctest: +SKIP
PosixPath('/home/me/.cache/bftbio')
"""

from __future__ import annotations

import importlib

from ._settings import settings

__version__ = "0.1.0"

_SUBPACKAGES = ("knowledge", "models", "store", "datasets", "metrics", "train", "embed", "tl", "tasks", "pl", "run")

__all__ = ["settings", "__version__", "embed_genes", *_SUBPACKAGES]


def __getattr__(name: str):
    # Lazy subpackages (PEP 562): `bftbio.knowledge` works without an explicit
    # import, and `import bftbio` stays cheap.
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name == "embed_genes":
        return importlib.import_module(".embed", __name__).embed_genes
    raise AttributeError(f"module 'bftbio' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
