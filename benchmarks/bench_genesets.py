"""Gene-set naming throughput on CPU: gene sets named per minute, with and without verification.

The baseline is naming without verification, measured in the same run; verification adds
an enrichment test per set and a second, longer generation round, so the ratio says what
``verify=True`` costs. A third line times the bare generator on the same prompts (texts
only), so the cost of parsing and of reading the confidence from the decoding steps'
logits shows as a ratio too. Caching is off: every answer is generated.

    python benchmarks/bench_genesets.py [--sets 16] [--max-new-tokens 96] [--batch-size auto] [--data DIR]

``--data`` is the GeneAgent folder (default: ../shared/data/geneagent next to the checkout).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, default=16, help="NeST gene sets named (the first N)")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-size", default="auto")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "geneagent"))
    args = parser.parse_args()
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)

    import torch

    from bftbio import knowledge
    from bftbio.datasets import geneagent_gene_sets
    from bftbio.models import generate_texts, load_llm
    from bftbio.tasks import name_gene_sets
    from bftbio.tasks._genesets import NAMING_PROMPT, SYSTEM_PROMPT

    sets = geneagent_gene_sets("NeST", path=args.data).iloc[: args.sets]
    llm = load_llm()
    knowledge.enrichment(["PEX1", "PEX2", "PEX3"])  # build the GO membership once, outside the timings
    generate_texts(llm, ["warm-up"], max_new_tokens=2, progress=False)
    options = dict(model=llm, max_new_tokens=args.max_new_tokens, batch_size=batch_size, cache=False,
                   progress=False)
    genes = sets["genes"].map(len)
    print(f"[gene-set naming] {len(sets)} NeST sets ({genes.min()}-{genes.max()} genes, median {genes.median():g}), "
          f"default model on {llm.model.device}, {torch.get_num_threads()} threads, "
          f"max_new_tokens={args.max_new_tokens}, batch_size={batch_size}, cache off")

    start = time.perf_counter()
    prompts = [NAMING_PROMPT.format(genes=", ".join(g)) for g in sets["genes"]]
    generate_texts(llm, prompts, system=SYSTEM_PROMPT, max_new_tokens=args.max_new_tokens, batch_size=batch_size,
                   progress=False)
    t_generate = time.perf_counter() - start

    start = time.perf_counter()
    plain = name_gene_sets(sets, **options)
    t_plain = time.perf_counter() - start

    start = time.perf_counter()
    verified = name_gene_sets(sets, verify=True, **options)
    t_verify = time.perf_counter() - start

    def rate(seconds: float) -> str:
        return f"{len(sets) / seconds * 60:7.2f} sets/min ({seconds:6.1f} s)"

    print(f"  generator only (same prompts): {rate(t_generate)}")
    print(f"  name_gene_sets:                {rate(t_plain)}; {int((~plain['flagged']).sum())}/{len(sets)} answers "
          "in the Process: format")
    print(f"  name_gene_sets(verify=True):   {rate(t_verify)}; {int(verified['revised'].sum())}/{len(sets)} names "
          "revised")
    print(f"  ratio naming / generator only: {t_plain / t_generate:.2f}x time (parsing + token log-probabilities)")
    print(f"  ratio verify / no verify:      {t_verify / t_plain:.2f}x time")


if __name__ == "__main__":
    main()
