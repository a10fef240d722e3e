"""The persistent cache of generated texts and vectors, shared by every feature."""

from ._store import (
    VERSION,
    Store,
    StoreError,
    StoreIntegrityWarning,
    cached_texts,
    cached_vectors,
    default_store,
    merge_stores,
    namespace_id,
    open_store,
)

__all__ = ["VERSION", "Store", "StoreError", "StoreIntegrityWarning", "cached_texts", "cached_vectors",
           "default_store", "merge_stores", "namespace_id", "open_store"]
