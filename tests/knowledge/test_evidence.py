"""The evidence of a gene set: top enriched terms with the one exclusion rule."""

import pytest

from bftbio import knowledge
from bftbio.knowledge import gene_set_evidence

PEROXINS = ["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7"]


def test_peroxins_point_to_peroxisomes_and_unknown_names_are_listed(real_kb):
    ev = gene_set_evidence(PEROXINS + ["NOTAGENE"], n_terms=4)
    assert "peroxisom" in ev["terms"][0]["name"]
    assert len(ev["terms"]) == 4 and ev["n_significant"] >= 4
    assert ev["known_genes"] == 6 and ev["unknown_genes"] == 1 and ev["unknown"] == ["NOTAGENE"]
    assert all(t["q_value"] <= 0.05 for t in ev["terms"])
    assert [t["p_value"] for t in ev["terms"]] == sorted(t["p_value"] for t in ev["terms"])
    assert set(ev["terms"][0]["genes"]) <= set(PEROXINS)


def test_related_rule_removes_the_sets_term_lineage_and_near_duplicates(real_kb):
    sets = knowledge.gene_sets("BP", min_size=10, max_size=20)
    term = sorted(sets)[0]
    genes = sorted(sets[term])
    shown = {t["go_id"] for t in gene_set_evidence(genes, set_id=term, n_terms=50)["terms"]}
    assert term in shown  # nothing excluded: the set finds its own term
    kept = gene_set_evidence(genes, set_id=term, exclude="related", n_terms=50)
    ids = {t["go_id"] for t in kept["terms"]}
    related = set().union(*(knowledge.related_terms([term], [set(genes)], ontology=o) for o in ("BP", "MF", "CC")))
    assert not ids & related and kept["n_excluded"] == len(related)
    assert not ids & (knowledge.ancestors(term) | knowledge.descendants(term))


def test_all_ontologies_merge_the_single_lists_by_p_value(real_kb):
    pooled = gene_set_evidence(PEROXINS, n_terms=200, max_q=1.0)
    assert pooled["ontology"] == "BP+MF+CC"
    assert pooled["universe_sizes"] == {o: len(knowledge.background(o)) for o in ("BP", "MF", "CC")}
    assert pooled["universe_size"] == max(pooled["universe_sizes"].values())
    singles = [gene_set_evidence(PEROXINS, n_terms=200, max_q=1.0, ontology=o)["terms"] for o in ("BP", "MF", "CC")]
    for o, terms in zip(("BP", "MF", "CC"), singles):
        assert {t["ontology"] for t in terms} == {o}
        # each ontology keeps its own q-values (corrected over its own terms)
        assert [(t["go_id"], t["q_value"]) for t in terms] == \
            [(t["go_id"], t["q_value"]) for t in pooled["terms"] if t["ontology"] == o]
    assert sum(map(len, singles)) == len(pooled["terms"])
    p = [t["p_value"] for t in pooled["terms"]]
    assert p == sorted(p) and {t["ontology"] for t in pooled["terms"]} == {"BP", "MF", "CC"}
    assert gene_set_evidence(PEROXINS, ontology=["cc", "BP"])["ontology"] == "BP+CC"
    assert gene_set_evidence(PEROXINS, ontology="CC+BP")["ontology"] == "BP+CC"  # the record's own label


def test_bad_options_are_named(real_kb):
    with pytest.raises(ValueError, match="ontology must"):
        gene_set_evidence(PEROXINS, ontology="XX")
    with pytest.raises(ValueError, match="at least one"):
        gene_set_evidence(PEROXINS, ontology=[])
    with pytest.raises(ValueError, match="exclude must be one of"):
        gene_set_evidence(PEROXINS, exclude="all")
    with pytest.raises(ValueError, match="n_terms"):
        gene_set_evidence(PEROXINS, n_terms=0)
    with pytest.raises(ValueError, match="unknown"):
        gene_set_evidence(PEROXINS, min_sise=3)
