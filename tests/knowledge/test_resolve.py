"""resolve_symbols: the five rules, ambiguity, warnings, errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

from bftbio.knowledge import resolve_symbols


def _quiet(names):
    return resolve_symbols(names, warn=False)


def test_rules_on_the_tiny_snapshot(tiny_kb):
    names = ["AAA1", "aaa1", 2, "2", "ENSG00000000001.5", "al1", "BB", "na", " CCC3 ", "40", "OLDDUP"]
    result = _quiet(names)
    assert result.tolist() == ["AAA1", "AAA1", "BBB2", "BBB2", "AAA1", "AAA1", "BBB2", "CCC3",
                               "CCC3", "DUP", "DUP"]
    assert list(result.index) == names
    assert result.attrs == {"unknown": [], "ambiguous": {}}


def test_ambiguous_names_are_reported_not_guessed(tiny_kb):
    result = _quiet(["shared", "ENSG00000000009"])
    assert result.isna().all()
    assert result.attrs["ambiguous"] == {"shared": ["AAA1", "BBB2"], "ENSG00000000009": ["CCC3", "DUP"]}
    assert result.attrs["unknown"] == []


def test_unknown_names_are_reported_once(tiny_kb):
    result = _quiet(["ZZZ", "AAA1", "ZZZ", 999])
    assert result.index.tolist() == ["ZZZ", "AAA1", "ZZZ", 999]
    assert result.isna().tolist() == [True, False, True, True]
    assert result.attrs["unknown"] == ["ZZZ", 999]


def test_one_warning_per_kind(tiny_kb):
    names = [f"UNKNOWN{i}" for i in range(12)] + ["SHARED"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resolve_symbols(names)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 2
    assert "12 of 13" in messages[0] and "'UNKNOWN9'" in messages[0]
    assert "'UNKNOWN10'" not in messages[0] and "2 more" in messages[0]
    assert "'SHARED' (AAA1, BBB2)" in messages[1]


def test_no_warning_when_all_resolve(tiny_kb):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_symbols(["AAA1", np.int64(2)])


@pytest.mark.parametrize("bad", [None, 3.0, float("nan"), True, b"AAA1"])
def test_bad_entries_raise_type_error(tiny_kb, bad):
    with pytest.raises(TypeError, match=r"names\[1\]"):
        resolve_symbols(["AAA1", bad])


def test_a_single_string_is_refused(tiny_kb):
    with pytest.raises(TypeError, match="single string"):
        resolve_symbols("AAA1")


def test_real_examples(real_kb):
    names = ["p53", "P53", "HER2", "ERBB2", 7157, "7157", "ENSG00000141510", "ENSG00000141510.17", "tp53"]
    result = _quiet(names)
    assert result.tolist() == ["TP53", "TP53", "ERBB2", "ERBB2"] + ["TP53"] * 5
    assert result.dtype == pd.StringDtype()


def test_real_ambiguous_alias_is_reported(real_kb):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = resolve_symbols(["NEU", "TP53", "NOT_A_GENE_X"])
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "'NOT_A_GENE_X'" in messages[0] and "NEU" not in messages[0]
    assert "'NEU' (ERBB2, NEU1, NEURL1)" in messages[1]
    assert pd.isna(result.iloc[0])
    assert result.attrs["ambiguous"] == {"NEU": ["ERBB2", "NEU1", "NEURL1"]}
    assert result.attrs["unknown"] == ["NOT_A_GENE_X"]


def test_official_symbol_beats_an_alias_of_another_gene(real_kb):
    # MAP2 and DAO are official symbols and also aliases of METAP2 and AOC1;
    # rule 1 applies before any alias lookup.
    assert _quiet(["MAP2", "DAO", "map2"]).tolist() == ["MAP2", "DAO", "MAP2"]
