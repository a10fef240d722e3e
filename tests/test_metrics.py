import pytest

from bftbio.metrics import rouge_scores


def test_rouge_by_hand():
    # "dna repair process" vs "dna repair": LCS 2, precision 2/3, recall 1 -> F = 0.8.
    row = rouge_scores(["DNA repair process"], ["DNA repair"]).iloc[0]
    assert row["rougeL"] == pytest.approx(0.8)
    assert row["rouge2"] == pytest.approx(2 * (1 / 2) * 1 / (1 / 2 + 1))


def test_stemming_and_missing_answers():
    scores = rouge_scores(["Regulating apoptosis", None, ""], ["regulation of apoptosis", "x", "y"])
    assert scores.loc[0, "rouge1"] > 0.7  # "regulating" and "regulation" share the stem
    assert scores.loc[1:, "rougeL"].tolist() == [0.0, 0.0]


def test_length_mismatch():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        rouge_scores(["a", "b"], ["a"])
