"""What the model knows about the genes, apart from the words it likes: the evidence's terms rescored by PMI.

Ranked by its plain likelihood as the answer, a candidate name wins as much for being a
phrase the model likes as for fitting the genes (the "surface form competition" of
Holtzman et al., 2021): the base model alone is far below the top enriched term
(docs/genesets.md). This script separates the two. For every evidence term ``c`` of a set
with genes ``g`` the model (no evidence in the prompt, so it cannot copy the ranking) gives

* ``log p(c | g)``: the summed log-probability of ``Process: c`` after the request with the
  set's genes, and
* ``log p(c | N/A)``: the same after the request with the content-free gene list ``N/A``
  (the calibration input of Zhao et al., 2021),

and their difference, the pointwise mutual information ``PMI(c; g)``, is what the genes
add to the model's belief in the name. A set is then named by ``-rank(c) + lam * PMI(c; g)``
over its evidence terms (rank 0 is the top term); ``lam`` is chosen on the validation terms
of all three ontologies (``naming_ontologies.validation_sets``: 167 BP, 150 CC, 150 MF GO
terms never trained on, noisy lists, term, lineage and near-duplicates excluded) and only
reported on the benchmark (NeST 50, MSigDB 56, GO 200 with the related rule). ``lam = 0`` is
the top term; a large ``lam`` is PMI alone.

The evidence is the default of ``name_gene_sets`` (all three ontologies, at most 8 terms at
q <= 0.05). Rows (ROUGE-L and MiniLM similarity, paired bootstrap against the top term of
the same evidence) go to ``--out``; each candidate's scores to ``--candidates``.

    python benchmarks/naming_pmi.py [--model default] [--adapter none|default|PATH] [--workdir runs/pmi]

Model scores are kept in ``--workdir`` data set by data set, so a rerun resumes. About 20
minutes on 2 CPU cores per model, 6 once scored (building the validation evidence). Each
model's rows replace its earlier rows in both files and keep the other models'.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from naming_ontologies import benchmark_sets, validation_sets  # noqa: E402

RANDOM = "a candidate at random (expected)"
LAMBDAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 1000.0)
NULL_GENES = ["N/A"]


def candidates_of(sets: pd.DataFrame, exclude: str) -> list[list[str]]:
    """The evidence terms of each set, top term first, as ``name_gene_sets(choose="rank")`` would rank them."""
    from bftbio.tasks import set_evidence

    return [[t["name"] for t in e["terms"]] for e in set_evidence(sets[["set_id", "genes"]], exclude=exclude)]


def model_scores(llm, sets: pd.DataFrame, options: list[list[str]]) -> tuple[list, list]:
    """Summed log-probabilities of each candidate after the genes-only request and after the N/A request."""
    from bftbio.models import candidate_logprobs
    from bftbio.prompts import ANSWER_PREFIX, SYSTEM_PROMPT, naming_prompt

    kwargs = dict(prefix=ANSWER_PREFIX, suffix="\n", system=SYSTEM_PROMPT, progress=False, reduction="sum")
    prompts = [naming_prompt(list(g)) for g in sets["genes"]]
    given = candidate_logprobs(llm, prompts, options, **kwargs)
    every = sorted({c for o in options for c in o})
    chunks = [every[i:i + 16] for i in range(0, len(every), 16)]  # one prompt, its candidates in batches of 16
    null_scores = candidate_logprobs(llm, [naming_prompt(NULL_GENES)] * len(chunks), chunks, **kwargs)
    null = dict(zip(every, np.concatenate(null_scores) if every else []))
    prior = [np.array([null[c] for c in o]) for o in options]
    return given, prior


def save_rows(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (one model's rows) to ``path``, replacing that model's earlier rows and keeping the others'."""
    if path.is_file():
        earlier = pd.read_csv(path)
        frame = pd.concat([earlier[earlier["model"] != frame["model"].iloc[0]], frame], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.round(4).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="a Hugging Face id or local path; 'default' is SmolLM2-135M")
    parser.add_argument("--adapter", default="none", help="'none' (the base model) or 'default' (the shipped one)")
    parser.add_argument("--workdir", default="runs/pmi")
    parser.add_argument("--limit", type=int, default=None, help="the first N sets of each data set (a smoke test)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "naming_pmi.csv"))
    parser.add_argument("--candidates", default=str(Path(__file__).parent / "results" / "naming_pmi_candidates.csv.gz"))
    args = parser.parse_args()
    from bftbio.models import load_llm, resolve_adapter
    from bftbio.tasks import paired_bootstrap, process_name_scores

    started = time.perf_counter()
    adapter = None if args.adapter == "none" else resolve_adapter(args.adapter, args.model, task="naming")
    label = "base model" if adapter is None else f"adapter {args.adapter}"
    if args.model != "default":
        label = f"{args.model}, {label}"
    workdir = Path(args.workdir) / f"{Path(args.model).name}-{Path(args.adapter).name}"
    workdir.mkdir(parents=True, exist_ok=True)
    data = {**validation_sets(), **benchmark_sets()}
    if args.limit:
        data = {k: (sets.head(args.limit), exclude) for k, (sets, exclude) in data.items()}
    llm = None
    tables = []
    for dataset, (sets, exclude) in data.items():
        cache = workdir / f"{dataset.replace(' ', '_')}-{len(sets)}.pkl"
        ids = sets["set_id"].tolist()
        cached = pickle.loads(cache.read_bytes()) if cache.is_file() else None
        if cached is not None and cached[0] == ids:
            _, options, given, prior = cached
        else:  # not scored yet, or scored for other sets: score again
            t0 = time.perf_counter()
            options = candidates_of(sets, exclude)
            llm = llm or load_llm(args.model, adapter=adapter, merge=adapter is not None)
            given, prior = model_scores(llm, sets, options)
            scratch = cache.with_suffix(".tmp")  # a killed run leaves no half-written cache
            scratch.write_bytes(pickle.dumps((ids, options, given, prior)))
            scratch.replace(cache)
            print(f"{dataset:>14}: {len(sets)} sets scored in {time.perf_counter() - t0:.0f} s", flush=True)
        names = [c for o in options for c in o]
        truths = [t for o, t in zip(options, sets["name"]) for _ in o]
        scores = process_name_scores(names, truths, progress=False)
        tables.append(pd.DataFrame({
            "dataset": dataset, "set": [i for i, o in enumerate(options) for _ in o],
            "set_id": [s for o, s in zip(options, sets["set_id"]) for _ in o],
            "rank": [k for o in options for k in range(len(o))], "name": names, "truth": truths,
            "logp_genes": np.concatenate(given) if names else [], "logp_null": np.concatenate(prior) if names else [],
            "rougeL": scores["rougeL"].to_numpy(), "similarity": scores["similarity"].to_numpy(),
            "n_sets": len(sets)}))
    table = pd.concat(tables, ignore_index=True)
    table["pmi"] = table["logp_genes"] - table["logp_null"]
    save_rows(table.assign(model=label), Path(args.candidates))

    def picks(frame: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
        """The highest-scoring candidate of each set (a set without candidates scores 0)."""
        chosen = frame.assign(score=score).sort_values(["set", "score"], ascending=[True, False]).groupby("set").head(1)
        n = int(frame["n_sets"].iloc[0])
        out = pd.DataFrame({"rougeL": np.zeros(n), "similarity": np.zeros(n), "top": np.zeros(n)})
        out.loc[chosen["set"].to_numpy(), ["rougeL", "similarity"]] = chosen[["rougeL", "similarity"]].to_numpy()
        out.loc[chosen["set"].to_numpy(), "top"] = (chosen["rank"] == 0).to_numpy(dtype=float)
        return out

    def random_pick(frame: pd.DataFrame) -> pd.DataFrame:
        """The expected score of a candidate drawn uniformly from each set's evidence (no model, no ranking)."""
        n = int(frame["n_sets"].iloc[0])
        means = frame.groupby("set")[["rougeL", "similarity"]].mean()
        out = pd.DataFrame({"rougeL": np.zeros(n), "similarity": np.zeros(n), "top": np.zeros(n)})
        out.loc[means.index.to_numpy(), ["rougeL", "similarity"]] = means.to_numpy()
        out.loc[means.index.to_numpy(), "top"] = 1.0 / frame.groupby("set").size().to_numpy()  # P(the top term)
        return out

    rules = {f"-rank + {lam:g} * PMI": (lambda f, lam=lam: -f["rank"].to_numpy() + lam * f["pmi"].to_numpy())
             for lam in LAMBDAS}
    rules["log p(c | genes) alone"] = lambda f: f["logp_genes"].to_numpy()
    rules["log p(c | N/A) alone (the prior)"] = lambda f: f["logp_null"].to_numpy()
    validation = table[table["dataset"].str.startswith("validation")]
    pooled = {rule: np.mean(np.concatenate([picks(f, score(f))["rougeL"].to_numpy()
                                            for _, f in validation.groupby("dataset")])) for rule, score in rules.items()}
    lam_rules = [r for r in rules if r.startswith("-rank")]
    chosen = max(lam_rules, key=lambda r: (round(pooled[r], 6), -lam_rules.index(r)))  # ties: the smaller lam
    rows = []
    for dataset, frame in table.groupby("dataset", sort=False):
        top = picks(frame, -frame["rank"].to_numpy())
        for rule, score in [*rules.items(), (RANDOM, None)]:
            picked = picks(frame, score(frame)) if score else random_pick(frame)
            row = {"model": label, "dataset": dataset, "rule": rule, "chosen_on_validation": rule == chosen,
                   "n": len(picked), "picks_top_term": float(picked["top"].mean())}
            for metric in ("rougeL", "similarity"):
                diff = paired_bootstrap(picked[metric].to_numpy(), top[metric].to_numpy())
                row.update({metric: picked[metric].mean(), f"{metric}_top1": top[metric].mean(),
                            f"{metric}_diff": diff["diff"], f"{metric}_low": diff["low"],
                            f"{metric}_high": diff["high"]})
            rows.append(row)
    results = pd.DataFrame(rows)
    within = {}  # how well each score orders a set's candidates by ROUGE-L: mean Spearman over sets
    for dataset, frame in table.groupby("dataset", sort=False):
        varied = [g for _, g in frame.groupby("set") if len(g) > 2 and g["rougeL"].std() > 0]
        within[dataset] = {col: float(np.mean([g[col].corr(g["rougeL"], method="spearman") for g in varied]))
                           for col in ("rank", "pmi", "logp_genes", "logp_null")}
    results = results.merge(pd.DataFrame(within).T.add_prefix("spearman_").rename_axis("dataset").reset_index(),
                            on="dataset")
    results["validation_pooled_rougeL"] = results["rule"].map(pooled)
    out = Path(args.out)
    save_rows(results, out)
    shown = results[(results["model"] == label)
                    & (results["chosen_on_validation"] | ~results["rule"].str.startswith("-rank")
                       | results["rule"].isin(["-rank + 0 * PMI", "-rank + 1000 * PMI"]))]
    print("Mean Spearman correlation, within a set, of each score with the candidates' ROUGE-L:")
    print(pd.DataFrame(within).T.round(3).to_string())
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(shown[["dataset", "rule", "rougeL", "rougeL_top1", "rougeL_diff", "rougeL_low", "rougeL_high",
                     "similarity_diff", "picks_top_term"]].round(3).to_string(index=False))
    print(f"{label}: chosen on validation (pooled ROUGE-L {pooled[chosen]:.3f}): {chosen}; "
          f"{time.perf_counter() - started:.0f} s; rows in {out}")


if __name__ == "__main__":
    main()
