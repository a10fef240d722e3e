"""What the knowledge vectors owe to gene location, on the interaction benchmark.

The knowledge profile's first sentence can name each gene's chromosome and cytoband
(``knowledge_profile``). On tumour cells that helps, since genes of one chromosome arm share
copy-number changes (``cells_tried.py``). Whether two genes interact has little to do with
where they lie. This script embeds every Gene2vec gene's profile with and without that phrase,
fits the interaction benchmark's settings on the train split for each (sum and concat,
logistic; the validation split picks one), and reports validation and test AUROC and AUPRC.
It also gives a paired bootstrap interval of the test AUROC difference over the same pairs.
These figures made the default leave the phrase out (``bftbio.embed.KNOWLEDGE_OPTIONS``).

    python benchmarks/knowledge_location.py [--data DIR/gene2vec] [--out benchmarks/results/knowledge_location.csv]

Real data only (the full Gene2vec splits). About 16 minutes on 2 CPU cores with nothing
cached: 7 to encode each set of 12,445 profiles, 2 to fit. Both sets of vectors are kept in
the default store (``embed_genes(..., knowledge_options={"location": True})`` for the phrase).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def paired_auroc_difference(scores: pd.DataFrame, method: str, baseline: str, *, n_boot: int = 1000,
                            seed: int = 0) -> dict:
    """Test AUROC of ``method`` minus ``baseline`` on the pairs both scored, with a percentile bootstrap over pairs."""
    from sklearn.metrics import roc_auc_score

    wide = scores.pivot_table(index=["gene_a", "gene_b", "label"], columns="method", values="score").dropna()
    y = wide.index.get_level_values("label").to_numpy(dtype=int)
    a, b = wide[method].to_numpy(), wide[baseline].to_numpy()
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        diffs.append(roc_auc_score(y[i], a[i]) - roc_auc_score(y[i], b[i]))
    return {"diff": roc_auc_score(y, a) - roc_auc_score(y, b), "low": float(np.quantile(diffs, 0.025)),
            "high": float(np.quantile(diffs, 0.975)), "n": len(y)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="folder of the Gene2vec files (default: the packaged data)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "knowledge_location.csv"))
    args = parser.parse_args()
    import bftbio
    from bftbio.tasks import evaluate_interactions, interaction_genes

    started = time.perf_counter()
    genes = interaction_genes(data=args.data)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(human gene symbols|match several genes).*")
        embeddings = {"knowledge with location": bftbio.embed_genes(
                          genes, source="knowledge", progress=False, knowledge_options={"location": True}),
                      "knowledge (default, no location)": bftbio.embed_genes(genes, source="knowledge",
                                                                             progress=False)}
    print(f"{len(genes)} genes embedded both ways, {time.perf_counter() - started:.0f} s", flush=True)
    table, scores = evaluate_interactions(embeddings, data=args.data, combines=("sum", "concat"),
                                          classifiers=("logistic",), return_scores=True)
    d = paired_auroc_difference(scores, "knowledge (default, no location)", "knowledge with location")
    table = pd.concat([table, pd.DataFrame([{
        "task": "interaction", "dataset": table["dataset"].iloc[0], "split": "test",
        "method": "knowledge (default, no location) - knowledge with location", "metric": "auroc_difference",
        "value": d["diff"], "low": d["low"], "high": d["high"], "n": d["n"]}])], ignore_index=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    shown = table[table["metric"].isin(["auroc", "auprc", "auroc_difference"])]
    with pd.option_context("display.width", 200):
        print(shown.drop(columns=["task"]).round(4).to_string(index=False))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
