
import pytest

from bftbio import knowledge
from bftbio.datasets import packaged_dir
from bftbio.train import TrainingData, benchmark_exclusion, build_training_data, read_records

SHARED = packaged_dir() / "geneagent"


@pytest.fixture(scope="module")
def small():
    return build_training_data(n_genes=30, n_gene_sets=20, wordings=2, exclude={"go_ids": ["GO:0006915"]}, seed=1)


def test_splits_hold_out_genes_and_terms(small):
    assert set(small.genes["train"]).isdisjoint(small.genes["test"])
    assert set(small.genes["train"]).isdisjoint(small.genes["validation"])
    assert set(small.terms["train"]).isdisjoint(small.terms["test"])
    keys = {r["key"] for r in small.splits["train"]}
    assert keys.isdisjoint(small.genes["test"]) and keys.isdisjoint(small.terms["validation"])


def test_answers_only_state_knowledge(small):
    profiles = [r for r in small.splits["train"] if r["kind"] == "profile"]
    assert profiles and all(r["answer"].startswith(r["key"] + " (") for r in profiles)
    # Several wordings of the same fact.
    per_gene = {}
    for r in profiles:
        per_gene.setdefault(r["key"], set()).add(r["prompt"])
    assert all(len(p) == 2 for p in per_gene.values())
    sets = [r for r in small.splits["train"] if r["kind"] == "gene_set"]
    names = knowledge.go_terms("BP")["name"]
    assert all(r["answer"].startswith(f"Process: {names[r['key']]}\n") for r in sets)


def test_user_exclusion_keeps_the_lineage_out(small):
    related = knowledge.related_terms(["GO:0006915"], jaccard=None)
    used = set().union(*small.terms.values())
    assert used.isdisjoint(related)
    record = small.provenance["exclusion"]
    assert record["source"] == "user-given" and record["n_terms_excluded"] == len(related)


def test_seeded(small):
    again = build_training_data(n_genes=30, n_gene_sets=20, wordings=2, exclude={"go_ids": ["GO:0006915"]}, seed=1)
    assert again.provenance["data_hash"] == small.provenance["data_hash"]


def test_roundtrip(small, tmp_path):
    small.to_jsonl(tmp_path)
    back = TrainingData.from_folder(tmp_path)
    assert back.splits == small.splits and back.genes == small.genes


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="exclude must be"):
        benchmark_exclusion("everything")
    (tmp_path / "x.csv").write_text("question,answer\nq,a\n")
    with pytest.raises(ValueError, match="'prompt' and 'answer'"):
        read_records(tmp_path / "x.csv")
    (tmp_path / "y.jsonl").write_text('{"prompt": "q", "answer": 3}\n')
    with pytest.raises(ValueError, match="record 0"):
        read_records(tmp_path / "y.jsonl")


def test_missing_benchmark_files_explain_the_options(tmp_path):
    with pytest.raises(FileNotFoundError, match="exclude=None"):
        benchmark_exclusion("geneagent", data=tmp_path)


def test_geneagent_benchmark_is_kept_out():
    terms, record = benchmark_exclusion("geneagent", data=SHARED)
    sets = knowledge.gene_sets("BP", min_size=3, max_size=100)
    removed = len(set(sets) & terms)
    assert record["n_gene_sets"] == 1106 and record["n_go_ids"] == 1000
    assert 5000 < removed < 6000 and len(sets) - removed > 3800  # ~5,500 removed, ~4,100 left
    data = build_training_data(n_genes=5, n_gene_sets=50, exclude="geneagent", benchmark_data=SHARED)
    assert set().union(*data.terms.values()).isdisjoint(terms)


def test_exclude_genes_are_never_drawn(small):
    """Genes kept out (e.g. a benchmark's test genes; aliases resolved) never get profile examples."""
    drawn = sorted(set().union(*small.genes.values()))
    kept_out = drawn[:5] + ["p53"]
    again = build_training_data(n_genes=30, n_gene_sets=20, wordings=2, exclude={"go_ids": ["GO:0006915"]}, seed=1,
                                exclude_genes=kept_out)
    used = set().union(*again.genes.values())
    assert used.isdisjoint(drawn[:5] + ["TP53"]) and len(used) == len(drawn)
    assert again.provenance["genes_kept_out"] == 6
