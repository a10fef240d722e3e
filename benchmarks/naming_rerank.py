"""A learned reranker of the evidence terms, without a language model: the strongest no-model rule tried.

The evidence block holds a better name than its top term on every data set (docs/genesets.md:
the best of the eight terms in hindsight), and simple rules (most central, most general,
shortest) do worse than the top term. This script asks whether a rule *learned* from the
training records can find the better term:

1. the naming data of the shipped adapter (``build_naming_data(seed=0)``: 3,012 training and
   167 validation GO terms, each a noisy gene list whose evidence excludes the term, its
   lineage and its near-duplicates) and the GeneAgent benchmark (NeST 50, MSigDB 56, the
   seeded sample of 200 GO sets; evidence as the models see it);
2. for every evidence term, 17 features of the term and the list (rank, q and p, overlap,
   recall, precision, size, length, "regulation" wording, word overlap with the other terms,
   containment) and its ROUGE-L against the true name;
3. five regressors fit on the training records (ridge; gradient boosting of depth 2 and 3,
   on the ROUGE-L and on its difference from the set's mean; histogram boosting), each naming
   a set by its highest-scoring term; the one with the best validation ROUGE-L is the rule;
4. ROUGE-L of every rule on validation and on the benchmark, beside the top term of the same
   evidence, with a paired bootstrap interval of the difference.

``--ontology BP`` (default) is the setting of the rows in docs/genesets.md before the evidence
read all three ontologies: processes-only evidence and answers. ``--ontology all`` reads the
evidence as ``name_gene_sets`` now does (all three ontologies) and learns from records whose
answers are terms of all three (``build_naming_data(ontology="all", seed=0)``, validation
terms of all three too), with three more features (the term's ontology); its rows go to
``naming_rerank_all.csv``.

    python benchmarks/naming_rerank.py [--workdir runs/rerank] [--out benchmarks/results/naming_rerank.csv]
                                       [--model-scores 600] [--ontology BP|all]

No language model runs by default: this sets the bar a model's choice has to clear on the same
candidates. ``--model-scores N`` then asks what the model adds to the rule: the base model
(SmolLM2-135M-Instruct, no adapter: it never saw the training records) scores every candidate
as the answer (``name_gene_sets(choose="rank")``, cached in the store), and the chosen rule is
fit on the first N training records with and without three features from those scores (the
candidate's mean log-probability, its rank and its gap to the set's best).
"""

from __future__ import annotations

import argparse
import pickle
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORD = re.compile(r"[a-z0-9]+")
DATASETS = (("NeST", "none"), ("MSigDB", "none"), ("GO", "related"))


def evidence(workdir: Path, ontology: str = "BP") -> dict:
    """{split or data set: (sets with their true names, evidence)}; computed once, kept in ``workdir``."""
    cache = workdir / ("evidence.pkl" if ontology == "BP" else f"evidence_{ontology}.pkl")
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    from bftbio.datasets import geneagent_gene_sets
    from bftbio.tasks import set_evidence
    from bftbio.train import build_naming_data

    options = {"ontology": ontology}
    data = build_naming_data(seed=0, ontology=ontology, enrichment_options=options, n_evidence=1)
    out = {}
    for split in ("train", "validation"):
        records = data.splits[split]
        frame = pd.DataFrame({"set_id": [r["key"] for r in records], "genes": [r["genes"] for r in records]})
        out[split] = (frame.assign(name=[r["name"] for r in records]),
                      set_evidence(frame, exclude="related", enrichment_options=options))
    for dataset, exclude in DATASETS:
        sets = geneagent_gene_sets(dataset)
        if dataset == "GO":  # the benchmark's seeded sample (benchmark_gene_set_naming(sample=200, seed=0))
            sets = sets.iloc[np.sort(np.random.default_rng(0).choice(len(sets), size=200, replace=False))]
        sets = sets.reset_index(drop=True)[["set_id", "genes", "name"]]
        out[dataset] = (sets, set_evidence(sets, exclude=exclude, enrichment_options=options))
    workdir.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(out))
    return out


def features(ev: dict) -> pd.DataFrame | None:
    """One row per evidence term: what the term and its list say, nothing about the true name."""
    terms = ev["terms"]
    if not terms:
        return None
    words = [set(WORD.findall(t["name"].lower())) for t in terms]
    top_q = max(np.log10(max(terms[0]["q_value"], 1e-300)), -60)
    rows = []
    for j, t in enumerate(terms):
        others = [k for k in range(len(terms)) if k != j]
        jaccard = [len(words[j] & words[k]) / max(1, len(words[j] | words[k])) for k in others]
        log_q = max(np.log10(max(t["q_value"], 1e-300)), -60)
        rows.append({
            "rank": j, "n_terms": len(terms), "log_q": log_q, "log_q_vs_top": log_q - top_q,
            "log_p": max(np.log10(max(t["p_value"], 1e-300)), -60), "overlap": t["overlap"],
            "recall": t["overlap"] / max(1, ev["genes_tested"]), "precision": t["overlap"] / t["term_size"],
            "log_size": np.log10(t["term_size"]), "words": len(t["name"].split()), "chars": len(t["name"]),
            "regulation": int("regulation" in t["name"]),
            "signed": int(t["name"].startswith(("positive", "negative"))),
            "word_overlap_mean": float(np.mean(jaccard)) if jaccard else 0.0,
            "word_overlap_max": max(jaccard) if jaccard else 0.0,
            "contained_in": sum(words[j] <= words[k] for k in others),
            "contains": sum(words[k] <= words[j] for k in others),
            **({f"is_{o.lower()}": int(t["ontology"] == o) for o in ("BP", "MF", "CC")}
               if "+" in ev.get("ontology", "BP") else {}),
        })
    return pd.DataFrame(rows)


def candidate_table(sets: pd.DataFrame, evidences: list[dict]) -> pd.DataFrame:
    from bftbio.metrics import rouge_scores

    parts = []
    for i, (ev, truth) in enumerate(zip(evidences, sets["name"])):
        frame = features(ev)
        if frame is None:
            continue
        names = [t["name"] for t in ev["terms"]]
        parts.append(frame.assign(rougeL=rouge_scores(names, [truth] * len(names))["rougeL"].to_numpy(),
                                  set=i, name=names))
    return pd.concat(parts, ignore_index=True)


def model_scores(data: dict, n_train: int, ontology: str) -> dict:
    """{split or data set: one dict per set, candidate name -> the base model's mean log-probability as the answer}."""
    from bftbio.tasks import name_gene_sets

    out = {}
    for name, exclude in (("validation", "related"), *DATASETS, ("train", "related")):
        sets = data[name][0]
        if name == "train":
            sets = sets.iloc[:n_train]
        named = name_gene_sets(sets[["set_id", "genes"]], adapter=None, choose="rank", exclude=exclude,
                               enrichment_options={"ontology": ontology}, progress=False)
        out[name] = [dict(zip(c, s)) for c, s in zip(named["candidates"], named["candidate_scores"])]
    return out


def with_model_features(table: pd.DataFrame, scores: list[dict]) -> pd.DataFrame:
    """The candidate table of the sets that have model scores, plus three features from them."""
    table = table[table["set"] < len(scores)].copy()
    table["model_logprob"] = [scores[s].get(n, np.nan) for s, n in zip(table["set"], table["name"])]
    table["model_logprob"] = table["model_logprob"].fillna(table["model_logprob"].min())
    table["model_rank"] = table.groupby("set")["model_logprob"].rank(ascending=False, method="first") - 1
    table["model_gap"] = table["model_logprob"] - table.groupby("set")["model_logprob"].transform("max")
    return table


def per_set(table: pd.DataFrame, n_sets: int, scores) -> tuple[np.ndarray, np.ndarray, float]:
    """ROUGE-L of the highest-scoring term of each set, of the top term, and the share of sets choosing it."""
    chosen = table.assign(score=scores).sort_values(["set", "score"], ascending=[True, False]).groupby("set").head(1)
    picked, top = np.zeros(n_sets), np.zeros(n_sets)  # a set without evidence scores 0 either way
    picked[chosen["set"].to_numpy()] = chosen["rougeL"].to_numpy()
    first = table[table["rank"] == 0]
    top[first["set"].to_numpy()] = first["rougeL"].to_numpy()
    return picked, top, float((chosen["rank"] == 0).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="runs/rerank", help="where the evidence is kept between runs")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "naming_rerank.csv"))
    parser.add_argument("--ontology", default="BP", choices=["BP", "all"],
                        help="evidence and answers from processes only (the documented rows) or all three ontologies")
    parser.add_argument("--model-scores", type=int, default=0, metavar="N",
                        help="also fit the chosen rule with the base model's candidate scores, on N training records")
    args = parser.parse_args()
    from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from bftbio.tasks import paired_bootstrap

    started = time.perf_counter()
    if args.ontology != "BP" and args.out == parser.get_default("out"):
        args.out = args.out.replace(".csv", f"_{args.ontology}.csv")
    data = evidence(Path(args.workdir), args.ontology)
    tables = {name: (candidate_table(*data[name]), len(data[name][0])) for name in data}
    columns = [c for c in tables["train"][0].columns if c not in ("rougeL", "set", "name")]
    train = tables["train"][0]
    relative = train["rougeL"] - train.groupby("set")["rougeL"].transform("mean")
    boosting = dict(n_estimators=300, learning_rate=0.05, random_state=0)
    rules = {
        "ridge": (make_pipeline(StandardScaler(), Ridge(1.0)), train["rougeL"]),
        "boosting, depth 2": (GradientBoostingRegressor(max_depth=2, **{**boosting, "n_estimators": 200}),
                              train["rougeL"]),
        "boosting, depth 3": (GradientBoostingRegressor(max_depth=3, **boosting), train["rougeL"]),
        "boosting, depth 3, vs set mean": (GradientBoostingRegressor(max_depth=3, **boosting), relative),
        "histogram boosting": (HistGradientBoostingRegressor(max_depth=4, max_iter=300, learning_rate=0.05,
                                                             random_state=0), train["rougeL"]),
    }
    rows = []
    for label, (model, target) in rules.items():
        model.fit(train[columns], target)
        for name in ("validation", *(d for d, _ in DATASETS)):
            table, n_sets = tables[name]
            picked, top, share = per_set(table, n_sets, model.predict(table[columns]))
            diff = paired_bootstrap(picked, top)
            rows.append({"dataset": name, "rule": label, "rougeL": picked.mean(), "top1": top.mean(),
                         "diff": diff["diff"], "low": diff["low"], "high": diff["high"], "n": n_sets,
                         "picks_top_term": share})
    results = pd.DataFrame(rows)
    validation = results[results["dataset"] == "validation"].set_index("rule")["rougeL"]
    chosen = validation.idxmax()
    results["chosen_on_validation"] = results["rule"] == chosen
    for name in tables:
        table, n_sets = tables[name]
        best = table.groupby("set")["rougeL"].max().sum() / n_sets
        rows.append({"dataset": name, "rule": "best term in hindsight (upper bound)", "rougeL": best})
    results = pd.concat([results, pd.DataFrame(rows[len(results):])], ignore_index=True)
    if args.model_scores:
        import copy

        scores = model_scores(data, args.model_scores, args.ontology)
        model_columns = [*columns, "model_logprob", "model_rank", "model_gap"]
        extra = []
        for label, used in ((f"{chosen}, {args.model_scores} records", columns),
                            (f"{chosen} + base model scores, {args.model_scores} records", model_columns),
                            ("base model alone (its likeliest candidate)", None)):
            small = with_model_features(tables["train"][0], scores["train"])
            target = small["rougeL"] - (small.groupby("set")["rougeL"].transform("mean")
                                        if "vs set mean" in chosen else 0.0)
            model = copy.deepcopy(rules[chosen][0]).fit(small[used], target) if used else None
            for name in ("validation", *(d for d, _ in DATASETS)):
                table = with_model_features(tables[name][0], scores[name])
                n_sets = tables[name][1]
                predicted = model.predict(table[used]) if used else table["model_logprob"].to_numpy()
                picked, top, share = per_set(table, n_sets, predicted)
                diff = paired_bootstrap(picked, top)
                extra.append({"dataset": name, "rule": label, "rougeL": picked.mean(), "top1": top.mean(),
                              "diff": diff["diff"], "low": diff["low"], "high": diff["high"], "n": n_sets,
                              "picks_top_term": share})
        results = pd.concat([results, pd.DataFrame(extra)], ignore_index=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    results.round(4).to_csv(args.out, index=False)
    with pd.option_context("display.width", 200):
        print(results.round(3).to_string(index=False))
    print(f"chosen on validation: {chosen}; {time.perf_counter() - started:.0f} s; rows in {args.out}")


if __name__ == "__main__":
    main()
