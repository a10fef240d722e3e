"""The one cached path of every feature: the default store, and texts or vectors looked up before they are computed."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .._settings import settings
from ._store import Store


def default_store() -> Store:
    """The store at the settings' cache directory (one per path, reused)."""
    path = settings.cachedir / "store.sqlite"
    store = _OPEN.get(path)
    if store is None:
        store = _OPEN[path] = Store(path)
    return store


_OPEN: dict[Path, Store] = {}


def cached_texts(store: Store | None, kind: str, params: Mapping, keys: Sequence[str],
                 compute: Callable[[list[str], Callable[[Mapping[str, str]], None]], None]) -> dict[str, str]:
    """The text of every key: what ``store`` holds under ``(kind, params)``, and the rest computed.

    The one cached path of every feature that makes texts with a model. ``compute(missing,
    save)`` gets the keys the store lacks, in first-seen order, and calls ``save({key:
    text})`` as results arrive; each call is committed at once, so a killed run loses at
    most what was in flight, and a second run computes nothing. ``compute`` is not called
    when nothing is missing (load the model inside it). With ``store=None`` everything is
    computed and nothing kept.
    """
    namespace = store.namespace(kind, params) if store is not None else None
    texts = store.get_texts(namespace, keys) if store is not None else {}
    missing = [k for k in dict.fromkeys(keys) if k not in texts]
    if missing:
        def save(batch: Mapping[str, str]) -> None:
            texts.update(batch)
            if store is not None:
                store.put_texts(namespace, dict(batch))

        compute(missing, save)
        lost = [k for k in missing if k not in texts]
        if lost:
            raise RuntimeError(f"{kind}: {len(lost)} of {len(missing)} texts were never saved, e.g. {lost[0]!r}")
    return texts


def cached_vectors(store: Store | None, kind: str, params: Mapping, keys: Sequence[str],
                   compute: Callable[[list[str], Callable[[Sequence[str], np.ndarray], None]], None]
                   ) -> dict[str, np.ndarray]:
    """The vector of every key: what ``store`` holds under ``(kind, params)``, and the rest computed.

    The vector counterpart of :func:`cached_texts`: ``compute(missing, save)`` gets the keys
    the store lacks, in first-seen order, and calls ``save(keys, array)`` (one row per key)
    as results arrive; each call is committed at once. With ``store=None`` everything is
    computed and nothing kept.
    """
    namespace = store.namespace(kind, params) if store is not None else None
    vectors = store.get_vectors(namespace, keys) if store is not None else {}
    missing = [k for k in dict.fromkeys(keys) if k not in vectors]
    if missing:
        def save(batch_keys: Sequence[str], array: np.ndarray) -> None:
            array = np.asarray(array, dtype=np.float32)
            if store is not None:
                store.put_vectors(namespace, batch_keys, array)
            vectors.update(zip(batch_keys, array))

        compute(missing, save)
        lost = [k for k in missing if k not in vectors]
        if lost:
            raise RuntimeError(f"{kind}: {len(lost)} of {len(missing)} vectors were never saved, e.g. {lost[0]!r}")
    return vectors


def open_store(store: Store | str | os.PathLike | None = None, *, cache: bool = True) -> Store | None:
    """The store a feature reads and writes: the ``store`` given (a :class:`Store` or a path), else the default one.

    ``cache=False`` returns None: the feature then computes everything and keeps nothing.
    """
    if not cache:
        return None
    if store is None:
        return default_store()
    if isinstance(store, Store):
        return store
    if not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"store must be a Store, a path or None, got {type(store).__name__}")
    return Store(store)
