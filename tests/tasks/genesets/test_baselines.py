"""The top-enriched-term baseline on the tiny ontology (see tests/knowledge/test_enrichment.py)."""

import pandas as pd
import pytest

from bftbio.tasks import enrichment_names

SETS = pd.DataFrame({"set_id": ["GO:0000003", "mine"], "genes": [["AAA1", "BBB2"], ["AAA1", "BBB2"]]})
OPTIONS = {"min_size": 1, "min_overlap": 1, "ontology": "BP"}


def test_no_exclusion_names_the_set_by_its_own_term(tiny_kb):
    names = enrichment_names(SETS, exclude="none", **OPTIONS)
    assert names["process"].tolist() == ["grandchild process", "grandchild process"]


def test_term_exclusion_falls_back_to_the_parent(tiny_kb):
    names = enrichment_names(SETS, exclude="term", **OPTIONS)
    # GO:0000003 excluded: 0002 and 0006 tie at p = 1/2, and 0002 has the larger overlap.
    assert names.loc[0, "process"] == "child process"
    assert names.loc[1, "process"] == "grandchild process"  # not a GO id: nothing of its own to exclude


def test_lineage_and_related_exclusion_leave_nothing_here(tiny_kb):
    assert enrichment_names(SETS.iloc[:1], exclude="lineage", **OPTIONS).loc[0, "process"] is None
    related = enrichment_names(SETS, exclude="related", **OPTIONS)
    assert related["process"].isna().all()  # Jaccard >= 0.5 removes 0001, 0002, 0003, 0006
    assert related["n_excluded"].tolist() == [4, 4]


def test_all_ontologies_rank_together_and_exclude_in_each(tiny_kb):
    options = {**OPTIONS, "ontology": "all"}
    names = enrichment_names(SETS.iloc[1:], exclude="none", **options)
    # BP's grandchild holds both genes (p = 1/6); MF's and CC's terms hold one of them each
    assert names.loc[0, ["go_id", "ontology"]].tolist() == ["GO:0000003", "BP"]
    # {AAA1, BBB2}: in BP, 0003 holds both; in MF and CC a term holds one of them (Jaccard 1/2),
    # so the related rule removes the four BP terms and the two of each other ontology.
    related = enrichment_names(SETS, exclude="related", **options)
    assert related["process"].isna().all() and related["n_excluded"].tolist() == [8, 8]
    lineage = enrichment_names(SETS.iloc[:1], exclude="lineage", **options)
    assert lineage.loc[0, "ontology"] in {"MF", "CC"}  # the BP lineage is gone; the other ontologies remain


def test_bad_arguments(tiny_kb):
    with pytest.raises(ValueError, match="ontology must"):
        enrichment_names(SETS, ontology="XX")
    with pytest.raises(ValueError, match="exclude must be one of"):
        enrichment_names(SETS, exclude="everything")
    with pytest.raises(ValueError, match="columns"):
        enrichment_names(pd.DataFrame({"genes": [["AAA1"]]}))
