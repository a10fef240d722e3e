"""Fit and predict time of InteractionClassifier on the full Gene2vec splits (CPU).

The baseline, measured in the same run, is the bare scikit-learn work: the same
pipeline fitted on a feature matrix built by plain numpy indexing. The ratio shows
what bftbio's name resolution and missing-gene bookkeeping add.

    python benchmarks/bench_interaction.py [--data DIR/gene2vec] [--classifier logistic]

Uses knowledge-profile embeddings of every Gene2vec gene from the default store (the
first run computes the missing ones).
"""

from __future__ import annotations

import argparse
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="folder of the Gene2vec files (default $BFTBIO_DATA/gene2vec)")
    parser.add_argument("--classifier", default="logistic", choices=["logistic", "forest", "mlp"])
    parser.add_argument("--combine", default="sum", choices=["sum", "hadamard", "concat"])
    args = parser.parse_args()

    import numpy as np

    import bftbio
    from bftbio.datasets import gene2vec_interactions
    from bftbio.tasks import InteractionClassifier, combine_pair, interaction_genes
    from bftbio.tasks._interaction import make_classifier

    train = gene2vec_interactions("train", path=args.data)
    test = gene2vec_interactions("test", path=args.data)
    genes = interaction_genes(data=args.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        emb = bftbio.embed_genes(genes, source="knowledge")

    # Baseline: rows by plain dictionary lookup of the names as written, then sklearn.
    start = time.perf_counter()
    row = {g: i for i, g in enumerate(emb.index)}
    values = emb.to_numpy()

    def features(frame):
        a = np.array([row[g] for g in frame["gene_a"]])
        b = np.array([row[g] for g in frame["gene_b"]])
        x = combine_pair(values[a], values[b], args.combine)
        ok = ~np.isnan(x).any(axis=1)
        return x[ok], ok

    x_train, ok = features(train)
    model = make_classifier(args.classifier).fit(x_train, train["label"].to_numpy()[ok])
    t_base_fit = time.perf_counter() - start
    start = time.perf_counter()
    x_test, _ = features(test)
    model.predict_proba(x_test)
    t_base_predict = time.perf_counter() - start

    clf = InteractionClassifier(emb, combine=args.combine, classifier=args.classifier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        start = time.perf_counter()
        clf.fit(train[["gene_a", "gene_b"]], train["label"])
        t_fit = time.perf_counter() - start
        start = time.perf_counter()
        clf.predict_proba(test[["gene_a", "gene_b"]])
        t_predict = time.perf_counter() - start
    print(f"{len(train):,} train pairs, {len(test):,} test pairs, {emb.shape[1]}-d knowledge embeddings, "
          f"{args.combine} + {args.classifier}")
    print(f"  fit:     InteractionClassifier {t_fit:6.1f} s, bare scikit-learn {t_base_fit:6.1f} s, "
          f"ratio {t_fit / t_base_fit:.2f}")
    print(f"  predict: InteractionClassifier {t_predict:6.2f} s, bare scikit-learn {t_base_predict:6.2f} s, "
          f"ratio {t_predict / t_base_predict:.2f}")


if __name__ == "__main__":
    main()
