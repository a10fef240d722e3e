"""Gene embeddings: model-written (or knowledge-base) profiles, embedded by a sentence encoder."""

from ._embed import KNOWLEDGE_OPTIONS, MAX_CHARS, PROFILE_PROMPT, PROMPT_VERSION, SOURCES, embed_genes, gene_profiles

__all__ = ["KNOWLEDGE_OPTIONS", "MAX_CHARS", "PROFILE_PROMPT", "PROMPT_VERSION", "SOURCES", "embed_genes",
           "gene_profiles"]
