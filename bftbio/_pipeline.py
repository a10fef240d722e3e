"""The main job: everything bftbio can do, end to end, into one run directory.

It grows with the product. Today it checks the knowledge base, writes gene
profiles with the default language model and from the knowledge base, embeds
both with the default encoder, and reports how the gene vectors relate.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from pathlib import Path

from ._settings import logger, package_versions, settings

DEMO_GENES = ["TP53", "MDM2", "CDKN1A", "BRCA1", "HBB", "HBA1", "CD3E", "MS4A1", "ALB", "INS"]
DEMO_NAMES = ["p53", "HER2", "7157", "ENSG00000141510", "NOT_A_GENE"]


def _prepare_out(out: str | Path | None, overwrite: bool) -> Path:
    path = Path(out) if out else Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise FileExistsError(f"run directory {path} is not empty; choose another --out or pass --overwrite")
    path.mkdir(parents=True, exist_ok=True)
    return path



def run_main_job(
    out: str | Path | None = None, *, quick: bool = False, overwrite: bool = False, data: str | Path | None = None
) -> Path:
    """Run the main job and return its run directory.

    Parameters
    ----------
    out
        The run directory (default ``runs/<date-time>``); it must be empty or new
        unless ``overwrite``.
    quick
        A smaller budget (fewer genes, shorter profiles).
    overwrite
        Allow writing into a non-empty run directory.
    data
        Folder holding the benchmark data (``geneagent/``, ``gene2vec/``); default
        ``$BFTBIO_DATA``. Benchmarks whose files are missing are skipped, with a note.
    """
    import pandas as pd

    from . import knowledge
    from .knowledge import knowledge_profile
    from .models import generate_texts, load_encoder, load_llm

    path = _prepare_out(out, overwrite)
    handler = logging.FileHandler(path / "run.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    if logger.level > logging.INFO:
        settings.verbosity = "info"
    started = time.perf_counter()
    steps: list[tuple[str, float]] = []

    def step(name: str, t0: float) -> None:
        steps.append((name, time.perf_counter() - t0))
        logger.info("%s: %.1f s", name, steps[-1][1])

    try:
        # 1. Knowledge base.
        t0 = time.perf_counter()
        table = knowledge.genes()
        resolved = knowledge.resolve_symbols(DEMO_NAMES, warn=False)
        kb_facts = {
            "genes": len(table),
            "protein-coding genes": int((table["type"] == "protein-coding").sum()),
            "GO BP gene sets (3-100 genes, propagated)": len(knowledge.gene_sets("BP", min_size=3, max_size=100)),
        }
        resolved.rename("official symbol").rename_axis("name").to_frame().to_csv(path / "symbol_resolution.csv")
        step("knowledge base", t0)

        # 2. Profiles: from the knowledge base, and written by the language model.
        genes = DEMO_GENES[:6] if quick else DEMO_GENES
        max_new_tokens = 48 if quick else 160
        t0 = time.perf_counter()
        kb_profiles = [knowledge_profile(g) for g in genes]
        llm = load_llm("default")
        llm_profiles = generate_texts(llm, [f"Tell me about gene {g}." for g in genes], max_new_tokens=max_new_tokens)
        profiles = pd.DataFrame({"gene": genes, "knowledge": kb_profiles, "language_model": llm_profiles})
        profiles.to_csv(path / "profiles.csv", index=False)
        step("profiles", t0)

        # 3. Embeddings and their similarities.
        t0 = time.perf_counter()
        encoder = load_encoder("default")
        rows = []
        for source in ("knowledge", "language_model"):
            vectors = encoder.encode(profiles[source].tolist(), progress=False)
            sims = vectors @ vectors.T
            for i, a in enumerate(genes):
                for j, b in enumerate(genes):
                    if i < j:
                        rows.append({"source": source, "gene_a": a, "gene_b": b, "cosine": float(sims[i, j])})
        similarity = pd.DataFrame(rows)
        similarity.to_csv(path / "similarity.csv", index=False)
        step("embeddings", t0)

        def cos(source, a, b):
            sel = similarity[(similarity.source == source) & (similarity.gene_a.isin([a, b]))
                             & (similarity.gene_b.isin([a, b]))]
            return float(sel["cosine"].iloc[0])

        checks = pd.DataFrame(
            [{"source": s, "cos(TP53, MDM2)": cos(s, "TP53", "MDM2"), "cos(TP53, HBB)": cos(s, "TP53", "HBB")}
             for s in ("knowledge", "language_model")]
        )
        # 4. Gene-set naming baselines beside GeneAgent's published answers.
        t0 = time.perf_counter()
        naming = _gene_set_naming(path, data, quick)
        step("gene-set naming baselines", t0)

        total = time.perf_counter() - started
        _write_report(path, kb_facts, resolved, profiles, checks, naming, steps, total, quick)
        print(f"bftbio run finished in {total:.0f} s; report: {path / 'report.md'}")
        print(checks.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    finally:
        logger.removeHandler(handler)
        handler.close()
    return path


def _gene_set_naming(path: Path, data, quick: bool):
    """ROUGE-L of the no-LLM baselines and the published answers, or None without the files."""
    from .datasets import dataset_dir
    from .tasks import benchmark_gene_set_naming

    folder = dataset_dir("geneagent", Path(data) / "geneagent" if data else None)
    if not (folder / "datasets").is_dir():
        logger.info("gene-set naming skipped: no GeneAgent files (pass --data or set BFTBIO_DATA)")
        return None
    datasets = ("NeST", "MSigDB") if quick else ("NeST", "MSigDB", "GO")
    # --quick scores ROUGE only; the full run adds encoder similarity and percentiles
    # (the ~28,000 background names are encoded once, then served by the store).
    table = benchmark_gene_set_naming(datasets, data=folder, encoder=None if quick else "default")
    table.to_csv(path / "gene_set_naming.csv", index=False)
    wide = table[table.metric == "rougeL"].pivot_table(index="method", columns="dataset", values="value", sort=False)
    return wide.reset_index()


def _write_report(path, kb_facts, resolved, profiles, checks, naming, steps, total, quick) -> None:
    from . import knowledge

    prov = knowledge.provenance()
    lines = [
        "# bftbio run report",
        "",
        f"Finished {datetime.now():%Y-%m-%d %H:%M}, {total:.0f} s{' (quick)' if quick else ''}, device "
        f"`{settings.resolve_device()}`, model `{settings.default_model}`, encoder `{settings.default_encoder}`.",
        "",
        "## Knowledge base",
        "",
        *[f"- {k}: {v:,}" for k, v in kb_facts.items()],
        "- sources: " + ", ".join(f"{k} {v}" for k, v in prov.get("source_dates", {}).items())
        + " (Debian " + ", ".join(f"{p['debian_package']} {p['debian_version']}" for p in prov.get("packages", {}).values()) + ")",
        "",
        "Symbol resolution:",
        "",
        "| name | official symbol |",
        "|---|---|",
        *[f"| {n} | {s if isinstance(s, str) else '(unknown)'} |" for n, s in resolved.items()],
        "",
        "## Gene profiles and their embeddings",
        "",
        "Cosine similarity of the encoder's vectors of each profile (a related pair should score above "
        "an unrelated one):",
        "",
        _markdown_table(checks),
        "",
        "What the language model wrote (first 300 characters):",
        "",
        *[f"- **{g}**: {t[:300]}" for g, t in zip(profiles["gene"], profiles["language_model"])],
        "",
        "## Gene-set naming (GeneAgent benchmark), mean ROUGE-L",
        "",
        _markdown_table(naming) if naming is not None else
        "Skipped: the GeneAgent files were not found (pass `--data DIR` or set `BFTBIO_DATA`).",
        "",
        "## Steps",
        "",
        *[f"- {name}: {sec:.1f} s" for name, sec in steps],
        "",
        "## Versions",
        "",
        *[f"- {k}: {v}" for k, v in package_versions().items()],
        "",
    ]
    (path / "report.md").write_text("\n".join(lines))
    (path / "settings.json").write_text(json.dumps({"quick": quick, "settings": repr(settings)}, indent=1))


def _markdown_table(frame) -> str:
    """A small DataFrame as a markdown table (no tabulate dependency)."""
    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)
