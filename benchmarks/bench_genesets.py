"""Gene-set naming throughput on CPU: gene sets named per minute, by mode, against one baseline.

The baseline is the default way to name (``name_gene_sets`` with its evidence, the model
generating the name), measured in the same run; every other line prints its time as a
ratio to it:

* without evidence in the prompt (shorter prompts; the enrichment still runs for status);
* ranking the evidence's terms instead of generating (``choose="rank"``);
* with verification (a second, longer generation round);
* with an adapter, merged into the base weights (what ``name_gene_sets`` does) and left as
  an unmerged peft wrapper (what training leaves in memory), when ``--adapter`` is given.

Caching is off: every answer is computed. Each mode runs once after a warm-up.

    python benchmarks/bench_genesets.py [--sets 16] [--max-new-tokens 96] [--adapter DIR] [--data DIR]

``--data`` is the GeneAgent folder (default: ``$BFTBIO_DATA/geneagent``, else the packaged copy).
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, default=16, help="NeST gene sets named (the first N)")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-size", default="auto")
    parser.add_argument("--adapter", default=None, help="a LoRA adapter folder to time merged and unmerged")
    parser.add_argument("--data", default=None, help="GeneAgent folder (default: $BFTBIO_DATA or the packaged copy)")
    args = parser.parse_args()
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)

    import torch

    from bftbio import knowledge
    from bftbio.datasets import geneagent_gene_sets
    from bftbio.models import generate_texts, load_llm
    from bftbio.tasks import name_gene_sets

    sets = geneagent_gene_sets("NeST", path=args.data).iloc[: args.sets]
    base = load_llm()
    knowledge.enrichment(["PEX1", "PEX2", "PEX3"])  # build the GO membership once, outside the timings
    generate_texts(base, ["warm-up"], max_new_tokens=2, progress=False)
    options = dict(max_new_tokens=args.max_new_tokens, batch_size=batch_size, cache=False, progress=False)
    genes = sets["genes"].map(len)
    print(f"[gene-set naming] {len(sets)} NeST sets ({genes.min()}-{genes.max()} genes, median {genes.median():g}), "
          f"default model on {base.model.device}, {torch.get_num_threads()} threads, "
          f"max_new_tokens={args.max_new_tokens}, batch_size={batch_size}, cache off")

    def timed(llm, **extra):
        start = time.perf_counter()
        frame = name_gene_sets(sets, model=llm, **options, **extra)
        return time.perf_counter() - start, frame

    baseline, named = timed(base)
    rows = [("generate, with evidence (baseline)", baseline, f"{int((~named['flagged']).sum())}/{len(sets)} in the "
             "Process: format")]
    seconds, _ = timed(base, evidence=False)
    rows.append(("generate, no evidence in the prompt", seconds, ""))
    seconds, _ = timed(base, choose="rank")
    rows.append(("rank the evidence terms", seconds, ""))
    seconds, verified = timed(base, verify=True)
    rows.append(("generate + verify", seconds, f"{int(verified['revised'].sum())}/{len(sets)} revised"))
    if args.adapter:
        for merge in (True, False):
            llm = load_llm(adapter=args.adapter, merge=merge)
            generate_texts(llm, ["warm-up"], max_new_tokens=2, progress=False)
            label = "merged" if merge else "unmerged"
            seconds, _ = timed(llm)
            rows.append((f"adapter ({label}), generate", seconds, ""))
            seconds, _ = timed(llm, choose="rank")
            rows.append((f"adapter ({label}), rank", seconds, ""))
    for label, seconds, note in rows:
        print(f"  {label:38s} {len(sets) / seconds * 60:7.2f} sets/min ({seconds:6.1f} s)  "
              f"{seconds / baseline:5.2f}x the baseline's time  {note}")


if __name__ == "__main__":
    main()
