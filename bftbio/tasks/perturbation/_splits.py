"""Seeded GEARS-style splits of perturbation conditions, with the test subgroups
(``unseen_single``, ``combo_seen0/1/2``) that say what a fitted model saw."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._conditions import listing, parse_condition
from ._prepare import PSEUDOBULK_KEY

SUBGROUPS = ("unseen_single", "combo_seen0", "combo_seen1", "combo_seen2", "seen_single")
#: The subgroups a report shows, in order: GEARS's test subgroups, then all test conditions.
PERTURBATION_SUBGROUPS = ("unseen_single", "combo_seen0", "combo_seen1", "combo_seen2", "all")


@dataclass
class PerturbationSplit:
    """Conditions for training, validation and test, and the subgroup of each.

    ``split["train"]`` etc. work as on GEARS's ``set2conditions`` dictionary. The
    control is in none of the lists: every model uses it as the reference.

    Attributes
    ----------
    train, val, test
        Condition labels.
    subgroup
        Condition → ``"seen_single"`` (its gene is perturbed alone in ``train``),
        ``"unseen_single"``, or ``"combo_seen0"``/``"combo_seen1"``/``"combo_seen2"``
        (how many of its genes are perturbed alone in ``train``).
    excluded
        Conditions held out of every set (``mode="single"``: combinations that hold a
        test gene, as GEARS does).
    """

    train: list[str]
    val: list[str]
    test: list[str]
    subgroup: dict[str, str]
    mode: str = "given"
    seed: int | None = None
    excluded: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[str]:
        if key not in ("train", "val", "test"):
            raise KeyError(f"a split has 'train', 'val' and 'test', not {key!r}")
        return getattr(self, key)

    def to_frame(self) -> pd.DataFrame:
        """One row per condition: ``condition``, ``split``, ``subgroup``."""
        rows = [(c, s, self.subgroup.get(c)) for s in ("train", "val", "test") for c in self[s]]
        rows += [(c, "excluded", self.subgroup.get(c)) for c in self.excluded]
        return pd.DataFrame(rows, columns=["condition", "split", "subgroup"])


def _subgroups(conditions: Iterable[str], train: Sequence[str], genes_of: Callable) -> dict[str, str]:
    seen = {genes_of(c)[0] for c in train if len(genes_of(c)) == 1}
    out = {}
    for c in conditions:
        genes = genes_of(c)
        if len(genes) == 1:
            out[c] = "seen_single" if genes[0] in seen else "unseen_single"
        elif genes:
            out[c] = f"combo_seen{sum(g in seen for g in genes)}"
    return out


def _simulation_split(perts, genes_of, train_gene_fraction, seen2_train_fraction, rng):
    """GEARS's simulation split: hold out perturbed genes, then a share of the all-seen combos."""
    genes = sorted({g for c in perts for g in genes_of(c)})
    train_genes = set(rng.choice(genes, size=int(len(genes) * train_gene_fraction), replace=False).tolist()) \
        if genes else set()
    train, test, all_seen = [], [], []
    for c in perts:
        seen = sum(g in train_genes for g in genes_of(c))
        if seen == len(genes_of(c)):
            (train if len(genes_of(c)) == 1 else all_seen).append(c)
        else:
            test.append(c)
    all_seen = sorted(all_seen)
    to_train = set(rng.choice(len(all_seen), size=int(len(all_seen) * seen2_train_fraction), replace=False).tolist()) \
        if all_seen else set()
    for i, c in enumerate(all_seen):
        (train if i in to_train else test).append(c)
    return train, test


def _single_split(perts, genes_of, fraction, rng):
    """GEARS's single split: singles of a share of genes to test; combos holding them are held out."""
    singles = [c for c in perts if len(genes_of(c)) == 1]
    genes = sorted({g for c in perts for g in genes_of(c)})
    n_test = min(int(len(singles) * fraction), len(genes))
    test_genes = set(rng.choice(genes, size=n_test, replace=False).tolist()) if n_test else set()
    test = [c for c in singles if genes_of(c)[0] in test_genes]
    held = [c for c in perts if len(genes_of(c)) > 1 and test_genes & set(genes_of(c))]
    train = [c for c in perts if c not in set(test) | set(held)]
    return train, test, held


def _combo_split(perts, genes_of, fraction, rng):
    """A share of the combinations to test; every single stays in training (GEARS combo_seen2)."""
    combos = sorted(c for c in perts if len(genes_of(c)) > 1)
    n_test = int(len(combos) * fraction)
    test = set(rng.choice(combos, size=n_test, replace=False).tolist()) if n_test else set()
    return [c for c in perts if c not in test], [c for c in perts if c in test]


def perturbation_split(
    conditions,
    *,
    mode: str | Mapping[str, Sequence[str]] = "simulation",
    seed: int = 0,
    test_fraction: float | None = None,
    val_fraction: float = 0.1,
    combo_seen2_train_fraction: float = 0.75,
    control: str = "ctrl",
    separator: str = "+",
) -> PerturbationSplit:
    """Seeded train/validation/test split of perturbation conditions, GEARS-style.

    Modes (the algorithms of GEARS's ``DataSplitter``, drawn with
    ``numpy.random.default_rng(seed)``, so not the same draws as GEARS; to reuse a
    GEARS split exactly, pass its ``set2conditions`` dictionary as ``mode``):

    - ``"simulation"``: hold out perturbed genes. A ``1 - test_fraction`` share of
      the genes (GEARS's ``train_gene_set_size``, 0.75) are training genes; their
      singles train. Combinations of training genes only: ``combo_seen2_train_fraction``
      of them train, the rest test. Every other condition (a single of a held-out
      gene, a combination with one or two held-out genes) tests. Validation repeats
      this inside the training conditions with ``1 - val_fraction`` (GEARS: 0.9).
      No test single's gene is perturbed alone in training.
    - ``"single"``: the singles of ``int(test_fraction * n_singles)`` genes test
      (default 0.1); combinations holding one of those genes are excluded from all
      sets. Validation repeats this inside training.
    - ``"combo"``: ``test_fraction`` (default 0.1) of the combinations test, their
      singles stay in training (GEARS's ``combo_seen2``); ``val_fraction`` of the
      remaining combinations validate.
    - a mapping ``{"train": [...], "val": [...], "test": [...]}`` (``val`` optional;
      GEARS's ``set2conditions`` works as is, its ``"ctrl"`` is dropped).

    Subgroups are computed the same way for every mode, from the final training set:
    a test single is ``unseen_single`` when its gene is not perturbed alone in
    ``train``, a combination is ``combo_seen{k}`` with k its genes perturbed alone in
    ``train``. (GEARS labels subgroups before carving validation out of training, so
    a GEARS ``combo_seen2`` can hold a gene seen only in validation; here it is
    ``combo_seen1``: the labels say what the fitted model saw.)

    Parameters
    ----------
    conditions
        Condition labels, or an AnnData prepared by :func:`prepare_perturbation` (its
        ``obs_names``, control and separator are used).
    mode, seed, test_fraction, val_fraction, combo_seen2_train_fraction
        See above. ``test_fraction`` defaults to 0.25 for ``"simulation"``, 0.1 otherwise.
    control, separator
        How to read the labels (see :func:`parse_condition`).

    Returns
    -------
    :class:`PerturbationSplit`.

    Examples
    --------
    >>> conditions = ["ctrl", "A+ctrl", "B+ctrl", "C+ctrl", "D+ctrl", "A+B", "A+C", "C+D"]
    >>> split = perturbation_split(conditions, mode="simulation", seed=0)
    >>> sorted(set(split.subgroup[c] for c in split.test))  # doctest: +SKIP
    ['combo_seen1', 'unseen_single']
    """
    if hasattr(conditions, "uns") and PSEUDOBULK_KEY in conditions.uns:
        control = conditions.uns[PSEUDOBULK_KEY]["control"]
        separator = conditions.uns[PSEUDOBULK_KEY]["separator"]
        conditions = list(conditions.obs_names)
    elif hasattr(conditions, "obs"):
        raise TypeError("pass condition labels or an AnnData prepared by prepare_perturbation, "
                        "not a cell-level AnnData")
    labels = list(dict.fromkeys(str(c) for c in conditions))
    cache: dict[str, tuple[str, ...]] = {}

    def genes_of(c: str) -> tuple[str, ...]:
        if c not in cache:
            cache[c] = parse_condition(c, control=control, separator=separator)
        return cache[c]

    perts = [c for c in labels if genes_of(c)]
    rng = np.random.default_rng(seed)
    excluded: list[str] = []
    if isinstance(mode, Mapping):
        unknown_keys = set(mode) - {"train", "val", "test"}
        if unknown_keys:
            raise ValueError(f"a given split has keys 'train', 'val', 'test'; got also {sorted(unknown_keys)}")
        sets = {k: [str(c) for c in mode.get(k, []) if str(c) != control and genes_of(str(c))]
                for k in ("train", "val", "test")}
        known = set(perts)
        missing = sorted({c for s in sets.values() for c in s} - known)
        if missing:  # e.g. a GEARS split of conditions filtered out here
            warnings.warn(f"the given split names {len(missing)} conditions that are not in the data; they are "
                          f"dropped: {listing(missing)}", UserWarning, stacklevel=2)
            sets = {k: [c for c in v if c in known] for k, v in sets.items()}
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            both = sorted(set(sets[a]) & set(sets[b]))
            if both:
                raise ValueError(f"conditions in both {a!r} and {b!r}: {listing(both)}")
        train, val, test = sets["train"], sets["val"], sets["test"]
        excluded = [c for c in perts if c not in set(train) | set(val) | set(test)]
        name = "given"
    elif mode == "simulation":
        fraction = 0.25 if test_fraction is None else test_fraction
        train, test = _simulation_split(perts, genes_of, 1 - fraction, combo_seen2_train_fraction, rng)
        train, val = _simulation_split(train, genes_of, 1 - val_fraction, 1 - val_fraction, rng) \
            if val_fraction > 0 else (train, [])
        name = mode
    elif mode == "single":
        fraction = 0.1 if test_fraction is None else test_fraction
        train, test, excluded = _single_split(perts, genes_of, fraction, rng)
        if val_fraction > 0:
            train, val, held = _single_split(train, genes_of, val_fraction, rng)
            excluded += held
        else:
            val = []
        name = mode
    elif mode == "combo":
        if not any(len(genes_of(c)) > 1 for c in perts):
            raise ValueError("mode='combo' needs combinations (conditions of two genes); the data have none")
        fraction = 0.1 if test_fraction is None else test_fraction
        train, test = _combo_split(perts, genes_of, fraction, rng)
        train, val = _combo_split(train, genes_of, val_fraction, rng) if val_fraction > 0 else (train, [])
        name = mode
    else:
        raise ValueError(f"mode must be 'simulation', 'single', 'combo' or a dict of condition lists, got {mode!r}")
    order = {c: i for i, c in enumerate(labels)}
    train, val, test, excluded = (sorted(s, key=lambda c: order.get(c, len(order)))
                                  for s in (train, val, test, excluded))
    return PerturbationSplit(train=train, val=val, test=test, subgroup=_subgroups(perts, train, genes_of),
                             mode=name, seed=None if name == "given" else seed, excluded=excluded)


def train_conditions(split, prepared) -> list[str]:
    """The training conditions of ``split`` (a split, a dict with ``"train"`` or a list), checked."""
    if isinstance(split, str):
        raise TypeError(f"split must be a PerturbationSplit, a dict with 'train' or a list of training conditions, "
                        f"not the string {split!r}; use perturbation_split(prepared, mode={split!r})")
    if isinstance(split, (PerturbationSplit, Mapping)):
        train = list(split["train"])
    elif split is None:
        raise ValueError("fit needs a split: a PerturbationSplit, a dict with 'train', or a list of conditions")
    else:
        train = [str(c) for c in split]
    control = prepared.uns[PSEUDOBULK_KEY]["control"]
    train = [c for c in train if c != control]
    missing = [c for c in train if c not in prepared.obs_names]
    if missing:
        raise ValueError(f"{len(missing)} training conditions are not in the prepared data: {listing(missing)}")
    if not train:
        raise ValueError("the split has no training condition")
    return train
