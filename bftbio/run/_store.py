"""The job's store: the default one, remembering which namespaces the run used (to export them)."""

from __future__ import annotations

from ..store import Store

STORE_KINDS = ("profile", "profile_vector", "knowledge_vector", "hidden_vector", "geneset_answer",
               "geneset_verification")  # what the run directory's store.sqlite keeps (not the name cache)


class RecordingStore(Store):
    """The default store, remembering which namespaces the run used (to export them)."""

    def __init__(self, path=None) -> None:
        super().__init__(path)
        self.used: set[str] = set()

    def namespace(self, kind: str, params) -> str:
        ns = super().namespace(kind, params)
        self.used.add(ns)
        return ns
