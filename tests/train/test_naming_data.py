"""Gene-set naming records at volume: noisy lists, evidence without the answer, held-out terms."""

import pytest

from bftbio import knowledge
from bftbio.prompts import ANSWER_PREFIX
from bftbio.train import build_naming_data, naming_answer


@pytest.fixture(scope="module")
def data():
    return build_naming_data(n_terms=40, exclude=None, holdout=(0.1, 0.1), seed=3)


def test_records_have_the_shared_prompt_and_a_grounded_answer(real_kb, data):
    records = [r for split in data.splits.values() for r in split]
    assert len(records) == 40 and {len(v) for k, v in data.splits.items() if k != "train"} == {4}
    names = knowledge.go_terms("BP")["name"]
    for r in records:
        assert r["kind"] == "naming" and r["name"] == names[r["key"]]
        assert r["answer"].startswith(f"{ANSWER_PREFIX}{r['name']}\n")
        assert r["prompt"].startswith("Name the most significant biological process performed by these genes: ")
        assert "GO enrichment of these genes" in r["prompt"]
        assert "<name>" not in r["prompt"] and "<" not in r["answer"]
        assert len(r["answer"].splitlines()) == 2 and r["answer"].endswith(".")


def test_the_answer_and_its_relatives_are_never_in_the_evidence(real_kb, data):
    sets = knowledge.gene_sets("BP", min_size=5, max_size=300)
    for r in data.splits["train"]:
        members = [set(knowledge.resolve_symbols(r["genes"]).dropna())]
        related = set().union(*(knowledge.related_terms([r["key"]], members, ontology=o) for o in ("BP", "MF", "CC")))
        ids = {t["go_id"] for t in knowledge.gene_set_evidence(r["genes"], set_id=r["key"], exclude="related")["terms"]}
        assert not ids & related
        assert r["name"] not in r["candidates"]
        # Lists are noisy: some members may be dropped, some outsiders added, but at least 3 members stay.
        members = set(sets[r["key"]])
        assert len(set(r["genes"]) & members) >= min(3, len(members))
    noisy = [r for r in data.splits["train"] if set(r["genes"]) - set(sets[r["key"]])]
    dropped = [r for r in data.splits["train"] if set(sets[r["key"]]) - set(r["genes"])]
    assert noisy and dropped


def test_seeded_and_held_out_terms_stay_out(real_kb, data):
    again = build_naming_data(n_terms=40, exclude=None, holdout=(0.1, 0.1), seed=3)
    assert again.provenance["data_hash"] == data.provenance["data_hash"]
    term = data.splits["train"][0]["key"]
    parent = sorted(knowledge.ancestors(term) & set(knowledge.gene_sets("BP", min_size=5, max_size=300)))
    kept_out = build_naming_data(n_terms=30, exclude=None, held_out=[term], seed=3, holdout=(0.1, 0.1))
    keys = {r["key"] for split in kept_out.splits.values() for r in split}
    assert term not in keys and not set(parent) & keys
    assert kept_out.provenance["held_out"]["n_go_ids"] == 1
    # Holding out a term removes it and its lineage from the eligible pool, not just from the sample.
    removed = kept_out.provenance["held_out"]["terms_in_size_range_excluded"]
    assert removed >= 1 + len(parent)
    assert kept_out.provenance["terms"]["eligible"] == data.provenance["terms"]["eligible"] - removed
    with pytest.raises(ValueError, match="GO IDs"):
        build_naming_data(n_terms=5, exclude=None, held_out=["apoptosis"])
    with pytest.raises(ValueError, match="keep"):
        build_naming_data(n_terms=5, exclude=None, keep=(0.5, 1.5))


def test_answer_names_listed_members_and_evidence():
    evidence = {"terms": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    text = naming_answer("x process", ["G1", "G2", "G3", "G4"], {"G2", "G4"}, evidence)
    assert text == "Process: x process\nG2 and G4 take part in it and the enrichment for a and b points to it."
    assert naming_answer("y", ["G1"], {"G1"}, {"terms": []}) == "Process: y\nG1 takes part in it."


def test_train_config_task_naming_builds_these_records(real_kb):
    from bftbio.train import TrainConfig
    from bftbio.train._finetune import data_from_config

    data = data_from_config(TrainConfig(task="naming", n_terms=6, exclude=None, seed=1))
    assert sum(len(v) for v in data.splits.values()) == 6
    assert {r["kind"] for v in data.splits.values() for r in v} == {"naming"}
    assert data.provenance["builder"] == "bftbio.train.build_naming_data"


def test_answers_and_evidence_from_chosen_ontologies(real_kb):
    cc = build_naming_data(n_terms=12, exclude=None, holdout=(0.25, 0.0), ontology="CC", seed=1)
    terms = knowledge.go_terms()
    background = knowledge.background("CC")
    records = [r for split in cc.splits.values() for r in split]
    assert records and all(terms.loc[r["key"], "ontology"] == "CC" for r in records)
    assert all(r["name"] == terms.loc[r["key"], "name"] and set(r["genes"]) <= background for r in records)
    assert cc.provenance["terms"]["ontology"] == "CC"
    assert cc.provenance["lists"]["evidence_options"]["ontology"] == "BP+MF+CC"
    assert all(r["name"] not in r["candidates"] for r in records)  # the answer never shows in its evidence
    bp_only = build_naming_data(n_terms=12, exclude=None, holdout=(0.25, 0.0), ontology="CC",
                                enrichment_options={"ontology": "BP"}, seed=1)
    assert bp_only.provenance["lists"]["evidence_options"]["ontology"] == "BP"
    shown = {c for split in bp_only.splits.values() for r in split for c in r["candidates"]}
    assert shown and shown <= set(knowledge.go_terms("BP")["name"])
    assert bp_only.provenance["data_hash"] != cc.provenance["data_hash"]
    with pytest.raises(ValueError, match="ontology must"):
        build_naming_data(n_terms=5, exclude=None, ontology="XX")


def test_evaluation_reads_the_evidence_the_records_were_built_with():
    from bftbio.train._evaluate import _naming_settings

    assert _naming_settings({"builder": "bftbio.train.build_naming_data", "terms": {"ontology": "CC"},
                             "lists": {"evidence_options": {"ontology": "BP+MF+CC"}}}) == ("CC", {"ontology": "BP+MF+CC"})
    # naming data written before evidence read three ontologies recorded neither: processes only
    assert _naming_settings({"builder": "bftbio.train.build_naming_data", "terms": {}, "lists": {}}) == \
        ("BP", {"ontology": "BP"})
    assert _naming_settings({}) == ("BP", {})  # other data: name_gene_sets' default evidence
