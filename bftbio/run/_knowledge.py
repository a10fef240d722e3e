"""Step: the knowledge base the job stands on (counts, sources, symbol resolution)."""

from __future__ import annotations

from pathlib import Path

from ._section import Section

DEMO_NAMES = ["p53", "HER2", "7157", "ENSG00000141510", "NOT_A_GENE"]


def knowledge_step(path: Path) -> Section:
    import pandas as pd

    from .. import knowledge

    table = knowledge.genes()
    resolved = knowledge.resolve_symbols(DEMO_NAMES, warn=False)
    resolved.rename("official symbol").rename_axis("name").to_frame().to_csv(path / "symbol_resolution.csv")
    facts = {
        "genes": len(table),
        "protein-coding genes": int((table["type"] == "protein-coding").sum()),
        "GO BP gene sets (3-100 genes, propagated)": len(knowledge.gene_sets("BP", min_size=3, max_size=100)),
    }
    prov = knowledge.provenance()
    sources = (", ".join(f"{k} {v}" for k, v in prov.get("source_dates", {}).items())
               + " (Debian " + ", ".join(f"{p['debian_package']} {p['debian_version']}"
                                         for p in prov.get("packages", {}).values()) + ")")
    results = pd.DataFrame({"task": "knowledge", "dataset": "snapshot", "split": "", "method": "",
                            "metric": list(facts), "value": list(facts.values())})
    return Section(
        "knowledge",
        fields={
            "facts": "\n".join(f"- {k}: {v:,}" for k, v in facts.items()),
            "sources": sources,
            "resolution": ", ".join(f"{n} → {s if isinstance(s, str) else '(unknown)'}" for n, s in resolved.items()),
        },
        results=results,
    )
