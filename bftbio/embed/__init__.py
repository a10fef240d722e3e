"""Gene embeddings: model-written (or knowledge-base) profiles, embedded by a sentence encoder."""

from ._cells import DEFAULT_RECIPE, SENTENCE_GENES, WEIGHTS, cell_sentence_vectors, cell_sentences, cell_vectors
from ._embed import (
    KNOWLEDGE_OPTIONS,
    MAX_CHARS,
    PROFILE_PROMPT,
    PROMPT_VERSION,
    SOURCES,
    embed_genes,
    gene_profiles,
    parse_shard,
    shard_of,
)

__all__ = ["DEFAULT_RECIPE", "KNOWLEDGE_OPTIONS", "MAX_CHARS", "PROFILE_PROMPT", "PROMPT_VERSION", "SENTENCE_GENES",
           "SOURCES", "WEIGHTS", "cell_sentence_vectors", "cell_sentences", "cell_vectors", "embed_genes", "gene_profiles",
           "parse_shard", "shard_of"]
