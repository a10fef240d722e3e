"""Step: what each model writes about a few genes, beside the knowledge profile."""

from __future__ import annotations

from pathlib import Path

from ..store import Store
from ._config import RunConfig
from ._section import Section

DEMO_GENES = ["TP53", "MDM2", "HBB"]


def profiles_step(path: Path, cfg: RunConfig, models: dict, store: Store) -> Section:
    import pandas as pd

    from ..embed import gene_profiles

    table = pd.DataFrame({"gene": DEMO_GENES})
    table["knowledge"] = gene_profiles(DEMO_GENES, source="knowledge", store=store)["profile"].tolist()
    for label, adapter in models.items():
        texts = gene_profiles(DEMO_GENES, adapter=adapter, max_new_tokens=cfg.profile_tokens, store=store)
        table[label] = texts["profile"].tolist()
    table.to_csv(path / "profiles.csv", index=False)
    blocks = []
    for column in table.columns[1:]:
        lines = [f"- {g}: {str(t)[:240].replace(chr(10), ' ')}" for g, t in zip(table["gene"], table[column])]
        blocks.append(f"**{column}**\n\n" + "\n".join(lines))
    return Section("profiles", fields={"genes": ", ".join(DEMO_GENES), "profiles": "\n\n".join(blocks)})


def embedding_methods(cfg: RunConfig, models: dict, store: Store) -> dict:
    """``{method: embed_genes options}`` the embedding tasks compare: knowledge, and each model with each source."""
    methods = {"knowledge": {"source": "knowledge", "store": store}}
    for source in cfg.sources:
        for label, adapter in models.items():
            spec = {"source": source, "adapter": adapter, "store": store}
            if source == "profile":
                spec["max_new_tokens"] = cfg.profile_tokens
            methods[f"{source} ({label})"] = spec
    return methods
