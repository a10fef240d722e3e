"""Score the naming adapters of ``naming_losses.py`` beside their evidence, set by set.

Each model (the base model, then every finished adapter, then ``--adapter`` folders)
names, by ranking the evidence's terms (``name_gene_sets(choose="rank")``; ``--choose
generate`` lets it write the name instead):

* ``validation``: the first ``--n-validation`` records of the naming data's validation
  split (GO terms never trained on, shown as noisy lists with the term, its lineage and
  near-duplicates excluded from the evidence) — for model selection;
* ``NeST``, ``MSigDB`` and ``GO`` (seeded sample of ``--go-sample``): the GeneAgent
  benchmark, for reporting.

Beside them, once: the rules without a model over the same evidence (top-1, central,
general, short; see ``bftbio.tasks.evidence_rule_names``), the best candidate in hindsight
(an upper bound, not a method), and on the benchmark the published GeneAgent and GPT-4
answers and the shuffled-names floor. Per-set ROUGE-L and MiniLM similarity go to
``--per-set`` (appended model by model, so a killed run loses one model at most); the
summary (``--summary``) gives each method's mean and the paired bootstrap interval of
(method − top-1 of the same evidence), and each loss's mean over seeds with a t interval.

    python benchmarks/naming_eval.py
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

PER_SET = ["dataset", "method", "set_id", "truth", "predicted", "rougeL", "similarity"]
TOP = "top enriched GO term (evidence top-1)"
#: The rows in benchmarks/results/naming_eval*.csv were measured on processes-only evidence; this
#: keeps a rerun comparable with them (naming_ontologies.py compares it with all three ontologies).
EVIDENCE = {"ontology": "BP"}


def _validation_sets(folder: Path, n: int) -> pd.DataFrame:
    records = [json.loads(line) for line in open(folder / "validation.jsonl")][:n]
    return pd.DataFrame({"set_id": [r["key"] for r in records], "genes": [r["genes"] for r in records],
                         "name": [r["name"] for r in records]})


def _append(path: Path, frame: pd.DataFrame) -> None:
    new = not path.is_file()
    frame[PER_SET].to_csv(path, mode="a", header=new, index=False, quoting=csv.QUOTE_MINIMAL)


def _score(dataset, method, sets, predicted):
    from bftbio.tasks import process_name_scores

    scores = process_name_scores(list(predicted), sets["name"].tolist(), set_ids=sets["set_id"].tolist(),
                                 progress=False)
    return scores.assign(dataset=dataset, method=method)


def _baselines(validation: pd.DataFrame, go_sample: int, data, limit=None) -> pd.DataFrame:
    from bftbio.metrics import rouge_scores
    from bftbio.tasks import EVIDENCE_RULES, benchmark_gene_set_naming, evidence_rule_names, set_evidence

    frames = []
    evidence = set_evidence(validation, exclude="related", enrichment_options=EVIDENCE)
    for rule in EVIDENCE_RULES:
        label = TOP if rule == "top" else f"rule: {rule} (no model)"
        frames.append(_score("validation", label, validation, evidence_rule_names(evidence, rule)))
    best = []
    for ev, truth in zip(evidence, validation["name"]):
        names = [t["name"] for t in ev["terms"]]
        if not names:
            best.append(None)
            continue
        r = rouge_scores(names, [truth] * len(names))["rougeL"].to_numpy()
        best.append(names[int(np.argmax(r))])
    frames.append(_score("validation", "best evidence term in hindsight (upper bound)", validation, best))
    _, per_set = benchmark_gene_set_naming(("NeST", "MSigDB", "GO"), sample=go_sample, data=data, limit=limit,
                                           enrichment_options=EVIDENCE, return_per_set=True, progress=False)
    frames.append(per_set)
    # The best candidate in hindsight on the benchmark too (an upper bound, not a method).
    from bftbio.datasets import geneagent_gene_sets
    from bftbio.tasks import EVIDENCE_EXCLUSION, HEADLINE_ENRICHMENT

    for dataset in ("NeST", "MSigDB", "GO"):
        sets = geneagent_gene_sets(dataset, path=data)
        scored = per_set[(per_set["dataset"] == dataset) & (per_set["method"] == HEADLINE_ENRICHMENT[dataset])]
        sets = sets.set_index("set_id").loc[scored["set_id"]].reset_index()  # the benchmark's (sampled) sets
        ev = set_evidence(sets, exclude=EVIDENCE_EXCLUSION[dataset], enrichment_options=EVIDENCE)
        best = []
        for e, truth in zip(ev, sets["name"]):
            names = [t["name"] for t in e["terms"]]
            r = rouge_scores(names, [truth] * len(names))["rougeL"].to_numpy() if names else []
            best.append(names[int(np.argmax(r))] if names else None)
        frames.append(_score(dataset, "best evidence term in hindsight (upper bound)", sets, best))
    return pd.concat(frames, ignore_index=True)


def _model(label, adapter, validation, go_sample, data, limit=None, parts=("validation", "benchmark"),
           choose="rank") -> pd.DataFrame:
    from bftbio.tasks import benchmark_gene_set_naming, name_gene_sets

    started = time.perf_counter()
    frames = []
    if "validation" in parts:
        named = name_gene_sets(validation, adapter=adapter, choose=choose, exclude="related",
                               enrichment_options=EVIDENCE, progress=False)
        frames.append(_score("validation", label, validation, named["process"]))
    if "benchmark" in parts:
        _, per_set = benchmark_gene_set_naming(("NeST", "MSigDB", "GO"), methods=(), sample=go_sample, data=data,
                                               limit=limit, models={label: {"adapter": adapter, "choose": choose}},
                                               enrichment_options=EVIDENCE, return_per_set=True, progress=False)
        frames.append(per_set)
    print(f"{label}: {' and '.join(parts)} scored in {time.perf_counter() - started:.0f} s", flush=True)
    return pd.concat(frames, ignore_index=True)


def summarise(per_set: pd.DataFrame, headline: dict[str, str]) -> pd.DataFrame:
    """Each method's means, and its paired bootstrap interval against the dataset's top-1."""
    from bftbio.tasks import paired_bootstrap

    rows = []
    for (dataset, method), group in per_set.groupby(["dataset", "method"], sort=False):
        base = per_set[(per_set["dataset"] == dataset) & (per_set["method"] == headline[dataset])]
        merged = group.merge(base, on="set_id", suffixes=("", "_top"))
        for metric in ("rougeL", "similarity"):
            row = {"dataset": dataset, "method": method, "metric": metric, "n": len(group),
                   "value": float(group[metric].mean())}
            if len(merged) == len(group) and method != headline[dataset] and group[metric].notna().all():
                boot = paired_bootstrap(merged[metric].to_numpy(), merged[f"{metric}_top"].to_numpy())
                row.update(diff_vs_top1=boot["diff"], diff_low=boot["low"], diff_high=boot["high"])
            rows.append(row)
    return pd.DataFrame(rows)


def by_loss(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of each loss, with a t interval (methods labelled ``<loss>-<seed>``)."""
    from bftbio.tasks import mean_interval

    runs = summary[summary["method"].str.match(r"^(sft|dft|bft|bft-local)-\d+$")].copy()
    runs["loss"] = runs["method"].str.rsplit("-", n=1).str[0]
    rows = []
    for (dataset, metric, loss), group in runs.groupby(["dataset", "metric", "loss"]):
        m = mean_interval(group["value"])
        d = mean_interval(group["diff_vs_top1"]) if "diff_vs_top1" in group else {"mean": np.nan}
        rows.append({"dataset": dataset, "metric": metric, "loss": loss, "seeds": m["n"], "mean": m["mean"],
                     "low": m["low"], "high": m["high"], "diff_vs_top1": d["mean"]})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="runs/naming_data")
    parser.add_argument("--runs", default="runs/naming_losses")
    parser.add_argument("--train-csv", default="benchmarks/results/naming_losses_train.csv")
    parser.add_argument("--per-set", default="benchmarks/results/naming_eval_per_set.csv")
    parser.add_argument("--summary", default="benchmarks/results/naming_eval.csv")
    parser.add_argument("--n-validation", type=int, default=60)
    parser.add_argument("--go-sample", type=int, default=200)
    parser.add_argument("--benchmark-data", default=None, help="folder of the GeneAgent files")
    parser.add_argument("--limit", type=int, default=None, help="first sets of each benchmark dataset only (a smoke run)")
    parser.add_argument("--models", nargs="*", default=None, help="labels to score (default: base and every run)")
    parser.add_argument("--parts", nargs="+", default=["validation", "benchmark"], choices=["validation", "benchmark"],
                        help="validation only selects a loss quickly; the benchmark is for reporting")
    parser.add_argument("--choose", default="rank", choices=["rank", "generate"],
                        help="how models name; 'generate' labels them '<label> (generate)'")
    parser.add_argument("--adapter", nargs="*", default=[], metavar="LABEL=DIR",
                        help="adapters outside --runs, e.g. shipped=data/adapters/naming")
    args = parser.parse_args()

    per_set_path = Path(args.per_set)
    per_set_path.parent.mkdir(parents=True, exist_ok=True)
    validation = _validation_sets(Path(args.data), args.n_validation)
    data = args.benchmark_data
    scored = pd.read_csv(per_set_path) if per_set_path.is_file() else pd.DataFrame(columns=PER_SET)
    done = set(zip(scored["dataset"], scored["method"]))
    if ("validation", TOP) not in done:
        _append(per_set_path, _baselines(validation, args.go_sample, data, args.limit))
    labels = args.models
    if labels is None:
        trained = pd.read_csv(args.train_csv) if Path(args.train_csv).is_file() else pd.DataFrame(columns=["loss"])
        labels = ["base"] + [f"{r.loss}-{r.seed}" for r in trained.itertuples()]
    folders = dict(spec.split("=", 1) for spec in args.adapter)
    labels = list(labels) + [label for label in folders if label not in labels]
    for label in labels:
        shown = label if args.choose == "rank" else f"{label} (generate)"
        parts = [p for p in args.parts if (("validation" if p == "validation" else "NeST"), shown) not in done]
        if not parts:
            continue
        adapter = None if label == "base" else folders.get(label, str(Path(args.runs) / label))
        _append(per_set_path, _model(shown, adapter, validation, args.go_sample, data, args.limit, parts, args.choose))

    from bftbio.tasks import HEADLINE_ENRICHMENT

    per_set = pd.read_csv(per_set_path, keep_default_na=False, na_values=[""])
    headline = {"validation": TOP, **HEADLINE_ENRICHMENT}
    summary = summarise(per_set, headline)
    summary.to_csv(args.summary, index=False)
    losses = by_loss(summary)
    losses.to_csv(Path(args.summary).with_name("naming_losses.csv"), index=False)
    pd.set_option("display.width", 200)
    view = summary[summary["metric"] == "rougeL"].drop(columns="metric")
    print(view.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if len(losses):
        print(losses.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
