"""Scores of process names against curated ones: ROUGE, embedding similarity, background rank.

GeneAgent's evaluation (Wang et al., Nature Methods 2025): ROUGE-1/2/L F-measures
with stemming, the cosine similarity of sentence embeddings between the proposed
and the curated name, and where the curated name ranks, by similarity to the
proposal, among a background of process names (about 12,000 GO BP term names in
the paper).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ... import knowledge
from ...metrics import rouge_scores
from ...models import Encoder, encoder_record, session_encoder
from ...store import Store, cached_vectors, open_store

TASK = "gene_set_naming"
COLUMNS = ["task", "dataset", "split", "method", "metric", "value", "n"]
_ENCODE_CHUNK = 2048  # names encoded and committed to the store together
_RANK_CHUNK = 256  # predictions ranked against the background together


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _present(name) -> bool:
    return isinstance(name, str) and bool(name.strip())


def default_background(names: Sequence[str] = ()) -> list[str]:
    """Every GO BP term name of the knowledge base, then ``names``; unique (case-blind), in that order."""
    out: dict[str, str] = {}
    for name in [*knowledge.go_terms("BP")["name"].tolist(), *names]:
        if _present(name):
            out.setdefault(_norm(name), name.strip())
    return list(out.values())


class _NameScorer:
    """Vectors of names (cached in the store) and ranks against one background.

    The background is encoded once; each prediction's similarities to it are
    computed once and kept sorted, so scoring several methods, or many shuffles
    of the same names, costs one matrix product per distinct prediction.
    """

    def __init__(self, encoder, background: Sequence[str], *, store: Store | None, progress) -> None:
        self._encoder = encoder
        self._store = store if isinstance(encoder, (str, Encoder)) else None  # a duck-typed encoder: no cache
        self._params = {**encoder_record(encoder), "normalised": True} if self._store is not None else {}
        self.progress = progress
        unique: dict[str, str] = {}
        for name in background:
            if _present(name):
                unique.setdefault(_norm(name), name.strip())
        if not unique:
            raise ValueError("the background holds no names")
        self.background = list(unique.values())
        self._position = {key: j for j, key in enumerate(unique)}
        self._vectors: dict[str, np.ndarray] = {}
        self._matrix: np.ndarray | None = None
        self._sorted: dict[str, np.ndarray] = {}

    def _model(self):
        if isinstance(self._encoder, (str, Encoder)):
            self._encoder = session_encoder(self._encoder)
            return lambda texts: self._encoder.encode(texts, progress=False)
        return lambda texts: np.asarray(self._encoder.encode(list(texts)), dtype=np.float32)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` (from memory, the store, or the encoder)."""
        wanted = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if wanted:
            def compute(missing: list[str], save) -> None:
                from ..._settings import progress as progress_display

                encode = self._model()
                chunks = [missing[i : i + _ENCODE_CHUNK] for i in range(0, len(missing), _ENCODE_CHUNK)]
                for chunk in progress_display(chunks, "encoding names", unit="chunk", show=self.progress):
                    array = np.asarray(encode(chunk), dtype=np.float32)
                    norms = np.linalg.norm(array, axis=1, keepdims=True)
                    save(chunk, array / np.where(norms > 0, norms, 1))

            self._vectors.update(cached_vectors(self._store, "name_vector", self._params, wanted, compute))
        if not len(texts):
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = self.vectors(self.background)
        return self._matrix

    def _sorted_rows(self, predictions: Sequence[str]) -> None:
        todo = [p for p in dict.fromkeys(predictions) if p not in self._sorted]
        for start in range(0, len(todo), _RANK_CHUNK):
            chunk = todo[start : start + _RANK_CHUNK]
            sims = self.vectors(chunk) @ self.matrix.T
            sims.sort(axis=1)
            self._sorted.update(zip(chunk, sims))

    def per_set(self, predicted: Sequence[str | None], truth: Sequence[str]) -> pd.DataFrame:
        """Similarity and background percentile of each prediction (see :func:`process_name_scores`)."""
        present = [i for i, p in enumerate(predicted) if _present(p)]
        similarity = np.zeros(len(predicted))
        percentile = np.zeros(len(predicted))
        if present:
            preds = [predicted[i].strip() for i in present]
            trues = [truth[i].strip() for i in present]
            p_vec, t_vec = self.vectors(preds), self.vectors(trues)
            self._sorted_rows(preds)
            n_background = len(self.background)
            for k, i in enumerate(present):
                s = float(p_vec[k] @ t_vec[k])
                below = int(np.searchsorted(self._sorted[preds[k]], s, side="left"))
                n = n_background
                own = self._position.get(_norm(trues[k]))
                if own is not None:  # the curated name itself is not its own competitor
                    n -= 1
                    if float(p_vec[k] @ self.matrix[own]) < s:
                        below -= 1
                similarity[i] = s
                percentile[i] = 100.0 * below / n if n > 0 else np.nan
        return pd.DataFrame({"similarity": similarity, "percentile": percentile})


def _check_pairs(predicted, truth) -> tuple[list, list]:
    if isinstance(predicted, str) or isinstance(truth, str):
        raise TypeError("predicted and truth must be sequences of names, not one string")
    predicted, truth = list(predicted), list(truth)
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predicted names but {len(truth)} true names")
    bad = [i for i, t in enumerate(truth) if not _present(t)]
    if bad:
        raise ValueError(f"true names must be non-empty strings; positions {bad[:10]} are not")
    return predicted, truth


def _scorer(encoder, background, truth, store, cache, progress) -> _NameScorer:
    """A scorer whose background is ``background`` (default: GO BP names) plus the true names."""
    names = default_background(truth) if background is None else list(background) + list(truth)
    return _NameScorer(encoder, names, store=open_store(store, cache=cache), progress=progress)


def process_name_scores(
    predicted: Sequence[str | None],
    truth: Sequence[str],
    *,
    encoder="default",
    background: Sequence[str] | None = None,
    set_ids: Sequence | None = None,
    cache: bool = True,
    store: Store | str | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Per-set scores of predicted process names against the true ones (for tables and figures).

    Parameters
    ----------
    predicted
        Proposed names; None or empty for a set left unnamed (it scores 0 everywhere).
    truth
        Curated names, one per prediction.
    encoder
        ``"default"`` (all-MiniLM-L6-v2), any Hugging Face encoder id or folder
        (e.g. MedCPT or SapBERT, where available), an :class:`bftbio.models.Encoder`,
        any object with an ``encode(texts)`` method returning one vector per text
        (not cached), or None for ROUGE only.
    background
        Names the true name competes with. Default: every GO BP term name of the
        knowledge base. The true names are always added; duplicates (case-blind)
        count once, and a set's own true name is left out of its competitors.
    set_ids
        Labels of the sets, kept in a ``set_id`` column.
    cache
        Read and write name vectors in the store (keyed by encoder and name), so
        the background is encoded once.
    store
        A :class:`bftbio.store.Store` or its file; default the one in
        :attr:`bftbio.settings.cachedir`.
    progress
        Progress bars; default :attr:`bftbio.settings.progress`.

    Returns
    -------
    DataFrame, one row per pair: ``set_id`` (when given), ``predicted``, ``truth``,
    ``rouge1``, ``rouge2``, ``rougeL`` (:func:`bftbio.metrics.rouge_scores`),
    ``similarity`` (cosine of the two names' embeddings) and ``percentile`` (100 x
    the share of background names, other than the true one, less similar to the
    prediction than the true name is; ties count against). ``attrs["background_n"]``
    is the number of distinct background names, true names included.

    Examples
    --------
    >>> process_name_scores(["DNA repair process"], ["DNA repair"], encoder=None)[["rouge1", "rougeL"]].round(2)
       rouge1  rougeL
    0     0.8     0.8
    """
    predicted, truth = _check_pairs(predicted, truth)
    scorer = None if encoder is None else _scorer(encoder, background, truth, store, cache, progress)
    return scores_with(scorer, predicted, truth, set_ids)


def scores_with(scorer: _NameScorer | None, predicted, truth, set_ids=None) -> pd.DataFrame:
    """:func:`process_name_scores` with a scorer made beforehand (None: ROUGE only)."""
    predicted, truth = _check_pairs(predicted, truth)
    frame = pd.DataFrame({"predicted": predicted, "truth": truth})
    if set_ids is not None:
        frame.insert(0, "set_id", list(set_ids))
    frame = pd.concat([frame, rouge_scores(predicted, truth)], axis=1)
    if scorer is None:
        frame["similarity"] = np.nan
        frame["percentile"] = np.nan
        frame.attrs["background_n"] = 0
        return frame
    ranks = scorer.per_set(predicted, truth)
    frame["similarity"] = ranks["similarity"].to_numpy()
    frame["percentile"] = ranks["percentile"].to_numpy()
    frame.attrs["background_n"] = len(scorer.background)
    return frame


def summary_metrics(per_set: pd.DataFrame) -> dict[str, float]:
    """The metrics of one method from its per-set scores (see :func:`score_process_names`)."""
    values = {m: float(per_set[m].mean()) for m in ("rouge1", "rouge2", "rougeL")}
    if per_set["similarity"].notna().any():
        values["similarity"] = float(per_set["similarity"].mean())
        values["percentile"] = float(per_set["percentile"].mean())
        values["share_p90"] = float((per_set["percentile"] >= 90).mean())
        values["share_p95"] = float((per_set["percentile"] >= 95).mean())
        values["background_n"] = float(per_set.attrs.get("background_n", np.nan))
    values["no_answer"] = float(sum(not _present(p) for p in per_set["predicted"]))
    return values


def tidy_rows(values: dict[str, float], *, dataset: str, method: str, split: str, n: int) -> list[dict]:
    base = {"task": TASK, "dataset": dataset, "split": split, "method": method, "n": n}
    return [{**base, "metric": metric, "value": value} for metric, value in values.items()]


def score_process_names(
    predicted: Sequence[str | None],
    truth: Sequence[str],
    *,
    encoder="default",
    background: Sequence[str] | None = None,
    dataset: str = "custom",
    method: str = "predicted",
    split: str = "test",
    cache: bool = True,
    store: Store | str | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Score process names as GeneAgent does, as one tidy frame.

    Parameters
    ----------
    predicted, truth, encoder, background, cache, store, progress
        As in :func:`process_name_scores`.
    dataset, method, split
        Labels of the rows.

    Returns
    -------
    Tidy DataFrame ``task, dataset, split, method, metric, value, n`` (n: number
    of sets) with metrics ``rouge1``, ``rouge2``, ``rougeL`` (mean F-measures,
    stemmed), ``similarity`` (mean cosine similarity), ``percentile`` (mean
    background percentile of the true name), ``share_p90`` and ``share_p95``
    (share of sets whose true name ranks at or above the 90th / 95th percentile),
    ``background_n`` (N, distinct background names) and ``no_answer`` (sets left
    unnamed; they score 0). Without an encoder only the ROUGE rows and
    ``no_answer``.

    Examples
    --------
    >>> from bftbio.tasks import score_process_names
    >>> score_process_names(["apoptosis"], ["apoptotic process"])  # doctest: +SKIP
    """
    per_set = process_name_scores(predicted, truth, encoder=encoder, background=background, cache=cache,
                                  store=store, progress=progress)
    rows = tidy_rows(summary_metrics(per_set), dataset=dataset, method=method, split=split, n=len(per_set))
    return pd.DataFrame(rows, columns=COLUMNS)
