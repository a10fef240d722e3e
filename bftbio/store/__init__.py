"""The persistent cache of generated texts and vectors, shared by every feature."""

from ._store import Store, cached_texts, default_store, namespace_id, open_store

__all__ = ["Store", "cached_texts", "default_store", "namespace_id", "open_store"]
