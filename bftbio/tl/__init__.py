"""AnnData tools in scanpy's style: write results into ``adata`` (or a copy when ``copy=True``)."""

from ._embed import cell_embeddings, cell_sentence_embeddings, embed_genes

__all__ = ["cell_embeddings", "cell_sentence_embeddings", "embed_genes"]
