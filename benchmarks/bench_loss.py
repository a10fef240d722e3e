"""Time and peak memory of :func:`bftbio.train.lm_loss` against plain cross-entropy.

Every loss (sft, dft, bft, bft-local) runs forward + backward on the same random
logits as the baseline, plain cross-entropy computed the way transformers does it::

    F.cross_entropy(logits.view(-1, V), shifted_labels.view(-1), ignore_index=-100)

and the script prints, per loss, the ratio to that baseline. Targets: time <= 1.10,
peak memory <= 1.05.

Method
------
Time
    Median over ``--repeats`` forward + backward passes, after one warm-up pass, all in
    this process (CUDA is synchronised around each pass). The repeats go round-robin
    over the methods, so load from elsewhere on a shared machine hits all of them.
Peak memory
    The extra memory a forward + backward pass needs on top of its inputs (the logits,
    the labels): the gradient of the logits is counted, the logits are not.

    * CPU: one fresh subprocess per measurement, so no earlier pass's high-water mark
      leaks in. The child builds the inputs directly in the requested dtype, lowers
      the kernel's high-water mark of its resident set to the current resident set
      (writing ``5`` to ``/proc/self/clear_refs``, so the peak of importing torch cannot
      hide a small pass), reads the high-water mark as its baseline, runs one pass and
      reads it again; the difference is the peak. The mark is ``VmHWM`` from
      ``/proc/self/status``, the per-process value behind
      ``getrusage(RUSAGE_SELF).ru_maxrss``; ``ru_maxrss`` itself is used only where
      ``/proc`` is missing, because after ``exec`` it also remembers the resident set
      of the parent (this script, holding its own logits) and would hide the child's
      pass. Large tensors are ``mmap``-ed by the allocator and returned on free, so
      the resident set follows the live tensors.
    * CUDA: in process, ``torch.cuda.max_memory_allocated()`` after
      ``reset_peak_memory_stats()``, minus the memory allocated before the pass.

For ``--dtype bfloat16`` the baseline is ``F.cross_entropy`` on the bf16 logits as
above; transformers' ``ForCausalLMLoss`` additionally upcasts the whole logits to
float32 first, so the real transformers baseline needs more memory than this one.

Examples
--------
``python benchmarks/bench_loss.py`` (4 x 1024 x 49,152 float32 on CPU), or smaller:
``python benchmarks/bench_loss.py --shape 2 512 32000 --repeats 3``. On a machine that
other jobs share, ``--threads 1`` gives steadier ratios: with every core busy, a
multi-threaded operation waits for its slowest thread.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Run from a checkout without installing: the repository root holds the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

METHODS = ("ce", "sft", "dft", "bft", "bft-local")


def make_inputs(shape, dtype, device, seed=0):
    """Random logits (requiring grad) and labels with masked prompts and padding."""
    import torch

    batch, length, vocab = shape
    generator = torch.Generator(device="cpu").manual_seed(seed)
    labels = torch.randint(0, vocab, (batch, length), generator=generator)
    for b in range(batch):
        # a masked prompt of 10-30% of the row and right padding on every other row
        prompt = int(length * (0.1 + 0.2 * b / max(batch - 1, 1)))
        labels[b, :prompt] = -100
        if b % 2:
            labels[b, length - length // 8 :] = -100
    labels = labels.to(device)
    logits = torch.randn(shape, dtype=getattr(torch, dtype), device=device, requires_grad=True)
    return logits, labels


def step(method, logits, labels, shifted, group_size, chunk_size):
    """One forward + backward pass."""
    import torch.nn.functional as F

    from bftbio.train import lm_loss

    if method == "ce":
        value = F.cross_entropy(logits.view(-1, logits.shape[-1]), shifted.view(-1), ignore_index=-100)
    else:
        value = lm_loss(logits, labels, method, group_size=group_size, chunk_size=chunk_size)
    value.backward()
    logits.grad = None


def shift(labels):
    import torch.nn.functional as F

    return F.pad(labels, (0, 1), value=-100)[:, 1:].contiguous()


def measure_times(methods, args, logits, labels, shifted):
    """Median seconds per method. Repeats go round-robin over the methods, so a
    neighbour's load on a shared machine slows every method alike, not just one."""
    import torch

    def sync():
        if logits.device.type == "cuda":
            torch.cuda.synchronize()

    for method in methods:  # warm-up
        step(method, logits, labels, shifted, args.group_size, args.chunk_size)
    times = {method: [] for method in methods}
    for _ in range(args.repeats):
        for method in methods:
            sync()
            start = time.perf_counter()
            step(method, logits, labels, shifted, args.group_size, args.chunk_size)
            sync()
            times[method].append(time.perf_counter() - start)
    return {method: statistics.median(values) for method, values in times.items()}


def reset_peak_rss():
    """Lower the resident-set high-water mark to the current resident set (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def peak_rss_bytes():
    """The resident-set high-water mark of this process: VmHWM, else ru_maxrss."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure_memory_here(method, args):
    """Extra peak bytes of one pass in this process (CUDA, or a fresh CPU child)."""
    import torch

    logits, labels = make_inputs(args.shape, args.dtype, args.device)
    shifted = shift(labels)
    if logits.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        step(method, logits, labels, shifted, args.group_size, args.chunk_size)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    import bftbio.train  # noqa: F401  (imported before the baseline, like torch)

    reset_peak_rss()
    before = peak_rss_bytes()
    step(method, logits, labels, shifted, args.group_size, args.chunk_size)
    return peak_rss_bytes() - before


def measure_memory(method, args):
    if args.device.startswith("cuda"):
        return measure_memory_here(method, args)
    command = [sys.executable, __file__, "--child-memory", method, "--shape", *map(str, args.shape),
               "--dtype", args.dtype, "--device", args.device, "--group-size", str(args.group_size)]
    if args.chunk_size is not None:
        command += ["--chunk-size", str(args.chunk_size)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_bytes"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", nargs=3, type=int, default=[4, 1024, 49152], metavar=("B", "T", "V"))
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--group-size", type=int, default=256)
    parser.add_argument("--chunk-size", type=int, default=None, help="rows per chunk; default: lm_loss's")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads; default: torch's")
    parser.add_argument("--losses", nargs="+", default=list(METHODS[1:]), choices=METHODS[1:])
    parser.add_argument("--child-memory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.child_memory:
        print(json.dumps({"peak_bytes": measure_memory_here(args.child_memory, args)}))
        return

    import torch

    logits, labels = make_inputs(args.shape, args.dtype, args.device)
    shifted = shift(labels)
    print(f"logits {tuple(args.shape)} {args.dtype} on {args.device}, {torch.get_num_threads()} threads, "
          f"{int((shifted != -100).sum())} target tokens, group_size {args.group_size}, "
          f"chunk_size {args.chunk_size or 'default'}, median of {args.repeats}")
    methods = ("ce", *args.losses)
    times = measure_times(methods, args, logits, labels, shifted)
    rows = [(method, times[method], measure_memory(method, args)) for method in methods]
    base_time, base_peak = rows[0][1], rows[0][2]
    print(f"{'loss':<10} {'time_s':>8} {'time_ratio':>10} {'peak_MiB':>9} {'peak_ratio':>10}")
    for method, seconds, peak in rows:
        ratio = peak / base_peak if base_peak > 0 else float("nan")
        time_ratio = seconds / base_time
        print(f"{method:<10} {seconds:>8.3f} {time_ratio:>10.3f} {peak / 2**20:>9.0f} {ratio:>10.3f}")
    print("targets: time_ratio <= 1.10, peak_ratio <= 1.05 (baseline: ce)")


if __name__ == "__main__":
    main()
