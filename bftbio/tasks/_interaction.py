"""Gene–gene interaction classification from gene embeddings (the Gene2vec benchmark).

A pair of genes becomes one feature vector (``combine``), and a scikit-learn
classifier predicts whether they interact. Genes are matched through the knowledge
base, so aliases in the pairs find the embedding of the official symbol.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .. import knowledge
from .._checks import check_finite
from ..datasets import gene2vec_interactions, gene_pairs

#: How two gene vectors become one pair vector (see :func:`combine_pair`); all symmetric.
COMBINES = ("sum", "hadamard", "concat")
#: Classifier names :class:`InteractionClassifier` accepts besides a scikit-learn estimator.
CLASSIFIERS = ("logistic", "forest", "mlp")
MISSING = ("drop", "prior")


def combine_pair(a: np.ndarray, b: np.ndarray, how: str = "sum") -> np.ndarray:
    """One symmetric feature vector per pair (rows of ``a`` and ``b``).

    ``"sum"``: a + b (GenePT's choice); ``"hadamard"``: a ⊙ b; ``"concat"``:
    a + b ‖ |a − b| ‖ a ⊙ b. Each is unchanged when a and b swap.
    """
    if how == "sum":
        return a + b
    if how == "hadamard":
        return a * b
    if how == "concat":
        return np.hstack([a + b, np.abs(a - b), a * b])
    raise ValueError(f"combine must be one of {COMBINES}, got {how!r}")


def make_classifier(classifier="logistic", random_state: int | None = 0):
    """A fresh scikit-learn classifier: a name in :data:`CLASSIFIERS` or a clone of an estimator."""
    if not isinstance(classifier, str):
        if not hasattr(classifier, "fit") or not hasattr(classifier, "predict_proba"):
            raise TypeError(f"classifier must be a name in {CLASSIFIERS} or an estimator with fit and predict_proba, "
                            f"got {type(classifier).__name__}")
        return clone(classifier)
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if classifier == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    if classifier == "forest":
        return RandomForestClassifier(n_estimators=300, min_samples_leaf=2, n_jobs=-1, random_state=random_state)
    if classifier == "mlp":
        return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3,
                                                             early_stopping=True, random_state=random_state))
    raise ValueError(f"classifier must be one of {CLASSIFIERS} or a scikit-learn estimator, got {classifier!r}")


class GeneLookup:
    """Rows of an embedding table by official symbol (names resolved through the knowledge base)."""

    def __init__(self, embeddings: pd.DataFrame) -> None:
        if not isinstance(embeddings, pd.DataFrame):
            raise TypeError(f"embeddings must be a gene x dimension DataFrame, got {type(embeddings).__name__}")
        values = embeddings.to_numpy(dtype=np.float32)
        symbols = embeddings.attrs.get("symbol")
        if symbols is None or len(symbols) != len(embeddings):
            symbols = knowledge.resolve_symbols([str(i) for i in embeddings.index], warn=False).tolist()
        usable = ~check_finite(values, "the embedding table", rows=embeddings.index, columns=embeddings.columns,
                               nan_rows_ok=True, fix="a gene without a vector is a row of NaN (as embed_genes "
                               "writes unknown genes); any other NaN or inf is an error")
        self.values = values
        self.row: dict[str, int] = {}
        for i, symbol in enumerate(symbols):
            if usable[i] and symbol is not None and not pd.isna(symbol) and symbol not in self.row:
                self.row[str(symbol)] = i
        self._resolved: dict[str, str | None] = {}

    def rows(self, names: Sequence[str]) -> np.ndarray:
        """Row index of each name, −1 where the gene is unknown or has no embedding."""
        new = [n for n in dict.fromkeys(names) if n not in self._resolved]
        if new:
            resolved = knowledge.resolve_symbols(new, warn=False)
            self._resolved.update({n: (None if pd.isna(s) else str(s)) for n, s in zip(new, resolved)})
        out = np.full(len(names), -1, dtype=np.int64)
        for i, n in enumerate(names):
            symbol = self._resolved[n]
            if symbol is not None:
                out[i] = self.row.get(symbol, -1)
        return out


class InteractionClassifier(ClassifierMixin, BaseEstimator):
    """Predict gene–gene interactions from gene embeddings (scikit-learn style).

    Parameters
    ----------
    embeddings
        Gene × dimension DataFrame, e.g. from :func:`bftbio.embed_genes`; its index
        (or ``attrs["symbol"]``) names the genes. Rows of NaN mean "no embedding".
    combine
        How two gene vectors become one pair vector: ``"sum"`` (GenePT),
        ``"hadamard"`` or ``"concat"`` (sum ‖ |a−b| ‖ product); see :func:`combine_pair`.
    classifier
        ``"logistic"`` (standardised features, L2 logistic regression), ``"forest"``
        (random forest), ``"mlp"`` (one hidden layer, early stopping), or any
        scikit-learn estimator with ``predict_proba`` (cloned).
    missing
        Pairs with a gene that has no embedding: ``"drop"`` (left out of fitting;
        their probability is NaN) or ``"prior"`` (left out of fitting; scored with
        the training positive rate). Either way they are counted in
        ``missing_`` and a warning names them.
    random_state
        Seed of the classifiers that use one.

    Attributes
    ----------
    model_
        The fitted scikit-learn estimator.
    prior_
        Positive rate of the pairs the model was fitted on.
    missing_
        ``{"fit": {...}, "predict": {...}}``: pairs seen, pairs without an
        embedding and example genes, for the last fit and the last prediction.

    Examples
    --------
    >>> import bftbio
    >>> from bftbio.tasks import InteractionClassifier
    >>> emb = bftbio.embed_genes(genes, source="knowledge")  # doctest: +SKIP
    >>> clf = InteractionClassifier(emb).fit(pairs, labels)  # doctest: +SKIP
    >>> clf.predict_proba([("TP53", "MDM2")])[:, 1]  # doctest: +SKIP
    """

    def __init__(self, embeddings=None, combine: str = "sum", classifier="logistic", missing: str = "drop",
                 random_state: int | None = 0) -> None:
        self.embeddings = embeddings
        self.combine = combine
        self.classifier = classifier
        self.missing = missing
        self.random_state = random_state

    # -- features -----------------------------------------------------------------------
    def _lookup(self) -> GeneLookup:
        key = id(self.embeddings)
        if getattr(self, "_lookup_key", None) != key:
            if self.embeddings is None:
                raise ValueError("InteractionClassifier needs embeddings (a gene x dimension DataFrame)")
            self._lookup_cache = GeneLookup(self.embeddings)
            self._lookup_key = key
        return self._lookup_cache

    def transform(self, pairs) -> tuple[np.ndarray, np.ndarray]:
        """Pair features and a mask of the pairs that have both embeddings."""
        if self.combine not in COMBINES:
            raise ValueError(f"combine must be one of {COMBINES}, got {self.combine!r}")
        pairs = gene_pairs(pairs)
        lookup = self._lookup()
        a = lookup.rows(pairs["gene_a"].tolist())
        b = lookup.rows(pairs["gene_b"].tolist())
        ok = (a >= 0) & (b >= 0)
        features = combine_pair(lookup.values[a[ok]], lookup.values[b[ok]], self.combine)
        return features, ok

    def _record_missing(self, stage: str, pairs: pd.DataFrame, ok: np.ndarray) -> None:
        bad = pairs[~ok]
        lookup = self._lookup()
        genes = [g for g in pd.unique(bad[["gene_a", "gene_b"]].to_numpy().ravel()) if lookup.rows([g])[0] < 0]
        self.missing_ = {**getattr(self, "missing_", {}),
                         stage: {"n_pairs": len(pairs), "n_missing": int((~ok).sum()), "genes": genes}}
        if len(bad):
            what = "left out of the fit" if stage == "fit" else (
                "scored NaN" if self.missing == "drop" else f"scored with the prior {self.prior_:.3f}")
            warnings.warn(f"{len(bad)} of {len(pairs)} pairs have a gene without an embedding ({len(genes)} genes, "
                          f"e.g. {', '.join(genes[:5])}); policy {self.missing!r}: {what}", UserWarning, stacklevel=3)

    # -- scikit-learn API ------------------------------------------------------------------
    def fit(self, pairs, labels):
        """Fit on labelled pairs (labels 0/1, one per pair)."""
        if self.missing not in MISSING:
            raise ValueError(f"missing must be one of {MISSING}, got {self.missing!r}")
        pairs = gene_pairs(pairs)
        y = np.asarray(labels)
        if len(y) != len(pairs):
            raise ValueError(f"got {len(pairs)} pairs but {len(y)} labels")
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"labels must be 0 or 1, got values {sorted(set(np.unique(y).tolist()))[:5]}")
        features, ok = self.transform(pairs)
        y = y[ok].astype(int)
        if len(np.unique(y)) < 2:
            raise ValueError(f"the {ok.sum()} pairs with embeddings hold one class only; cannot fit a classifier")
        self.prior_ = float(y.mean())
        self._record_missing("fit", pairs, ok)
        self.model_ = make_classifier(self.classifier, self.random_state).fit(features, y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, pairs) -> np.ndarray:
        """``(n, 2)`` probabilities of no interaction / interaction, in the order of ``pairs``."""
        if not hasattr(self, "model_"):
            raise ValueError("this InteractionClassifier is not fitted yet; call fit(pairs, labels) first")
        pairs = gene_pairs(pairs)
        features, ok = self.transform(pairs)
        p = np.full(len(pairs), np.nan if self.missing == "drop" else self.prior_)
        if ok.any():
            p[ok] = self.model_.predict_proba(features)[:, 1]
        self._record_missing("predict", pairs, ok)
        return np.column_stack([1 - p, p])

    def predict(self, pairs) -> np.ndarray:
        """1 where the interaction probability is at least 0.5 (NaN for dropped pairs)."""
        p = self.predict_proba(pairs)[:, 1]
        return np.where(np.isnan(p), np.nan, (p >= 0.5).astype(float))


def random_embeddings(genes: Sequence[str], dim: int = 384, seed: int = 0) -> pd.DataFrame:
    """Unit-norm Gaussian vectors, one per gene: the floor every real source must beat."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((len(genes), dim)).astype(np.float32)
    values /= np.linalg.norm(values, axis=1, keepdims=True)
    return pd.DataFrame(values, index=pd.Index(list(genes), name="gene"))


def sample_pairs(pairs: pd.DataFrame, n_genes: int, seed: int = 0) -> pd.DataFrame:
    """The pairs among a seeded random sample of ``n_genes`` of the split's genes.

    Sampling genes, not pairs, keeps a sample's cost (one profile per gene) small
    while every kept pair has both of its genes.
    """
    genes = sorted(set(pairs["gene_a"]) | set(pairs["gene_b"]))
    if n_genes >= len(genes):
        return pairs
    chosen = set(np.random.default_rng(seed).choice(genes, size=n_genes, replace=False).tolist())
    keep = pairs["gene_a"].isin(chosen) & pairs["gene_b"].isin(chosen)
    return pairs[keep].reset_index(drop=True)


def interaction_genes(*, data=None, splits=("train", "validation", "test")) -> list[str]:
    """Every gene of the Gene2vec splits (sorted), e.g. to embed them once."""
    genes: set[str] = set()
    for split in splits:
        frame = gene2vec_interactions(split, path=data)
        genes |= set(frame["gene_a"]) | set(frame["gene_b"])
    return sorted(genes)


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {"auroc": float(roc_auc_score(y, p)), "auprc": float(average_precision_score(y, p))}


def evaluate_interactions(
    embeddings: Mapping[str, pd.DataFrame],
    *,
    data=None,
    splits: Mapping[str, pd.DataFrame] | None = None,
    combines: Sequence[str] = ("sum",),
    classifiers: Sequence = ("logistic",),
    missing: str = "drop",
    dataset: str = "gene2vec",
    random_state: int = 0,
    return_scores: bool = False,
):
    """Compare embedding sources on the interaction benchmark, as a tidy table.

    For each source, every ``combine`` × ``classifier`` is fitted on the train
    split and scored on the validation split; the best validation AUROC picks the
    setting, and only that one is scored on the test split. A ``prior`` row (every
    pair scored with the training positive rate) stands beside them.

    Parameters
    ----------
    embeddings
        ``{method name: gene × dimension DataFrame}``.
    data
        Folder of the Gene2vec files (default ``$BFTBIO_DATA/gene2vec`` or the cache).
    splits
        ``{"train": pairs, "validation": pairs, "test": pairs}`` with columns
        ``gene_a, gene_b, label``, e.g. a sample (:func:`sample_pairs`); default:
        the full Gene2vec splits.
    combines, classifiers, missing, random_state
        See :class:`InteractionClassifier`.
    dataset
        The name written in the table.
    return_scores
        Also return the test-split scores, one row per pair and method (columns
        ``method, gene_a, gene_b, label, score``), for :func:`bftbio.pl.roc_curves`.

    Returns
    -------
    Tidy DataFrame ``task, dataset, split, method, metric, value, n, setting``;
    metrics ``auroc``, ``auprc`` and ``n_missing`` (pairs without both embeddings,
    left out of the scores when ``missing="drop"``); ``setting`` names the
    combine and classifier chosen on the validation split.
    """
    if splits is None:
        splits = {s: gene2vec_interactions(s, path=data) for s in ("train", "validation", "test")}
    for name in ("train", "validation", "test"):
        if name not in splits:
            raise ValueError(f"splits needs 'train', 'validation' and 'test'; got {list(splits)}")
    rows: list[dict] = []
    scored: list[pd.DataFrame] = []

    def add(split, method, metric, value, n, setting=None):
        rows.append({"task": "interaction", "dataset": dataset, "split": split, "method": method,
                     "metric": metric, "value": value, "n": n, "setting": setting})

    train = splits["train"]
    for split in ("validation", "test"):
        y = splits[split]["label"].to_numpy()
        for metric, value in _scores(y, np.full(len(y), train["label"].mean())).items():
            add(split, "prior", metric, value, len(y))
    for method, table in embeddings.items():
        best = None
        for combine, classifier in itertools.product(combines, classifiers):
            clf = InteractionClassifier(table, combine=combine, classifier=classifier, missing=missing,
                                        random_state=random_state)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                clf.fit(train[["gene_a", "gene_b"]], train["label"])
                p = clf.predict_proba(splits["validation"][["gene_a", "gene_b"]])[:, 1]
            keep = ~np.isnan(p)
            auroc = _scores(splits["validation"]["label"].to_numpy()[keep], p[keep])["auroc"]
            if best is None or auroc > best[0]:
                best = (auroc, clf, p)
        _, clf, p_val = best
        name = clf.classifier if isinstance(clf.classifier, str) else type(clf.classifier).__name__
        setting = f"{clf.combine}+{name}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            p_test = clf.predict_proba(splits["test"][["gene_a", "gene_b"]])[:, 1]
        for split, p in (("validation", p_val), ("test", p_test)):
            frame = splits[split]
            keep = ~np.isnan(p)
            n_missing = int((~clf.transform(frame[["gene_a", "gene_b"]])[1]).sum())
            for metric, value in _scores(frame["label"].to_numpy()[keep], p[keep]).items():
                add(split, method, metric, value, int(keep.sum()), setting)
            add(split, method, "n_missing", float(n_missing), len(frame), setting)
        scored.append(splits["test"][["gene_a", "gene_b", "label"]].assign(method=method, score=p_test))
    table = pd.DataFrame(rows)
    if return_scores:
        return table, pd.concat(scored, ignore_index=True)[["method", "gene_a", "gene_b", "label", "score"]]
    return table


def predict_network(genes: Sequence[str], classifier: InteractionClassifier, *, threshold: float = 0.5):
    """A ``networkx.Graph`` of the interactions predicted among ``genes``.

    Every pair of distinct genes is scored; edges with probability ≥ ``threshold``
    are kept, with the probability as the edge attribute ``probability`` (and
    ``weight``). Every gene is a node, with ``found`` telling whether it had an
    embedding (a gene without one has no edges).
    """
    import networkx as nx

    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    if not hasattr(classifier, "model_"):
        raise ValueError("predict_network needs a fitted InteractionClassifier")
    genes = list(dict.fromkeys(genes))
    rows = classifier._lookup().rows(genes)
    graph = nx.Graph()
    for gene, row in zip(genes, rows):
        graph.add_node(gene, found=bool(row >= 0))
    pairs = [(a, b) for a, b in itertools.combinations(genes, 2)]
    if not pairs:
        return graph
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        p = classifier.predict_proba(pairs)[:, 1]
    for (a, b), prob in zip(pairs, p):
        if not np.isnan(prob) and prob >= threshold and graph.nodes[a]["found"] and graph.nodes[b]["found"]:
            graph.add_edge(a, b, probability=float(prob), weight=float(prob))
    return graph


def annotation_counts(genes: Sequence[str]) -> pd.DataFrame:
    """A one-column "embedding": log(1 + number of GO annotations) of each gene.

    The trivial baseline of interaction benchmarks: well-studied genes have more
    annotations and more recorded interactions, so any embedding that encodes how
    much is known about a gene gets this much for free.
    """
    counts = knowledge.go_annotations().groupby("symbol")["go_id"].nunique()
    symbols = knowledge.resolve_symbols(list(genes), warn=False)
    values = [np.log1p(counts.get(s, 0)) if pd.notna(s) else np.nan for s in symbols]
    return pd.DataFrame({0: np.asarray(values, dtype=np.float32)}, index=pd.Index(list(genes), name="gene"))


def benchmark_interactions(
    methods: Mapping[str, dict | str],
    *,
    data=None,
    sample_genes: Mapping[str, int] | None = None,
    seed: int = 0,
    combines: Sequence[str] = ("sum",),
    classifiers: Sequence = ("logistic",),
    return_scores: bool = False,
    progress: bool | None = None,
):
    """Embed the Gene2vec genes with each method and run :func:`evaluate_interactions`.

    Parameters
    ----------
    methods
        ``{name: spec}``; a spec is ``"random"``, ``"annotations"`` (see
        :func:`annotation_counts`) or the keyword arguments of
        :func:`bftbio.embed_genes` (e.g. ``{"source": "knowledge"}``,
        ``{"source": "profile", "adapter": "runs/bft"}``).
    data
        Folder of the Gene2vec files.
    sample_genes
        ``{"train": n, "validation": n, "test": n}``: keep only the pairs among a
        seeded sample of each split's genes (:func:`sample_pairs`), so that slow
        sources (model-written profiles) are affordable; every method is scored
        on the same sample. Default: the full splits.
    seed, combines, classifiers, return_scores
        See :func:`sample_pairs` and :func:`evaluate_interactions`.
    """
    from ..embed import embed_genes

    splits = {s: gene2vec_interactions(s, path=data) for s in ("train", "validation", "test")}
    dataset = "gene2vec"
    if sample_genes:
        unknown = set(sample_genes) - set(splits)
        if unknown:
            raise ValueError(f"sample_genes keys must be split names {list(splits)}, got {sorted(unknown)}")
        splits = {s: sample_pairs(f, sample_genes[s], seed=seed) if s in sample_genes else f for s, f in splits.items()}
        dataset = "gene2vec (sample: " + ", ".join(f"{s} {n} genes" for s, n in sample_genes.items()) + ")"
    genes = sorted(set().union(*(set(f["gene_a"]) | set(f["gene_b"]) for f in splits.values())))
    tables = {}
    for name, spec in methods.items():
        if spec == "random":
            tables[name] = random_embeddings(genes, seed=seed)
        elif spec == "annotations":
            tables[name] = annotation_counts(genes)
        elif isinstance(spec, Mapping):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # unknown genes are counted in n_missing
                tables[name] = embed_genes(genes, progress=progress, **spec)
        else:
            raise ValueError(f"method {name!r}: spec must be 'random', 'annotations' or embed_genes options, got {spec!r}")
    return evaluate_interactions(tables, splits=splits, combines=combines, classifiers=classifiers, dataset=dataset,
                                 random_state=seed, return_scores=return_scores)
