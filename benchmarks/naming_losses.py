"""SFT, DFT, BFT and BFT-local on gene-set naming, at one budget: train the adapters.

Every run trains on the same records (the first ``--records`` of the training split of
``bftbio.train.build_naming_data``, benchmark sets kept out), for the same steps, at the
same learning rate; only the loss and the seed change. Runs go one after the other in
``--schedule`` order; a killed run resumes from its last checkpoint, and a finished one
is skipped. Each finished run appends one row to ``--csv`` (kept in the repository),
so the figures survive the ``runs/`` folder. ``naming_eval.py`` scores the adapters.

    python benchmarks/naming_losses.py --data runs/naming_data

The data folder is written by ``build_naming_data(seed=0).to_jsonl(...)`` when missing.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

SCHEDULE = ["sft:0", "bft:0", "dft:0", "bft-local:0", "sft:1", "bft:1", "sft:2", "bft:2"]
FIELDS = ["loss", "seed", "records", "steps", "batch_size", "learning_rate", "train_tokens", "train_seconds",
          "tokens_per_second", "validation_ce_before", "validation_ce_after", "data_hash", "device", "finished"]


def _done(path: Path) -> set[tuple[str, int]]:
    if not path.is_file():
        return set()
    with open(path) as fh:
        return {(r["loss"], int(r["seed"])) for r in csv.DictReader(fh)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="runs/naming_data", help="folder of build_naming_data records")
    parser.add_argument("--runs", default="runs/naming_losses", help="where adapters and checkpoints go")
    parser.add_argument("--csv", default="benchmarks/results/naming_losses_train.csv")
    parser.add_argument("--records", type=int, default=256, help="training records, the same for every run")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--validation", type=int, default=40, help="validation records for cross-entropy")
    parser.add_argument("--schedule", nargs="+", default=SCHEDULE, help="loss:seed runs in order")
    args = parser.parse_args()

    from bftbio.train import TrainingData, build_naming_data, finetune

    folder = Path(args.data)
    if not (folder / "train.jsonl").is_file():
        # the shipped adapter's records (hash 7b189e6276e53f3d): processes-only evidence, as measured
        build_naming_data(seed=0, enrichment_options={"ontology": "BP"}).to_jsonl(folder)
    data = TrainingData.from_folder(folder)
    subset = TrainingData(
        splits={"train": data.splits["train"][: args.records], "validation": data.splits["validation"][: args.validation],
                "test": []},
        provenance={**data.provenance, "subset": {"train": args.records, "validation": args.validation}},
    )
    out_csv = Path(args.csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    for item in args.schedule:
        loss, seed = item.split(":")
        seed = int(seed)
        if (loss, seed) in _done(out_csv):
            print(f"{loss} seed {seed}: already in {out_csv}")
            continue
        out = Path(args.runs) / f"{loss}-{seed}"
        started = time.perf_counter()
        finetune(data=subset, loss=loss, seed=seed, max_steps=args.steps, batch_size=args.batch_size,
                 learning_rate=args.learning_rate, max_length=640, save_steps=8, logging_steps=8,
                 output_dir=str(out))
        prov = json.loads((out / "bftbio_provenance.json").read_text())
        row = {
            "loss": loss, "seed": seed, "records": args.records, "steps": prov["steps"],
            "batch_size": args.batch_size, "learning_rate": args.learning_rate,
            "train_tokens": prov.get("train_tokens_seen"), "train_seconds": prov["train_seconds"],
            "tokens_per_second": prov.get("tokens_per_second"),
            "validation_ce_before": prov["validation_ce_before"], "validation_ce_after": prov["validation_ce_after"],
            "data_hash": data.provenance.get("data_hash"), "device": prov["device"],
            "finished": time.strftime("%Y-%m-%d %H:%M"),
        }
        new = not out_csv.is_file()
        with open(out_csv, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(row)
        print(f"{loss} seed {seed}: {prov['train_seconds']} s of training, {time.perf_counter() - started:.0f} s in all, "
              f"validation CE {prov['validation_ce_before']:.3f} -> {prov['validation_ce_after']:.3f}")


if __name__ == "__main__":
    main()
