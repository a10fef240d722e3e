"""Does BFT learn what SFT misses? Probes and gene-set naming, as one tidy table."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..prompts import SYSTEM_PROMPT, naming_prompt
from ._data import TrainingData
from ._probes import knowledge_probes, score_probes

_TASK_PROBE, _TASK_NAMING = "knowledge_probe", "gene_set_naming"


def _load(model_or_path, device):
    from ..models import LanguageModel, load_llm
    from ._finetune import PROVENANCE, load

    if isinstance(model_or_path, LanguageModel):
        return model_or_path, model_or_path.name + (f"+{model_or_path.adapter}" if model_or_path.adapter else "")
    path = Path(str(model_or_path))
    if (path / PROVENANCE).is_file():
        return load(path, device=device), path.name
    return load_llm(str(model_or_path), device=device), f"{model_or_path} (untrained)"


def _held_out_genes(data: TrainingData, n: int, seed: int) -> list[str]:
    """The data's test genes, topped up with genes that appear in no split (never trained on)."""
    import random

    from .. import knowledge

    genes = list(data.genes.get("test", []))[:n]
    if len(genes) < n:
        used = set().union(*map(set, data.genes.values())) if data.genes else set()
        table = knowledge.genes()
        candidates = sorted(set(table.index[table["type"] == "protein-coding"]) - used)
        genes += random.Random(seed).sample(candidates, n - len(genes))
    return genes


def evaluate(
    model_or_path,
    data: TrainingData | str | os.PathLike,
    *,
    label: str | None = None,
    n_probe_genes: int = 100,
    n_naming_sets: int = 20,
    n_options: int = 4,
    max_new_tokens: int = 24,
    seed: int = 0,
    device: str | None = None,
) -> pd.DataFrame:
    """Knowledge probes and gene-set naming for one model, as a tidy table.

    Parameters
    ----------
    model_or_path
        A :class:`bftbio.models.LanguageModel`, the output folder of
        :func:`finetune`, or a base model name (``"default"``).
    data
        The run's :class:`TrainingData` or its ``data/`` folder: probes ask about
        genes seen in training (in another wording) and about held-out genes (the
        test genes, topped up to ``n_probe_genes`` with protein-coding genes in no
        split); naming uses the held-out validation terms, asked as
        :func:`bftbio.tasks.name_gene_sets` asks (the prompt of
        :mod:`bftbio.prompts` with each term's evidence, related terms excluded).
    label
        The method name in the table (default: the run folder's name).
    n_probe_genes
        Genes per split probed (each gives up to two items).
    n_naming_sets
        Validation gene sets named.

    Returns
    -------
    Tidy DataFrame: ``task, dataset, split, method, metric, value, n``. Probe rows
    come with a ``chance`` row for the same items.
    """
    from .. import knowledge
    from ..datasets import parse_process_name
    from ..metrics import name_similarity, rouge_scores
    from ..models import generate_texts, load_encoder

    if not isinstance(data, TrainingData):
        data = TrainingData.from_folder(data)
    llm, default_label = _load(model_or_path, device)
    method = label or default_label
    rows = []
    for split, genes in (("seen", data.genes.get("train", [])), ("held-out", _held_out_genes(data, n_probe_genes, seed))):
        items = knowledge_probes(genes[:n_probe_genes], n_options=n_options, seed=seed)
        chosen = score_probes(llm, items)
        for kind, name in (("gene_process", "gene -> process"), ("process_gene", "process -> gene")):
            idx = [i for i, item in enumerate(items) if item["kind"] == kind]
            if not idx:
                continue
            acc = sum(chosen[i] == items[i]["answer"] for i in idx) / len(idx)
            base = {"task": _TASK_PROBE, "dataset": name, "split": split, "metric": "accuracy", "n": len(idx)}
            rows.append({**base, "method": method, "value": acc})
            rows.append({**base, "method": "chance", "value": 1 / n_options})
    terms = data.terms.get("validation", [])[:n_naming_sets]
    if terms:
        answers_from, options = _naming_settings(data.provenance)
        sets = {}
        for ontology in knowledge.ontology_names(answers_from):
            sets.update(knowledge.gene_sets(ontology, min_size=1, max_size=None))
        names = knowledge.go_terms()["name"]
        # The request name_gene_sets asks, with the evidence it shows (the term, its lineage and
        # near-duplicates excluded, read from the ontologies the records were built with), so
        # the two evaluate one task.
        prompts = []
        for t in terms:
            evidence = knowledge.gene_set_evidence(sets[t], set_id=t, exclude="related", n_terms=8, **options)
            prompts.append(naming_prompt(sets[t], evidence))
        answers = generate_texts(llm, prompts, system=SYSTEM_PROMPT, max_new_tokens=max_new_tokens, progress=False)
        proposed = [parse_process_name(a)[0] for a in answers]
        truth = [names[t] for t in terms]
        base = {"task": _TASK_NAMING, "dataset": f"GO {answers_from} validation terms", "split": "validation",
                "method": method, "n": len(terms)}
        rows.append({**base, "metric": "rougeL", "value": float(rouge_scores(proposed, truth)["rougeL"].mean())})
        sims = name_similarity(load_encoder(device=device), proposed, truth)
        rows.append({**base, "metric": "name_similarity", "value": float(sims.mean())})
    return pd.DataFrame(rows, columns=["task", "dataset", "split", "method", "metric", "value", "n"])


def _naming_settings(provenance: dict) -> tuple[str, dict]:
    """The ontologies the validation answers come from and the evidence options the records were built with.

    Naming data records both (``terms.ontology``, ``lists.evidence_options``); naming data
    written before evidence read all three ontologies records neither and read processes only.
    Other data gets the evidence ``name_gene_sets`` shows by default.
    """
    terms, lists = provenance.get("terms") or {}, provenance.get("lists") or {}
    answers_from = terms.get("ontology", "BP") if isinstance(terms, dict) else "BP"
    if "evidence_options" in lists:
        options = dict(lists["evidence_options"])
    elif provenance.get("builder") == "bftbio.train.build_naming_data":
        options = {"ontology": "BP"}
    else:
        options = {}
    return answers_from, options


def compare_losses(
    losses=("sft", "dft", "bft", "bft-local"),
    *,
    output_dir: str | os.PathLike = "runs/losses",
    config=None,
    **options,
) -> pd.DataFrame:
    """Train each loss on the same data, steps and seed, then evaluate all and the base model.

    Returns the tidy table of :func:`evaluate` for the untrained base model and
    every loss, plus rows ``task="training"`` with the validation cross-entropy
    before and after and the training time.
    """
    import json

    from ._config import TrainConfig
    from ._finetune import PROVENANCE, data_from_config, finetune

    config = TrainConfig(**{**(config or TrainConfig()).to_dict(), **options})
    out = Path(output_dir)
    data = data_from_config(config)
    tables = [evaluate(config.model, data, label="untrained", seed=config.seed)]
    for loss in losses:
        run = out / loss
        if not (run / PROVENANCE).is_file():
            finetune(config.model, data, loss, config=config, output_dir=str(run))
        prov = json.loads((run / PROVENANCE).read_text())
        tables.append(evaluate(run, data, label=loss, seed=config.seed))
        base = {"task": "training", "dataset": "knowledge base", "split": "validation", "method": loss,
                "n": prov["n_validation_examples"]}
        tables.append(pd.DataFrame([
            {**base, "metric": "ce_before", "value": prov["validation_ce_before"]},
            {**base, "metric": "ce_after", "value": prov["validation_ce_after"]},
            {**base, "metric": "own_loss_before", "value": prov.get("validation_loss_before")},
            {**base, "metric": "own_loss_after", "value": prov.get("validation_loss_after")},
            {**base, "split": "train", "metric": "train_seconds", "value": prov["train_seconds"], "n": prov["steps"]},
        ]))
    return pd.concat(tables, ignore_index=True)
