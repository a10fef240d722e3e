import pandas as pd
import pytest

from bftbio.train import build_training_data, compare_losses, evaluate, knowledge_probes
from bftbio.train._probes import score_probes


@pytest.fixture(scope="module")
def data():
    return build_training_data(n_genes=20, n_gene_sets=10, exclude=None, seed=3)


def test_probes_draw_distractors_from_the_answer_pool(data):
    from bftbio import knowledge

    items = knowledge_probes(data.genes["train"], seed=0)
    assert {i["kind"] for i in items} == {"gene_process", "process_gene"}
    answers = {i["options"][i["answer"]] for i in items if i["kind"] == "gene_process"}
    sets = knowledge.gene_sets("BP", min_size=1, max_size=None)
    names = knowledge.go_terms("BP")["name"]
    annotated = {}
    for t, members in sets.items():
        for g in members:
            annotated.setdefault(g, set()).add(names[t])
    for item in items:
        assert len(item["options"]) == 4 and len(set(item["options"])) == 4
        if item["kind"] == "gene_process":
            wrong = [o for j, o in enumerate(item["options"]) if j != item["answer"]]
            assert set(wrong) <= answers  # as common as true answers
            assert not any(o.strip(" .") in annotated[item["key"]] for o in wrong)


def test_probe_scoring_prefers_the_likely_option(tiny_llm):
    """The choice is the option of highest mean log-probability, computed here one option at a time."""
    import torch

    def by_hand(prefix, option):
        tok = tiny_llm.tokenizer
        p = tok(prefix, add_special_tokens=False)["input_ids"]
        o = tok(option, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logp = torch.log_softmax(tiny_llm.model(input_ids=torch.tensor([p + o])).logits.float(), -1)[0]
        return float(sum(logp[len(p) - 1 + k, t] for k, t in enumerate(o)) / len(o))

    options = [" suppressor", " zebra crossing of genes", " kinase"]
    items = [{"prefix": "TP53 is a tumor", "options": options[i:] + options[:i], "answer": 0} for i in range(3)]
    expected = [max(range(3), key=lambda j: by_hand(it["prefix"], it["options"][j])) for it in items]
    chosen = score_probes(tiny_llm, items, batch_size=4)  # batches that mix items and pad unequal lengths
    assert chosen == expected
    # The options rotate, so the favourite's index moves: a scorer that ignored the model could not pass.
    assert len(set(chosen)) == 3


def test_evaluate_and_compare_on_the_tiny_model(tiny_llm_dir, tmp_path, data):
    table = evaluate(str(tiny_llm_dir), data, label="tiny", n_probe_genes=10, n_naming_sets=2, max_new_tokens=4)
    assert list(table.columns) == ["task", "dataset", "split", "method", "metric", "value", "n"]
    assert set(table["task"]) == {"knowledge_probe", "gene_set_naming"}
    probe = table[(table.task == "knowledge_probe") & (table.method == "tiny")]
    assert ((probe.value >= 0) & (probe.value <= 1)).all()
    assert (table[table.method == "chance"].value == 0.25).all()

    both = compare_losses(("sft", "bft"), output_dir=tmp_path, model=str(tiny_llm_dir), n_genes=20,
                          n_gene_sets=10, exclude=None, seed=3, max_steps=2, batch_size=2)
    assert {"untrained", "sft", "bft"} <= set(both.method)
    training = both[both.task == "training"].pivot_table(index="method", columns="metric", values="value")
    assert (training["ce_after"] < training["ce_before"]).all()
    assert isinstance(both, pd.DataFrame)
