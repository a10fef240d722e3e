"""Instruction data from the knowledge base: gene profiles and gene-set → process.

Each fact is written in several wordings (question templates), because facts
trained in one wording are hard to retrieve in another at this model scale
(Allen-Zhu & Li, "Physics of Language Models 3.1", 2023); the probes of
:mod:`bftbio.train._probes` ask in yet another wording.

Benchmark hygiene: by default every GO term related (by
:func:`bftbio.knowledge.related_terms`) to a gene set of the GeneAgent benchmark
is kept out of the gene-set examples, and genes are split into train, validation
and test genes, seeded, so held-out questions are about genes never profiled in
training.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import knowledge
from .._settings import write_atomic
from ..prompts import ANSWER_PREFIX, naming_prompt

#: How long a training profile is: knowledge_profile options (short enough for CPU budgets).
PROFILE_OPTIONS = {"max_terms": 4, "max_chars": 600}

PROFILE_TEMPLATES = (
    "Tell me about gene {gene}.",
    "What is known about the human gene {gene}?",
    "Describe the function of {gene}.",
    "Summarize what the gene {gene} does.",
)
PROCESS_TEMPLATES = (
    "Which biological processes involve the gene {gene}?",
    "In which processes does {gene} take part?",
)


@dataclass
class TrainingData:
    """Prompt/answer records by split, and where they came from.

    Attributes
    ----------
    splits
        ``{"train": [...], "validation": [...], "test": [...]}``; each record is a
        dict with ``prompt``, ``answer``, ``kind`` (``profile``, ``processes``,
        ``gene_set`` or ``user``) and ``key`` (the gene or GO term it is about).
    genes
        The genes of each split.
    terms
        The GO terms (gene-set examples) of each split.
    provenance
        Sizes, seed, the exclusion rule with its settings and counts, and a hash.
    """

    splits: dict[str, list[dict]]
    genes: dict[str, list[str]] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"TrainingData({sizes})"

    def to_jsonl(self, folder: str | os.PathLike) -> Path:
        """Write ``<split>.jsonl`` files and ``provenance.json`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for split, records in self.splits.items():
            with open(folder / f"{split}.jsonl", "w") as fh:
                for r in records:
                    fh.write(json.dumps(r) + "\n")
        write_atomic(folder / "provenance.json", json.dumps(self.provenance, indent=1))
        write_atomic(folder / "splits.json", json.dumps({"genes": self.genes, "terms": self.terms}, indent=1))
        return folder

    @classmethod
    def from_folder(cls, folder: str | os.PathLike) -> TrainingData:
        """Read back what :meth:`to_jsonl` wrote."""
        folder = Path(folder)
        if not (folder / "train.jsonl").is_file():
            raise FileNotFoundError(f"{folder} holds no train.jsonl written by TrainingData.to_jsonl")
        splits = {}
        for f in sorted(folder.glob("*.jsonl")):
            with open(f) as fh:
                splits[f.stem] = [json.loads(line) for line in fh if line.strip()]
        extra = json.loads((folder / "splits.json").read_text()) if (folder / "splits.json").is_file() else {}
        provenance = json.loads((folder / "provenance.json").read_text()) if (folder / "provenance.json").is_file() else {}
        return cls(splits=splits, genes=extra.get("genes", {}), terms=extra.get("terms", {}), provenance=provenance)


def _hash(splits: dict[str, list[dict]]) -> str:
    digest = hashlib.sha256()
    for split in sorted(splits):
        for r in splits[split]:
            digest.update(json.dumps([split, r["prompt"], r["answer"]]).encode())
    return digest.hexdigest()[:16]


def benchmark_exclusion(
    exclude, *, data: str | os.PathLike | None = None, lineage: bool = True, jaccard: float | None = 0.5
) -> tuple[set[str], dict]:
    """The GO terms that training must not teach, and a record of why.

    Parameters
    ----------
    exclude
        ``"geneagent"`` (every gene set of the GeneAgent benchmark: 1,000 GO
        terms, NeST, MSigDB), None (nothing), or a dict with ``go_ids`` and/or
        ``gene_sets`` of the user's own held-out benchmark.
    data
        Folder of the GeneAgent files (see :func:`bftbio.datasets.geneagent_gene_sets`).
    lineage, jaccard
        The rule's settings (:func:`bftbio.knowledge.related_terms`), applied in all three
        ontologies: the near-duplicates of a benchmark set are kept out whether they are
        processes, functions or components.
    """
    if exclude is None:
        return set(), {"rule": None}
    go_ids: list[str] = []
    sets: list[list[str]] = []
    if exclude == "geneagent":
        from ..datasets import geneagent_gene_sets

        try:
            for name in ("GO", "NeST", "MSigDB"):
                frame = geneagent_gene_sets(name, path=data)
                if name == "GO":
                    go_ids += frame["set_id"].tolist()
                sets += [list(g) for g in frame["genes"]]
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f"{err}\nTraining data keeps the GeneAgent benchmark's gene sets out by default, so it needs "
                "those files: set $BFTBIO_DATA (or pass benchmark_data=...), call "
                "bftbio.datasets.download_geneagent(), or pass exclude=None to train without the exclusion."
            ) from None
        source = "GeneAgent benchmark (GO, NeST, MSigDB)"
    elif isinstance(exclude, dict):
        unknown = set(exclude) - {"go_ids", "gene_sets"}
        if unknown:
            raise ValueError(f"exclude dict takes 'go_ids' and 'gene_sets', got {sorted(unknown)}")
        go_ids = list(exclude.get("go_ids", ()))
        sets = [list(s) for s in exclude.get("gene_sets", ())]
        source = "user-given"
    else:
        raise ValueError(f"exclude must be 'geneagent', None or a dict of go_ids/gene_sets, got {exclude!r}")
    resolved = [set(knowledge.resolve_symbols(s, warn=False).dropna().tolist()) for s in sets]
    terms = set().union(*(knowledge.related_terms(go_ids, resolved, ontology=o, lineage=lineage, jaccard=jaccard)
                          for o in knowledge.ontology_names("all")))  # near-duplicates in every ontology
    record = {
        "rule": "bftbio.knowledge.related_terms",
        "source": source,
        "lineage": lineage,
        "jaccard": jaccard,
        "n_go_ids": len(go_ids),
        "n_gene_sets": len(sets),
        "n_terms_excluded": len(terms),
    }
    return terms, record


def _profile_records(gene: str, rng: random.Random, n_wordings: int) -> list[dict]:
    profile = knowledge.knowledge_profile(gene, **PROFILE_OPTIONS)
    records = [
        {"prompt": t.format(gene=gene), "answer": profile, "kind": "profile", "key": gene}
        for t in rng.sample(PROFILE_TEMPLATES, min(n_wordings, len(PROFILE_TEMPLATES)))
    ]
    return records


def _process_records(gene: str, processes: list[str], rng: random.Random) -> list[dict]:
    if not processes:
        return []
    answer = f"{gene} takes part in " + "; ".join(processes[:8]) + "."
    template = rng.choice(PROCESS_TEMPLATES)
    return [{"prompt": template.format(gene=gene), "answer": answer, "kind": "processes", "key": gene}]


def gene_set_answer(term_name: str, genes: list[str], processes_of: dict[str, list[str]]) -> str:
    """``Process: <name>`` and a short justification grounded in the genes' annotations."""
    grounded = [g for g in genes if processes_of.get(g)][:3]
    lines = [f"{ANSWER_PREFIX}{term_name}"]
    if grounded:
        facts = "; ".join(f"{g} is annotated to {', '.join(processes_of[g][:2])}" for g in grounded)
        lines.append(f"Several of these genes are annotated to this process or its parts: {facts}.")
    else:
        lines.append("These genes are annotated to this process in the Gene Ontology.")
    return "\n".join(lines)


def _gene_set_records(term: str, name: str, genes: tuple[str, ...], rng: random.Random,
                      processes_of: dict[str, list[str]], max_genes: int) -> list[dict]:
    shown = list(genes) if len(genes) <= max_genes else rng.sample(list(genes), max_genes)
    rng.shuffle(shown)
    # The naming request of bftbio.prompts without evidence: what name_gene_sets(evidence=False) asks.
    return [{"prompt": naming_prompt(shown), "answer": gene_set_answer(name, shown, processes_of),
             "kind": "gene_set", "key": term}]


def _split(items: list[str], fractions: tuple[float, float], rng: random.Random) -> dict[str, list[str]]:
    items = sorted(items)
    rng.shuffle(items)
    n_val, n_test = (max(1, round(len(items) * f)) if items else 0 for f in fractions)
    return {"validation": items[:n_val], "test": items[n_val : n_val + n_test], "train": items[n_val + n_test :]}


def build_training_data(
    *,
    n_genes: int = 100,
    n_gene_sets: int = 60,
    wordings: int = 3,
    holdout: tuple[float, float] = (0.1, 0.1),
    exclude="geneagent",
    benchmark_data: str | os.PathLike | None = None,
    lineage: bool = True,
    jaccard: float | None = 0.5,
    max_genes_shown: int = 20,
    seed: int = 0,
    user_records: Iterable[dict] | None = None,
    exclude_genes: Iterable[str] = (),
) -> TrainingData:
    """Build instruction data from the knowledge base, benchmark-clean by default.

    Parameters
    ----------
    n_genes
        Protein-coding genes with GO process annotations to draw (all splits).
    n_gene_sets
        GO BP terms of 3–100 genes to draw, after the exclusion.
    wordings
        Question templates per gene profile (the same fact in varied words).
    holdout
        Fractions of genes and terms held out for validation and for test.
    exclude, benchmark_data, lineage, jaccard
        Which benchmark's terms to keep out and the rule's settings (see
        :func:`benchmark_exclusion`); the default keeps the GeneAgent benchmark out.
    max_genes_shown
        Larger gene sets are shown as a random sample of this many genes.
    seed
        Seeds every draw and split.
    user_records
        Extra prompt/answer dicts (e.g. from :func:`read_records`), added to train.
    exclude_genes
        Genes never drawn for profile examples (names are resolved to official
        symbols), e.g. the test genes of an interaction benchmark.

    Returns
    -------
    :class:`TrainingData`.

    Examples
    --------
    >>> data = build_training_data(n_genes=20, n_gene_sets=10, exclude=None)  # doctest: +SKIP
    >>> data.splits["train"][0]["prompt"]  # doctest: +SKIP
    'Tell me about gene ...'
    """
    if n_genes < 0 or n_gene_sets < 0 or wordings < 1:
        raise ValueError(f"need n_genes, n_gene_sets >= 0 and wordings >= 1, got {n_genes}, {n_gene_sets}, {wordings}")
    rng = random.Random(seed)
    excluded, exclusion_record = benchmark_exclusion(exclude, data=benchmark_data, lineage=lineage, jaccard=jaccard)

    table = knowledge.genes()
    annotations = knowledge.go_annotations("BP")
    names = knowledge.go_terms("BP")["name"]
    processes_of: dict[str, list[str]] = {}
    for gene, go_ids in annotations.groupby("symbol", observed=True)["go_id"]:
        terms = sorted({names.get(t) for t in go_ids} - {None, "biological_process"})
        processes_of[str(gene)] = terms
    kept_out = set(knowledge.resolve_symbols(list(exclude_genes), warn=False).dropna()) if exclude_genes else set()
    coding = [g for g in table.index[table["type"] == "protein-coding"]
              if len(processes_of.get(g, ())) >= 3 and g not in kept_out]
    chosen_genes = rng.sample(sorted(coding), min(n_genes, len(coding)))
    gene_split = _split(chosen_genes, holdout, rng)

    all_sets = knowledge.gene_sets("BP", min_size=3, max_size=100)
    allowed = sorted(t for t in all_sets if t not in excluded)
    chosen_terms = rng.sample(allowed, min(n_gene_sets, len(allowed)))
    term_split = _split(chosen_terms, holdout, rng)

    splits: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    for split in splits:
        for gene in gene_split[split]:
            splits[split] += _profile_records(gene, rng, wordings if split == "train" else 1)
            splits[split] += _process_records(gene, processes_of.get(gene, []), rng)
        for term in term_split[split]:
            splits[split] += _gene_set_records(term, names[term], all_sets[term], rng, processes_of, max_genes_shown)
    if user_records is not None:
        splits["train"] += _check_records(user_records)
    rng.shuffle(splits["train"])
    provenance = {
        "seed": seed,
        "n_records": {k: len(v) for k, v in splits.items()},
        "n_genes": {k: len(v) for k, v in gene_split.items()},
        "n_gene_sets": {k: len(v) for k, v in term_split.items()},
        "wordings": wordings,
        "genes_kept_out": len(kept_out),
        "exclusion": {**exclusion_record, "bp_terms_3_100": len(all_sets),
                      "bp_terms_3_100_excluded": len(set(all_sets) & excluded),
                      "bp_terms_3_100_available": len(allowed)},
        "knowledge": knowledge.provenance().get("source_dates", {}),
    }
    provenance["data_hash"] = _hash(splits)
    return TrainingData(splits=splits, genes=gene_split, terms=term_split, provenance=provenance)


def _check_records(records: Iterable[dict]) -> list[dict]:
    out = []
    for i, r in enumerate(records):
        if not isinstance(r, dict) or not isinstance(r.get("prompt"), str) or not isinstance(r.get("answer"), str):
            raise ValueError(f"record {i} must be a dict with string 'prompt' and 'answer', got {r!r:.200}")
        out.append({"prompt": r["prompt"], "answer": r["answer"], "kind": r.get("kind", "user"), "key": r.get("key", "")})
    return out


def read_records(path: str | os.PathLike) -> list[dict]:
    """Read the user's own prompt/answer pairs from JSONL or CSV (columns ``prompt``, ``answer``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix == ".jsonl":
        with open(path) as fh:
            records = [json.loads(line) for line in fh if line.strip()]
    elif path.suffix == ".csv":
        import pandas as pd

        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if not {"prompt", "answer"} <= set(frame.columns):
            raise ValueError(f"{path} needs columns 'prompt' and 'answer'; it has {list(frame.columns)}")
        records = frame.to_dict("records")
    else:
        raise ValueError(f"{path}: expected a .jsonl or .csv file")
    return _check_records(records)
