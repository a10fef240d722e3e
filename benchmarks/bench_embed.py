"""Embedding throughput: each number is a ratio against a baseline measured in the same run.

1. Profile generation with the default model: batched greedy decoding (length-sorted,
   left-padded, KV cache) against one gene at a time. Target >= 5x new tokens/s.
2. The encoder on knowledge profiles: length-sorted, token-budgeted batches against plain
   fixed-size batches in input order. Target >= 1.5x profiles/s.
3. A fully cached ``embed_genes`` for 20,000 protein-coding genes (knowledge profiles):
   wall time (target < 2 s), against the uncached fill when this run had to do it.

    python benchmarks/bench_embed.py [--genes 16] [--max-new-tokens 64] [--profiles 600] [--skip cached]

Part 3 fills the default store (``bftbio.settings.cachedir``) once; that takes a quarter of
an hour on 2 cores, and later runs (and bftbio's tasks) reuse it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np


def bench_generation(n_genes: int, max_new_tokens: int, batch_size: int | str) -> None:
    from bftbio import knowledge
    from bftbio.embed import PROFILE_PROMPT
    from bftbio.models import generate_texts, load_llm

    llm = load_llm()
    table = knowledge.genes()
    coding = sorted(table.index[table["type"] == "protein-coding"])
    genes = random.Random(0).sample(coding, n_genes)
    prompts = [PROFILE_PROMPT.format(gene=g) for g in genes]
    generate_texts(llm, prompts[:2], max_new_tokens=4, batch_size=2, progress=False)  # warm-up

    start = time.perf_counter()
    alone = [generate_texts(llm, [p], max_new_tokens=max_new_tokens, batch_size=1, progress=False)[0] for p in prompts]
    t_alone = time.perf_counter() - start
    start = time.perf_counter()
    together = generate_texts(llm, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size, progress=False)
    t_together = time.perf_counter() - start

    def n_tokens(texts):
        return sum(len(llm.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)

    same = sum(a == b for a, b in zip(alone, together))
    print(f"[generation] {n_genes} genes, max_new_tokens={max_new_tokens}, batch_size={batch_size}, "
          f"{same}/{n_genes} answers identical")
    print(f"  one at a time: {n_tokens(alone) / t_alone:8.1f} new tokens/s ({t_alone:.1f} s)")
    print(f"  batched:       {n_tokens(together) / t_together:8.1f} new tokens/s ({t_together:.1f} s)")
    print(f"  ratio batched / one at a time: {t_alone / t_together * n_tokens(together) / n_tokens(alone):.2f}x "
          "(target >= 5)")


def bench_encoder(n_profiles: int, batch: int) -> None:
    import torch

    from bftbio import knowledge
    from bftbio.embed import KNOWLEDGE_OPTIONS
    from bftbio.models import load_encoder

    enc = load_encoder()
    table = knowledge.genes()
    coding = sorted(table.index[table["type"] == "protein-coding"])
    genes = random.Random(1).sample(coding, n_profiles)
    texts = [knowledge.knowledge_profile(g, **KNOWLEDGE_OPTIONS) for g in genes]

    def naive(texts):
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch):
                enc_in = enc.tokenizer(texts[i : i + batch], padding=True, truncation=True,
                                       max_length=enc.max_length, return_tensors="pt")
                hidden = enc.model(**enc_in).last_hidden_state
                mask = enc_in["attention_mask"].unsqueeze(-1).float()
                pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
                out.append(pooled.numpy())
        return np.concatenate(out)

    enc.encode(texts[:8], progress=False)  # warm-up
    start = time.perf_counter()
    base = naive(texts)
    t_naive = time.perf_counter() - start
    start = time.perf_counter()
    fast = enc.encode(texts, progress=False)
    t_fast = time.perf_counter() - start
    lengths = [len(x) for x in enc.tokenizer(texts, truncation=True, max_length=enc.max_length)["input_ids"]]
    print(f"[encoder] {n_profiles} knowledge profiles, tokens per profile median {statistics.median(lengths):.0f} "
          f"(min {min(lengths)}, max {max(lengths)}); largest difference between the two: "
          f"{np.abs(base - fast).max():.1e}")
    print(f"  fixed batches of {batch}, input order: {n_profiles / t_naive:7.1f} profiles/s")
    print(f"  length-sorted, token-budgeted:       {n_profiles / t_fast:7.1f} profiles/s")
    print(f"  ratio: {t_naive / t_fast:.2f}x (target >= 1.5)")


def bench_cached(n_genes: int) -> None:
    import bftbio
    from bftbio import knowledge

    table = knowledge.genes()
    coding = sorted(table.index[table["type"] == "protein-coding"])[:n_genes]
    start = time.perf_counter()
    bftbio.embed_genes(coding, source="knowledge", progress=True)  # fills the store when needed
    t_fill = time.perf_counter() - start
    times = []
    for _ in range(3):
        start = time.perf_counter()
        emb = bftbio.embed_genes(coding, source="knowledge", progress=False)
        times.append(time.perf_counter() - start)
    t_cached = statistics.median(times)
    print(f"[cache] embed_genes of {len(coding)} protein-coding genes, source='knowledge', store "
          f"{bftbio.store.default_store().path}; shape {emb.shape}")
    print(f"  first call this run: {t_fill:7.1f} s (a fill, unless an earlier run already did it)")
    print(f"  cached call (median of 3): {t_cached:.2f} s (target < 2); ratio first / cached {t_fill / t_cached:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genes", type=int, default=16, help="genes for the generation comparison")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", default="auto", help="generation batch size ('auto' or a number)")
    parser.add_argument("--profiles", type=int, default=600, help="knowledge profiles for the encoder comparison")
    parser.add_argument("--encoder-batch", type=int, default=32, help="fixed batch size of the naive encoder baseline")
    parser.add_argument("--cached-genes", type=int, default=20000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["generation", "encoder", "cached"])
    args = parser.parse_args()
    import bftbio

    bftbio.settings.verbosity = "warning"
    import torch

    print(f"torch threads: {torch.get_num_threads()}, device {bftbio.settings.resolve_device()}")
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    if "generation" not in args.skip:
        bench_generation(args.genes, args.max_new_tokens, batch_size)
    if "encoder" not in args.skip:
        bench_encoder(args.profiles, args.encoder_batch)
    if "cached" not in args.skip:
        bench_cached(args.cached_genes)


if __name__ == "__main__":
    main()
