"""Export a finished run as a slim adapter folder: what a package or a colleague needs, nothing more."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from .._settings import follow_umask
from ._finetune import PROVENANCE


def export_adapter(run: str | os.PathLike, dest: str | os.PathLike, *, dtype: str = "float16",
                   scores: dict | None = None, command: str | None = None, overwrite: bool = False) -> Path:
    """Write a finished run's LoRA adapter to ``dest``, in ``dtype``, with its provenance.

    The export holds ``adapter_config.json``, ``adapter_model.safetensors`` (the LoRA
    weights cast to ``dtype``: float16 halves a float32 adapter and changes its outputs
    by rounding only) and ``bftbio_provenance.json``: the run's provenance, plus the
    export's dtype, date, the ``command`` that retrains it and any ``scores`` measured.
    Load it like any adapter: ``load_llm(adapter=dest)``.

    Parameters
    ----------
    run
        A finished :func:`finetune` output folder.
    dest
        The folder to write; refused if it exists unless ``overwrite=True``.
    dtype
        ``"float16"``, ``"bfloat16"`` or ``"float32"``.
    """
    import torch
    from safetensors.torch import load_file, save_file

    run, dest = Path(run), Path(dest)
    if not (run / PROVENANCE).is_file():
        raise FileNotFoundError(f"{run} is not a finished bftbio training run (no {PROVENANCE})")
    if dtype not in ("float16", "bfloat16", "float32"):
        raise ValueError(f"dtype must be 'float16', 'bfloat16' or 'float32', got {dtype!r}")
    if dest.exists():
        if not overwrite:
            raise FileExistsError(f"{dest} exists; pass overwrite=True to replace it")
        shutil.rmtree(dest)
    weights = {k: v.to(getattr(torch, dtype)).contiguous() for k, v in load_file(run / "adapter_model.safetensors").items()}
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_file(weights, staging / "adapter_model.safetensors")
    config = json.loads((run / "adapter_config.json").read_text())
    provenance = json.loads((run / PROVENANCE).read_text())
    config["base_model_name_or_path"] = provenance.get("base_model", config.get("base_model_name_or_path"))
    (staging / "adapter_config.json").write_text(json.dumps(config, indent=2))
    provenance["export"] = {"from": run.name, "dtype": dtype, "date": time.strftime("%Y-%m-%d"),
                            "command": command, "scores": scores or {}}
    (staging / PROVENANCE).write_text(json.dumps(provenance, indent=1, default=str))
    for written in (staging, *staging.iterdir()):
        follow_umask(written)  # safetensors writes its file 0600
    staging.rename(dest)  # the folder appears whole or not at all
    return dest
