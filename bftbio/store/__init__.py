"""The persistent cache of generated texts and vectors, shared by every feature."""

from ._store import Store, default_store, namespace_id, open_store

__all__ = ["Store", "default_store", "namespace_id", "open_store"]
