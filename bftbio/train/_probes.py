"""Knowledge probes: multiple-choice questions scored by the model's log-likelihood.

Distractors are drawn from the pool of true answers of other items (so every
option is as common as a true answer, and a prior on frequent GO terms cannot
pass the probe), never from the item's own annotations. The question wording
differs from every training template, so a right answer means the fact is
retrievable, not the training string memorised. Chance is 1 / n_options; the
untrained model is reported beside every score.
"""

from __future__ import annotations

import random

from .. import knowledge
from ._data import PROFILE_OPTIONS

GENE_PROCESS = "The human gene {gene} is involved in"
PROCESS_GENE = "A human gene that takes part in {process} is"


def _profile_processes(gene: str) -> list[str]:
    """The BP terms a gene's training profile lists (see knowledge_profile)."""
    text = knowledge.knowledge_profile(gene, **PROFILE_OPTIONS)
    for sentence in text.split(". "):
        if sentence.startswith("Biological processes: "):
            return [t.strip().rstrip(".") for t in sentence[len("Biological processes: "):].split(";")]
    return []


def knowledge_probes(genes: list[str], *, n_options: int = 4, seed: int = 0) -> list[dict]:
    """Four-way probes about ``genes``: gene → process and process → gene.

    Returns
    -------
    A list of items, each a dict with ``kind`` (``gene_process`` or
    ``process_gene``), ``key`` (the gene), ``prefix``, ``options`` (strings that
    continue the prefix) and ``answer`` (index of the true option).
    """
    rng = random.Random(seed)
    sets = knowledge.gene_sets("BP", min_size=1, max_size=None)
    names = knowledge.go_terms("BP")["name"]
    annotated: dict[str, set[str]] = {}
    for term, members in sets.items():
        for g in members:
            annotated.setdefault(g, set()).add(names[term])
    truth = {g: [p for p in _profile_processes(g) if p in annotated.get(g, set())] for g in genes}
    picked = {g: rng.choice(ps) for g, ps in truth.items() if ps}
    process_pool = list(picked.values())  # each true answer once: distractors as common as answers
    gene_pool = list(picked)
    members_of = {names[t]: set(m) for t, m in sets.items()}
    items = []
    for gene, process in picked.items():
        wrong = [p for p in process_pool if p not in annotated[gene]]
        if len(set(wrong)) >= n_options - 1:
            distractors = rng.sample(sorted(set(wrong)), n_options - 1)
            options = distractors + [process]
            rng.shuffle(options)
            items.append({"kind": "gene_process", "key": gene, "prefix": GENE_PROCESS.format(gene=gene),
                          "options": [f" {o}." for o in options], "answer": options.index(process)})
        wrong_genes = [g for g in gene_pool if g not in members_of.get(process, set())]
        if len(wrong_genes) >= n_options - 1:
            distractors = rng.sample(sorted(wrong_genes), n_options - 1)
            options = distractors + [gene]
            rng.shuffle(options)
            items.append({"kind": "process_gene", "key": gene, "prefix": PROCESS_GENE.format(process=process),
                          "options": [f" {o}." for o in options], "answer": options.index(gene)})
    return items


def score_probes(llm, items: list[dict], *, batch_size: int = 16) -> list[int]:
    """The option each item's model prefers (highest mean log-probability per option token)."""
    import torch

    model, tokenizer = llm.model, llm.tokenizer
    pairs = []
    for i, item in enumerate(items):
        prefix = tokenizer(item["prefix"], add_special_tokens=False)["input_ids"]
        for j, option in enumerate(item["options"]):
            pairs.append((i, j, prefix, tokenizer(option, add_special_tokens=False)["input_ids"]))
    scores: dict[tuple[int, int], float] = {}
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            width = max(len(p) + len(o) for *_, p, o in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, (_, _, p, o) in enumerate(chunk):
                ids[row, : len(p) + len(o)] = torch.tensor(p + o)
                mask[row, : len(p) + len(o)] = 1
            logp = torch.log_softmax(model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float(), -1)
            for row, (i, j, p, o) in enumerate(chunk):
                positions = torch.arange(len(p) - 1, len(p) + len(o) - 1, device=logp.device)
                targets = torch.tensor(o, device=logp.device)
                scores[i, j] = float(logp[row, positions, targets].mean())
    return [max(range(len(item["options"])), key=lambda j: scores[i, j]) for i, item in enumerate(items)]
