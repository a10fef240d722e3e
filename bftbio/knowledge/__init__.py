"""Human gene knowledge: NCBI Gene and the Gene Ontology, from a packaged snapshot.

Symbols, aliases and identifiers of human genes, GO terms and annotations,
and GO gene sets, read from a snapshot of the Bioconductor packages
org.Hs.eg.db and GO.db 3.16.0 (NCBI Gene 2022-09-12, GO 2022-07-01) that
ships with bftbio. Only pandas, numpy and scipy are imported; nothing reaches
the network except :func:`build_snapshot` when asked to download.

>>> from bftbio import knowledge as kb
>>> kb.resolve_symbols(["p53", "HER2"]).tolist()
['TP53', 'ERBB2']
"""

from ._annotations import background, go_annotations
from ._build import build_snapshot
from ._enrichment import enrichment
from ._evidence import ENRICHMENT_OPTIONS, GO_ID, gene_set_evidence
from ._gene_sets import gene_sets, propagate
from ._genes import aliases, genes
from ._ontology import ancestor_closure, ancestors, descendants, go_terms, ontology_names
from ._profile import knowledge_profile
from ._related import EXCLUSION_SETTINGS, related_terms
from ._resolve import resolve_symbols
from ._snapshot import provenance

__all__ = [
    "EXCLUSION_SETTINGS",
    "ENRICHMENT_OPTIONS",
    "GO_ID",
    "gene_set_evidence",
    "enrichment",
    "related_terms",
    "genes",
    "aliases",
    "resolve_symbols",
    "go_terms",
    "ontology_names",
    "go_annotations",
    "background",
    "gene_sets",
    "ancestors",
    "descendants",
    "provenance",
    "knowledge_profile",
    "build_snapshot",
    "ancestor_closure",
    "propagate",
]
