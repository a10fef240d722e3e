"""The persistent cache of generated texts and vectors, shared by every feature."""

from ._cached import cached_texts, cached_vectors, default_store, open_store
from ._store import VERSION, Store, StoreError, StoreIntegrityWarning, merge_stores, namespace_id

__all__ = ["VERSION", "Store", "StoreError", "StoreIntegrityWarning", "cached_texts", "cached_vectors",
           "default_store", "merge_stores", "namespace_id", "open_store"]
