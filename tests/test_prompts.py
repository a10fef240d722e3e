"""The naming prompt shared by training and inference."""

from bftbio.prompts import ANSWER_PREFIX, MAX_GENES_SHOWN, evidence_block, naming_prompt, shown_genes

EVIDENCE = {"max_q": 0.05, "terms": [
    {"name": "peroxisome organization", "overlap": 6, "term_size": 89, "q_value": 2.1e-12, "genes": ["PEX1", "PEX5"]},
    {"name": "protein import into peroxisome matrix", "overlap": 3, "term_size": 30, "q_value": 4e-6,
     "genes": ["PEX5"]},
]}


def test_prompt_lists_genes_evidence_and_the_answer_format_without_placeholders():
    text = naming_prompt(["PEX1", "PEX5", "PEX7"], EVIDENCE)
    lines = text.splitlines()
    assert lines[0] == "Name the most significant biological process performed by these genes: PEX1, PEX5, PEX7."
    assert lines[2] == "- peroxisome organization (6/89, q=2e-12)"
    assert lines[3] == "- protein import into peroxisome matrix (3/30, q=4e-06)"
    assert ANSWER_PREFIX.strip() in lines[-1]
    assert "<" not in text and "[name]" not in text
    bare = naming_prompt(["PEX1", "PEX5", "PEX7"], None)
    assert "GO enrichment" not in bare and bare.splitlines()[0] == lines[0]
    assert "no GO biological process is enriched" in evidence_block({"max_q": 0.05, "terms": []})
    assert "no GO term is enriched" in evidence_block({"max_q": 0.05, "terms": [], "ontology": "BP+MF+CC"})


def test_long_sets_show_the_best_supported_genes_in_input_order():
    genes = [f"G{i}" for i in range(2 * MAX_GENES_SHOWN + 5)]
    evidence = {"terms": [{"genes": ["G30", "G40"]}, {"genes": ["G40"]}]}
    shown = shown_genes(genes, evidence)
    assert len(shown) == MAX_GENES_SHOWN
    assert shown.index("G30") > shown.index("G0") and "G40" in shown  # supported genes kept, order kept
    assert shown == sorted(shown, key=genes.index)
    assert f"({MAX_GENES_SHOWN} of {len(genes)} genes shown)" in naming_prompt(genes, None)
