"""Which GO ontologies the naming evidence should read: processes only, or all three.

A curated gene set is not always a process: NeST's systems are mostly complexes
("Proteasome complex", "RPA complex"), which GO files under cellular components (CC), and
some sets are activities (molecular functions, MF). This script names every set by the top
term of its evidence read two ways, processes only (``ontology="BP"``, the evidence before
this change) and all three ontologies ranked together by p-value (``"all"``), and scores
both against the true names, paired set by set:

* **validation** (for the choice): GO terms never trained on, shown as noisy lists with the
  term, its lineage and its near-duplicates excluded (:func:`bftbio.train.build_naming_data`,
  seed 0): the 167 BP validation terms of the shipped adapter's data, and 150 CC and 150 MF
  terms built the same way (``ontology="CC"``/``"MF"``);
* **benchmark** (for reporting): NeST (50) and MSigDB (56) with nothing excluded, and the
  seeded 200 GO sets with the related rule, as everywhere in docs/genesets.md.

``--model`` adds the shipped naming adapter (ranking the evidence's terms,
``name_gene_sets(choose="rank")``) on both evidence settings, on the first 60 BP validation
terms and the benchmark (about 20 minutes on 2 CPU cores; cached in the store).

    python benchmarks/naming_ontologies.py [--model] [--out benchmarks/results/naming_ontologies.csv]

Per-set rows go to ``--per-set`` as each (data set, method) finishes, and a rerun skips
what is there; the summary (mean, and the paired bootstrap interval of all − BP) goes to
``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

SETTINGS = {"BP": {"ontology": "BP"}, "all": {"ontology": "all"}}
N_OTHER = 300  # CC and MF terms sampled for their validation halves


def validation_sets() -> dict[str, tuple[pd.DataFrame, str]]:
    from bftbio.train import build_naming_data

    out = {}
    for ontology, kwargs in (("BP", {}), ("CC", {"n_terms": N_OTHER, "holdout": (0.5, 0.0)}),
                             ("MF", {"n_terms": N_OTHER, "holdout": (0.5, 0.0)})):
        records = build_naming_data(ontology=ontology, seed=0, n_evidence=1, **kwargs).splits["validation"]
        frame = pd.DataFrame({"set_id": [r["key"] for r in records], "genes": [r["genes"] for r in records],
                              "name": [r["name"] for r in records]})
        out[f"validation {ontology}"] = (frame, "related")
    return out


def benchmark_sets() -> dict[str, tuple[pd.DataFrame, str]]:
    from bftbio.datasets import geneagent_gene_sets

    out = {}
    for name, exclude in (("NeST", "none"), ("MSigDB", "none"), ("GO", "related")):
        sets = geneagent_gene_sets(name)
        if name == "GO":  # the benchmark's seeded sample (benchmark_gene_set_naming(sample=200, seed=0))
            sets = sets.iloc[np.sort(np.random.default_rng(0).choice(len(sets), size=200, replace=False))]
        out[name] = (sets.reset_index(drop=True)[["set_id", "genes", "name"]], exclude)
    return out


def names(sets: pd.DataFrame, exclude: str, setting: str, model: bool) -> list:
    from bftbio.tasks import name_gene_sets, set_evidence

    if model:
        named = name_gene_sets(sets[["set_id", "genes"]], choose="rank", exclude=exclude,
                               enrichment_options=SETTINGS[setting], progress=False)
        return named["process"].tolist()
    evidence = set_evidence(sets[["set_id", "genes"]], exclude=exclude, n_terms=1, max_q=1.0,
                            enrichment_options=SETTINGS[setting])
    return [e["terms"][0]["name"] if e["terms"] else None for e in evidence]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "naming_ontologies.csv"))
    parser.add_argument("--per-set", default=str(Path(__file__).parent / "results" / "naming_ontologies_per_set.csv"))
    parser.add_argument("--model", action="store_true", help="add the shipped adapter's ranking (about 20 minutes)")
    args = parser.parse_args()
    from bftbio.tasks import paired_bootstrap, process_name_scores

    started = time.perf_counter()
    per_set_path = Path(args.per_set)
    done = pd.read_csv(per_set_path) if per_set_path.is_file() else pd.DataFrame(columns=["dataset", "method"])
    data = {**validation_sets(), **benchmark_sets()}
    jobs = [("top term", False)] + ([("shipped adapter", True)] if args.model else [])
    for dataset, (sets, exclude) in data.items():
        for label, model in jobs:
            if model and dataset in ("validation CC", "validation MF"):
                continue
            if model and dataset == "validation BP":
                sets = sets.head(60)  # the validation records every adapter here was chosen on
            for setting in SETTINGS:
                method = f"{label}, evidence {setting}"
                if ((done["dataset"] == dataset) & (done["method"] == method)).any():
                    continue
                t0 = time.perf_counter()
                predicted = names(sets, exclude, setting, model)
                scores = process_name_scores(predicted, sets["name"].tolist(), set_ids=sets["set_id"].tolist(),
                                             progress=False)
                rows = scores.assign(dataset=dataset, method=method, predicted=predicted,
                                     truth=sets["name"].tolist())
                rows = rows[["dataset", "method", "set_id", "truth", "predicted", "rougeL", "similarity"]]
                rows.to_csv(per_set_path, mode="a", header=not per_set_path.is_file(), index=False)
                done = pd.concat([done, rows], ignore_index=True)
                print(f"{dataset:>14} | {method:<32} ROUGE-L {rows['rougeL'].mean():.3f}  "
                      f"similarity {rows['similarity'].mean():.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)

    summary = []
    for (dataset, label), frame in done.assign(label=done["method"].str.split(", evidence").str[0]).groupby(
            ["dataset", "label"], sort=False):
        wide = {m: f.set_index("set_id") for m, f in frame.groupby("method")}
        base, pooled = wide.get(f"{label}, evidence BP"), wide.get(f"{label}, evidence all")
        if base is None or pooled is None:
            continue
        for metric in ("rougeL", "similarity"):
            diff = paired_bootstrap(pooled[metric].to_numpy(), base.loc[pooled.index, metric].to_numpy())
            summary.append({"dataset": dataset, "method": label, "metric": metric, "bp": base[metric].mean(),
                            "all": pooled[metric].mean(), "diff": diff["diff"], "low": diff["low"],
                            "high": diff["high"], "n": diff["n"]})
    summary = pd.DataFrame(summary)
    summary.to_csv(args.out, index=False)
    with pd.option_context("display.width", 200):
        print(summary.round(3).to_string(index=False))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
