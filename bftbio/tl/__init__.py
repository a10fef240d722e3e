"""AnnData tools in scanpy's style: write results into ``adata`` (or a copy when ``copy=True``)."""

from ._embed import cell_embeddings, embed_genes

__all__ = ["cell_embeddings", "embed_genes"]
