"""Experiment: train the naming model to choose, with the evidence term closest to the answer as its target.

The naming records of ``build_naming_data`` answer with the held-out term's own name,
which is never in the evidence (the term, its lineage and near-duplicates are excluded).
Here each training record's answer becomes instead the evidence term with the highest
ROUGE-L to that name (the "best term in hindsight", computed on training terms only), so
the model is taught to pick the right line of its evidence. The justification sentence
is kept. Validation and test records are rewritten the same way (they are only used for
cross-entropy; ``naming_eval.py`` scores against the true names).

    python benchmarks/naming_closest_target.py --data runs/naming_data --out runs/naming_data_closest
    bftbio train --task naming --data-dir runs/naming_data_closest --loss bft --max-steps 200 \\
        --learning-rate 3e-4 --batch-size 4 --max-length 640 --save-steps 20 --seed 0 --output-dir runs/naming_closest
    python benchmarks/naming_eval.py --parts validation --models closest --adapter closest=runs/naming_closest
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="runs/naming_data", help="folder of build_naming_data records")
    parser.add_argument("--out", default="runs/naming_data_closest")
    args = parser.parse_args()

    from bftbio.metrics import rouge_scores

    src, dst = Path(args.data), Path(args.out)
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("provenance.json", "splits.json"):
        shutil.copy(src / name, dst / name)
    for split in ("train", "validation", "test"):
        changed = total = 0
        with open(dst / f"{split}.jsonl", "w") as out:
            for line in open(src / f"{split}.jsonl"):
                record = json.loads(line)
                candidates = record.get("candidates") or []
                if candidates:
                    scores = rouge_scores([record["name"]] * len(candidates), candidates)["rougeL"].to_numpy()
                    best = candidates[int(scores.argmax())]
                    _, _, justification = record["answer"].partition("\n")
                    record["answer"] = f"Process: {best}\n{justification}"
                    changed += best != candidates[0]
                    total += 1
                out.write(json.dumps(record) + "\n")
        print(f"{split}: {total} records with evidence; target is not the top term in {changed}")


if __name__ == "__main__":
    main()
