"""Out-of-core perturbation preparation: a Perturb-seq screen on disk, streamed, beside the in-memory path.

1. Simulates 100,000 cells x 5,000 genes (250 conditions; sparse; SIMULATED, not real data)
   and writes it to an h5ad file (log-normalised X, CSR; the counts layer dropped).
2. Prepares it (:func:`bftbio.tasks.prepare_perturbation`: pseudobulk, delta, Welch-t DE) in a
   fresh process each way, so each peak resident memory (the process's VmHWM, imports
   included) is the step's own:
   - **in memory** (baseline): ``anndata.read_h5ad(path)``, then prepare;
   - **backed**: ``anndata.read_h5ad(path, backed="r")``, then prepare, streaming blocks of
     ``--chunk`` cells.
   Prints each time (reading + preparing) and peak RSS, and backed / in-memory ratios.
3. Builds a 1,000,000-cell file on disk by concatenating ten copies of the first file
   (``anndata.experimental.concat_on_disk``; cells renamed, every condition ten times as
   many cells) and prepares it backed, then in memory (the largest size that fits this
   24 GiB machine; ``--skip-large-in-memory`` leaves it out).

Writes the figures to ``--out`` (default ``benchmarks/results/perturbation_disk.csv``).

Targets (issue 22): 1,000,000 cells backed within 3 GiB; preparation of the 100,000 cells in
memory within 10 s and 2 GiB.

    python benchmarks/bench_perturbation_disk.py [--workdir DIR] [--cells 100000] [--copies 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def peak_rss_gib() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: Linux carries a parent's peak into a
    child across fork and exec, so the child would report the simulation's memory as its own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def measure(path: str, backed: bool, chunk: int) -> None:
    """Child process: read (backed or not), prepare, print seconds and peak RSS as JSON."""
    import anndata as ad

    from bftbio.tasks import prepare_perturbation

    start = time.perf_counter()
    adata = ad.read_h5ad(path, backed="r" if backed else None)
    read = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        prepared = prepare_perturbation(adata, chunk_size=chunk, copy=True)
    total = time.perf_counter() - start
    print(json.dumps({"cells": adata.n_obs, "conditions": prepared.n_obs - 1, "read_s": read,
                      "prepare_s": total - read, "total_s": total,
                      "peak_rss_gib": peak_rss_gib()}))


def run_child(path: Path, backed: bool, chunk: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--measure", str(path), "--chunk", str(chunk)]
                          + (["--backed"] if backed else []), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=None, help="where the h5ad files go (default: a temporary folder)")
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--genes", type=int, default=5_000)
    parser.add_argument("--copies", type=int, default=10, help="copies concatenated into the large file")
    parser.add_argument("--chunk", type=int, default=10_000, help="cells per block when streaming")
    parser.add_argument("--skip-large-in-memory", action="store_true",
                        help="do not prepare the large file in memory (it needs about 6 GiB)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "perturbation_disk.csv"))
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--backed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.backed, args.chunk)
        return

    import anndata as ad
    import numpy as np
    from anndata.experimental import concat_on_disk

    from bftbio.datasets import simulate_perturbseq

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bftbio-disk-"))
    workdir.mkdir(parents=True, exist_ok=True)
    small = workdir / f"simulated_{args.cells}.h5ad"
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = simulate_perturbseq(n_cells=args.cells, n_genes=args.genes, n_conditions=250, n_combos=60, seed=0)
    density = adata.X.nnz / np.prod(adata.shape)
    del adata.layers["counts"]  # X (log-normalised) is what preparation reads; the counts would double the disk
    adata.write_h5ad(small)
    del adata
    print(f"SIMULATED: {args.cells:,} cells x {args.genes:,} genes, {density:.1%} non-zero, written to {small} "
          f"({small.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - start:.0f} s")

    memory = run_child(small, backed=False, chunk=args.chunk)
    backed = run_child(small, backed=True, chunk=args.chunk)
    print(f"{args.cells:,} cells   in memory: read {memory['read_s']:.1f} s + prepare {memory['prepare_s']:.1f} s, "
          f"peak RSS {memory['peak_rss_gib']:.2f} GiB (baseline)")
    print(f"{args.cells:,} cells   backed:    read {backed['read_s']:.1f} s + prepare {backed['prepare_s']:.1f} s, "
          f"peak RSS {backed['peak_rss_gib']:.2f} GiB; time ratio {backed['total_s'] / memory['total_s']:.2f}, "
          f"memory ratio {backed['peak_rss_gib'] / memory['peak_rss_gib']:.2f}")

    large = workdir / f"simulated_{args.cells * args.copies}.h5ad"
    start = time.perf_counter()
    large.unlink(missing_ok=True)
    concat_on_disk({f"copy{i}": small for i in range(args.copies)}, large, index_unique="-", uns_merge="same")
    print(f"{args.cells * args.copies:,} cells: {args.copies} copies concatenated on disk in "
          f"{time.perf_counter() - start:.0f} s ({large.stat().st_size / 2**30:.2f} GiB)")
    big = run_child(large, backed=True, chunk=args.chunk)
    check = ad.read_h5ad(large, backed="r")
    assert check.n_obs == args.cells * args.copies
    check.file.close()
    print(f"{big['cells']:,} cells backed: read {big['read_s']:.1f} s + prepare {big['prepare_s']:.1f} s, peak RSS "
          f"{big['peak_rss_gib']:.2f} GiB (target 3 GiB); time per cell vs {args.cells:,} backed: "
          f"{(big['total_s'] / big['cells']) / (backed['total_s'] / backed['cells']):.2f}")
    rows = [{"cells": args.cells, "mode": "in memory", **memory}, {"cells": args.cells, "mode": "backed", **backed},
            {"cells": big["cells"], "mode": "backed", **big}]
    if not args.skip_large_in_memory:
        whole = run_child(large, backed=False, chunk=args.chunk)
        print(f"{whole['cells']:,} cells in memory: read {whole['read_s']:.1f} s + prepare {whole['prepare_s']:.1f} s, "
              f"peak RSS {whole['peak_rss_gib']:.2f} GiB; backed / in memory: time "
              f"{big['total_s'] / whole['total_s']:.2f}, memory {big['peak_rss_gib'] / whole['peak_rss_gib']:.2f}")
        rows.append({"cells": whole["cells"], "mode": "in memory", **whole})
    import pandas as pd

    table = pd.DataFrame(rows).drop(columns=["conditions"]).assign(genes=args.genes, chunk=args.chunk, simulated=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.round(3).to_csv(args.out, index=False)
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
