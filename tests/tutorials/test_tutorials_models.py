"""Tutorials 02 (fine-tuning with BFT vs SFT) and 05 (gene-set naming), run with small settings.

Real parts only: the default model, the packaged knowledge base and encoder, the GeneAgent files.
"""

import json
import re

import pytest

from tests.tutorials.conftest import cell_text, run_notebook

pytestmark = pytest.mark.slow


def test_finetuning_bft_vs_sft(shared_data, tmp_path):
    runs = tmp_path / "runs"
    nb = run_notebook("02_finetuning_bft_vs_sft.ipynb", {
        "DATA": str(shared_data), "RUNS": str(runs), "N_GENES": 12, "N_GENE_SETS": 8, "WORDINGS": 1,
        "MAX_STEPS": 3, "BATCH_SIZE": 2, "N_SAMPLES": 4, "WINDOW": 8, "MAX_NEW_TOKENS": 16, "EVAL_GENES": 4,
    })
    text = cell_text(nb)

    # Both runs trained for the budget and logged BFT's statistics.
    logs = {loss: [e for e in json.loads((runs / loss / "log_history.json").read_text()) if "loss" in e]
            for loss in ("sft", "bft")}
    assert [e["step"] for e in logs["bft"]] == [1, 2, 3]
    assert all(e["mean_sample_weight"] == pytest.approx(1.0) for e in logs["sft"])  # SFT weighs samples equally
    assert all(0 < e["mean_sample_weight"] < 1 and 0 < e["mean_confidence"] < 1 for e in logs["bft"])
    assert all(abs(e["mean_sample_weight"] + e["mean_confidence"] - 1) < 1e-4 for e in logs["bft"])  # s_b = 1 - p_b

    # The per-sample weights read through lm_loss(return_stats=True): in [0, 1], and not all equal.
    ranges = {int(g): (float(lo), float(hi)) for g, lo, hi in
              re.findall(r"base model, G=(\d+): s_b ranges from ([\d.]+) to ([\d.]+) over 4 samples", text)}
    assert set(ranges) == {256, 8}, text[-3000:]
    assert all(0 <= lo <= hi <= 1 for lo, hi in ranges.values())
    assert ranges[256][0] < ranges[256][1]
    # The hardest window of 8 tokens is never easier than the whole answer: s_b(G=8) >= s_b(G=256).
    assert ranges[8][0] >= ranges[256][0] and ranges[8][1] >= ranges[256][1]
    number = r"(\d\.\d+e[+-]\d+)"
    hard, easy = (float(p) for p in re.findall(rf"(?:hardest|easiest) stretch \(geometric-mean token probability "
                                               rf"{number}\)", text))
    assert hard < easy
    # The notebook's own window search and lm_loss's p_b agree.
    assert float(re.search(rf"p_b with G=8 from lm_loss: {number}", text).group(1)) == pytest.approx(hard, rel=1e-2)
    assert "BFT adapter:" in text and "SFT adapter:" in text
    assert "knowledge_probe" in text and "chance" in text


def _row(text: str, method: str) -> list[float]:
    """The numbers of one method's row in the printed score table."""
    lines = [line for line in text.splitlines() if line.startswith(method + " ")]
    assert len(lines) == 1, f"no single row for {method!r} in:\n{text[-3000:]}"
    return [float(v) for v in lines[0][len(method):].split()]


def test_gene_set_naming(shared_data):
    nb = run_notebook("05_gene_set_naming.ipynb", {
        "DATA": str(shared_data), "N_SETS": 3, "N_VERIFY": 1, "MAX_NEW_TOKENS": 32, "N_BACKGROUND": 2000,
        "MY_GENE_SETS": {"peroxins": ["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7"]},
    })
    text = cell_text(nb)

    # Score table: rougeL, similarity, percentile, share_p90, no_answer per method, on the same 3 sets.
    assert "NeST, first 3 sets; background of 2," in text
    rows = {m: _row(text, m) for m in ("SmolLM2-135M + shipped adapter, generate", "SmolLM2-135M + shipped adapter, rank",
                                       "SmolLM2-135M (base), generate", "SmolLM2-135M (base), rank",
                                       "GeneAgent (published)", "GPT-4 (published)",
                                       "top enriched GO term", "shuffled curated names (trivial)")}
    for rouge, similarity, percentile, share, no_answer in rows.values():
        assert 0 <= rouge <= 1 and -1 <= similarity <= 1 and 0 <= percentile <= 100 and 0 <= share <= 1
    assert rows["GeneAgent (published)"][4] == 0  # GeneAgent answered every set
    # GeneAgent's names are closer to the curated ones than another set's curated name.
    assert rows["GeneAgent (published)"][1] > rows["shuffled curated names (trivial)"][1]

    # Ranking names every set with one of its evidence terms: never a missing answer.
    assert rows["SmolLM2-135M (base), rank"][4] == 0 and rows["SmolLM2-135M + shipped adapter, rank"][4] == 0
    # The evidence, printed for the first NeST set, for the verified one and for ours, against the annotated universe.
    assert text.count("genes tested against 18,903 (BP), 18,432 (MF), 19,869 (CC)") == 3
    assert "GO enrichment of these genes" in text  # the prompt the model reads
    assert "peroxins" in text and "peroxisom" in text.lower()
