"""Gene-set naming: the answer parser, naming and verification mechanics, scoring, the benchmark."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bftbio.tasks.genesets._model_calls as model_calls
from bftbio import knowledge
from bftbio.datasets import dataset_dir, geneagent_answers, parse_process_name
from bftbio.models import Generation
from bftbio.prompts import PROMPT_VERSION, evidence_block
from bftbio.store import Store
from bftbio.tasks import (
    benchmark_gene_set_naming,
    name_gene_sets,
    parse_answer,
    process_name_scores,
    score_process_names,
    set_evidence,
)
from bftbio.tasks.genesets._scores import default_background

SHARED = dataset_dir("geneagent")  # the packaged copy unless $BFTBIO_DATA names another
TINY_OPTIONS = {"min_size": 1, "min_overlap": 1, "ontology": "BP"}  # the tiny ontology's BP tree


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.sqlite") as s:
        yield s


# -- the parser ------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", ["NeST", "MSigDB"])
@pytest.mark.parametrize("system", ["GeneAgent", "GPT-4"])
def test_every_published_answer_parses_to_a_name(dataset, system):
    answers = geneagent_answers(dataset, system, path=SHARED)
    assert len(answers) == {"NeST": 50, "MSigDB": 56}[dataset]
    parsed = [parse_answer(text) for text in answers["text"]]
    assert all(isinstance(name, str) and 3 <= len(name) <= 120 for name, _, _ in parsed)
    assert not any(flagged for _, _, flagged in parsed)
    assert all(len(analysis) > 200 and not analysis.startswith(name) for name, analysis, _ in parsed)
    assert [name for name, _, _ in parsed] == answers["answer"].tolist()  # one parser for both


@pytest.mark.parametrize(
    ("text", "name", "flagged"),
    [
        ("Process: MAPK Signaling Pathway\n\nThe proteins ...", "MAPK Signaling Pathway", False),
        ("Revised Process: DNA Damage Checkpoint Signaling", "DNA Damage Checkpoint Signaling", False),
        ("Updated Process: Ubiquitin Mediated Proteolysis", "Ubiquitin Mediated Proteolysis", False),
        ("Function: Ubiquitin Ligase Complex Formation", "Ubiquitin Ligase Complex Formation", False),
        ("PProcess: Nuclear Pore Regulation", "Nuclear Pore Regulation", False),
        ("**Process:** Apoptosis.\nThe genes ...", "Apoptosis", False),
        ("**Process**: *Peroxisome biogenesis*", "Peroxisome biogenesis", False),
        ("1. Process: Cell cycle regulation\n2. Analysis: ...", "Cell cycle regulation", False),
        ("## Biological process: Glycolysis", "Glycolysis", False),
        ("Sure! Here is my answer.\nProcess: \"Lipid metabolism\"", "Lipid metabolism", False),
        ("Process:\n  Autophagy\nBecause ...", "Autophagy", False),
        ("Process: DNA repair. These genes fix DNA.", "DNA repair", False),
        ("Process: <name>\nProcess: Translation", "Translation", False),
        ("\n  These genes regulate apoptosis.\nProcess is unclear", "These genes regulate apoptosis.", True),
        ("", None, True),
    ],
)
def test_messy_answers(text, name, flagged):
    got_name, analysis, got_flagged = parse_answer(text)
    assert (got_name, got_flagged) == (name, flagged)
    assert parse_process_name(text) == (name, not flagged)


def test_analysis_is_the_rest_of_the_answer():
    assert parse_answer("Preamble.\n**Process:** Autophagy\n\nLC3 and ATG5 ...") == (
        "Autophagy", "Preamble.\n\nLC3 and ATG5 ...", False)
    assert parse_answer("No header here\nsecond line") == ("No header here", "second line", True)


# -- naming and verification -----------------------------------------------------------------
class CountingGenerator:
    """Wraps the generator to count prompts; optionally answers with canned texts."""

    def __init__(self, reply=None):
        self.prompts: list[str] = []
        self.reply = reply
        self.real = model_calls.generate_texts

    def __call__(self, llm, prompts, **options):
        self.prompts += list(prompts)
        if self.reply is None:
            return self.real(llm, prompts, **options)
        answers = [self.reply(p) for p in prompts]
        if options.get("logprobs"):  # one token per answer, log-probability -1
            answers = [Generation(a, (len(a),), (-1.0,)) for a in answers]
        options["on_batch"](list(range(len(prompts))), answers)
        return answers


def test_naming_is_batched_cached_and_resumes(real_kb, tiny_llm, store, monkeypatch):
    sets = pd.DataFrame({"set_id": ["a", "b", "c", "d"],
                         "genes": [["TP53", "MDM2", "CDKN1A"], ["HBB", "HBA1", "HBA2"], ["PEX1", "PEX2", "PEX5"],
                                   ["TP53", "NOTAGENE1", "NOTAGENE2"]]})
    counter = CountingGenerator()
    monkeypatch.setattr(model_calls, "generate_texts", counter)
    first = name_gene_sets(sets.iloc[:2], model=tiny_llm, store=store, max_new_tokens=6, batch_size=2,
                           progress=False)
    assert len(counter.prompts) == 2
    # A "killed" run that finished two sets: the rerun generates only the third (the fourth has no evidence).
    named = name_gene_sets(sets, model=tiny_llm, store=store, max_new_tokens=6, batch_size=2, progress=False)
    assert len(counter.prompts) == 3 and "PEX1, PEX2, PEX5" in counter.prompts[-1]
    again = name_gene_sets(sets, model=tiny_llm, store=store, max_new_tokens=6, progress=False)
    assert len(counter.prompts) == 3  # all cached: no generation
    pd.testing.assert_frame_equal(named, again)
    pd.testing.assert_frame_equal(named.iloc[:2], first)
    assert list(named.columns) == ["set_id", "genes", "process", "confidence", "status", "unknown", "candidates",
                                   "candidate_scores", "analysis", "flagged", "answer", "evidence"]
    # Fewer than three known genes: an explicit status, never a name.
    assert named["status"].tolist() == ["named", "named", "named", "insufficient evidence"]
    assert named.loc[3, "process"] is None and named.loc[3, "answer"] is None
    assert named.loc[3, "unknown"] == ["NOTAGENE1", "NOTAGENE2"]
    assert named["genes"].tolist()[1] == ("HBB", "HBA1", "HBA2")
    assert ((named["confidence"] <= 0) | named["process"].isna()).all()
    assert named.attrs["params"]["prompt"]["version"] == PROMPT_VERSION
    # The prompt is the one training builds (bftbio.prompts), with the evidence block.
    from bftbio.prompts import naming_prompt

    assert counter.prompts[0] in {naming_prompt(g, e) for g, e in zip(named["genes"], named["evidence"])}
    assert all("GO enrichment of these genes" in p and "<name>" not in p for p in counter.prompts)
    # Another generation setting is another namespace.
    name_gene_sets(sets.iloc[:1], model=tiny_llm, store=store, max_new_tokens=7, progress=False)
    assert len(counter.prompts) == 4
    # Without evidence the prompt is the bare request.
    name_gene_sets(sets.iloc[:1], model=tiny_llm, store=store, evidence=False, max_new_tokens=6, progress=False)
    assert "GO enrichment" not in counter.prompts[-1]


def test_rank_chooses_the_likeliest_evidence_term_and_caches(real_kb, tiny_llm, store, monkeypatch):
    sets = {"peroxins": ["PEX1", "PEX2", "PEX3", "PEX5", "PEX6", "PEX7"], "globins": ["HBB", "HBA1", "HBA2", "HBD"]}
    calls = []
    real = model_calls.candidate_logprobs

    def counting(llm, prompts, candidates, **options):
        calls.append(len(prompts))
        return real(llm, prompts, candidates, **options)

    monkeypatch.setattr(model_calls, "candidate_logprobs", counting)
    named = name_gene_sets(sets, model=tiny_llm, choose="rank", store=store, progress=False)
    for row in named.itertuples():
        assert row.candidates == [t["name"] for t in row.evidence["terms"]] and len(row.candidates) >= 2
        assert row.process == row.candidates[int(np.argmax(row.candidate_scores))]
        assert row.confidence == pytest.approx(max(row.candidate_scores)) and row.confidence <= 0
        assert row.answer is None
    # The scores are those of teacher forcing "Process: <name>\n" after the prompt.
    from bftbio.models import continuation_logprobs
    from bftbio.prompts import SYSTEM_PROMPT, naming_prompt

    row = named.iloc[0]
    prompt = naming_prompt(row["genes"], row["evidence"])
    forced = continuation_logprobs(tiny_llm, [prompt] * len(row["candidates"]),
                                   [f"Process: {c}\n" for c in row["candidates"]],
                                   starts=[len("Process:")] * len(row["candidates"]), system=SYSTEM_PROMPT)
    np.testing.assert_allclose(row["candidate_scores"], forced, atol=1e-4)
    again = name_gene_sets(sets, model=tiny_llm, choose="rank", store=store, progress=False)
    assert calls == [2]  # the second call read the store
    pd.testing.assert_frame_equal(named, again)
    with pytest.raises(ValueError, match="choose must be one of"):
        name_gene_sets(sets, model=tiny_llm, choose="vote")
    # Known genes that share no enriched process leave ranking nothing to choose: an explicit status.
    unrelated = {"unrelated": ["OR1A1", "COL1A1", "PEX1"]}
    evidence = set_evidence(unrelated)[0]
    assert evidence["known_genes"] == 3 and not evidence["terms"], evidence["terms"][:1]
    none = name_gene_sets(unrelated, model=tiny_llm, choose="rank", store=store, progress=False)
    assert none.loc[0, "status"] == "no enriched term" and none.loc[0, "process"] is None


def test_both_adds_the_generated_name_to_the_candidates(real_kb, tiny_llm, store, monkeypatch):
    monkeypatch.setattr(model_calls, "generate_texts", CountingGenerator(lambda p: "Process: globin business\nYes."))
    named = name_gene_sets({"g": ["HBB", "HBA1", "HBA2", "HBD"]}, model=tiny_llm, choose="both", store=store,
                           progress=False)
    assert named.loc[0, "candidates"][-1] == "globin business"
    assert named.loc[0, "answer"].startswith("Process: globin business")
    assert named.loc[0, "process"] in named.loc[0, "candidates"]


def test_long_sets_are_listed_by_support_with_a_warning(real_kb, tiny_llm, store, monkeypatch, caplog):
    counter = CountingGenerator(lambda p: "Process: x")
    monkeypatch.setattr(model_calls, "generate_texts", counter)
    genes = knowledge.gene_sets("BP", min_size=60, max_size=80)
    members = sorted(next(iter(genes.values())))
    with caplog.at_level("WARNING", logger="bftbio"):
        named = name_gene_sets({"big": members}, model=tiny_llm, store=store, progress=False)
    assert "more than 20 genes" in caplog.text
    assert f"(20 of {len(members)} genes shown)" in counter.prompts[0]
    assert named.loc[0, "evidence"]["genes_tested"] == len(members)  # enrichment used every gene


def test_cache_false_stores_nothing(real_kb, tiny_llm, store):
    name_gene_sets({"a": ["TP53", "MDM2"]}, model=tiny_llm, store=store, cache=False, max_new_tokens=4,
                   progress=False)
    assert store.info().empty


def test_evidence_matches_the_hypergeometric_test(tiny_kb):
    checked = set_evidence({"mine": ["AAA1", "BBB2"]}, enrichment_options=TINY_OPTIONS, max_q=1.0)[0]
    # Universe: the 4 genes annotated in BP; GO:0000003 {AAA1, BBB2}, 0002 {AAA1, BBB2, DUP},
    # 0006 {BBB2}, 0001 {all}.
    assert checked["universe_size"] == 4 and checked["genes_tested"] == 2 and checked["known_genes"] == 2
    terms = {t["go_id"]: t for t in checked["terms"]}
    assert list(terms) == ["GO:0000003", "GO:0000002", "GO:0000006", "GO:0000001"]
    for t in terms.values():
        assert t["p_value"] == pytest.approx(stats.hypergeom.sf(t["overlap"] - 1, 4, t["term_size"], 2))
    assert terms["GO:0000003"]["p_value"] == pytest.approx(1 / 6)
    # Benjamini-Hochberg by hand over p = 1/6, 1/2, 1/2, 1.
    assert [t["q_value"] for t in terms.values()] == pytest.approx([2 / 3, 2 / 3, 2 / 3, 1])
    assert terms["GO:0000002"]["genes"] == ["AAA1", "BBB2"]


def test_exclude_terms_and_rules_remove_terms_from_the_evidence(tiny_kb):
    sets = {"GO:0000003": ["AAA1", "BBB2"]}
    options = dict(enrichment_options=TINY_OPTIONS, max_q=1.0)
    shown = set_evidence(sets, exclude_terms=["GO:0000003"], **options)[0]
    assert [t["go_id"] for t in shown["terms"]] == ["GO:0000002", "GO:0000006", "GO:0000001"]
    own = set_evidence(sets, exclude="term", **options)[0]  # the set's own GO ID
    assert [t["go_id"] for t in own["terms"]] == ["GO:0000002", "GO:0000006", "GO:0000001"]
    related = set_evidence(sets, exclude="related", **options)[0]
    assert related["terms"] == []  # lineage + Jaccard >= 0.5 leave nothing
    assert "no GO biological process is enriched" in evidence_block(related)
    with pytest.raises(ValueError, match="exclude must be one of"):
        set_evidence(sets, exclude="everything", **options)
    with pytest.raises(ValueError, match="GO IDs"):
        set_evidence(sets, exclude_terms=["apoptosis"], **options)


def test_exclude_terms_also_removes_terms_with_the_identical_gene_set(real_kb):
    sets = knowledge.gene_sets("BP", min_size=5, max_size=8)
    by_genes: dict = {}
    for go_id, genes in sets.items():
        by_genes.setdefault(genes, []).append(go_id)
    twins = next(ids for ids in by_genes.values() if len(ids) >= 2)
    genes = list(sets[twins[0]])
    options = dict(n_terms=len(twins) + 2, max_q=1.0)
    before = {t["go_id"] for t in set_evidence({"s": genes}, **options)[0]["terms"]}
    assert set(twins) <= before
    after = set_evidence({"s": genes}, exclude_terms=[twins[0]], **options)[0]
    assert not set(twins) & {t["go_id"] for t in after["terms"]}
    assert after["n_excluded"] >= len(twins)


def test_verification_keeps_or_revises(real_kb, tiny_llm, store, monkeypatch):
    def reply(prompt):
        if prompt.startswith("Name the most"):
            return "**Process:** DNA repair.\nThese genes fix DNA."
        if "TP53" in prompt:
            return "Revised Process: Peroxisome organization\nThe evidence says so."
        return "I am not sure."  # ignores the format: the proposal stays

    monkeypatch.setattr(model_calls, "generate_texts", CountingGenerator(reply))
    named = name_gene_sets({"a": ["TP53", "MDM2", "CDKN1A"], "b": ["HBB", "HBA1", "HBA2"]}, model=tiny_llm,
                           verify=True, store=store, progress=False)
    assert named["process"].tolist() == ["DNA repair", "DNA repair"]
    assert named["verified_process"].tolist() == ["Peroxisome organization", "DNA repair"]
    assert named["revised"].tolist() == [True, False]
    assert named["verification"][1] == "I am not sure."
    assert np.isfinite(named["confidence"]).all() and (named["confidence"] < 0).all()
    assert named["verified_confidence"][1] == named["confidence"][1]


def test_bad_gene_sets_are_named(real_kb, tiny_llm):
    with pytest.raises(ValueError, match="columns"):
        name_gene_sets(pd.DataFrame({"genes": [["TP53"]]}), model=tiny_llm)
    with pytest.raises(TypeError, match="set 'a'"):
        name_gene_sets({"a": "TP53 MDM2"}, model=tiny_llm)
    with pytest.raises(ValueError, match="no genes"):
        name_gene_sets({"a": []}, model=tiny_llm)
    for bad in (None, float("nan"), 7157):
        with pytest.raises(TypeError, match=r"gene set 'a' holds 1 member\(s\) that are not gene names.*position 1"):
            name_gene_sets({"a": ["TP53", bad, "MDM2"]}, model=tiny_llm)


# -- scoring ---------------------------------------------------------------------------------
class AngleEncoder:
    """Each known name is a unit vector at a fixed angle (degrees), so ranks are known by hand."""

    ANGLES = {"pred": 0, "truth": 30, "near": 10, "mid": 45, "far": 90, "opposite": 180, "other truth": 60}

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        angles = np.radians([self.ANGLES[t] for t in texts])
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def test_rouge_similarity_and_rank_by_hand():
    background = ["near", "mid", "far", "opposite", "truth"]
    scores = process_name_scores(["pred", "other truth", None], ["truth", "other truth", "truth"],
                                 encoder=AngleEncoder(), background=background, set_ids=["s1", "s2", "s3"])
    assert scores.attrs["background_n"] == 6  # 5 given + "other truth"
    # s1: the true name (30 deg from the prediction) beats mid, far, opposite and "other truth"
    # (60 deg); "near" (10 deg) beats it: 4 of 5 competitors -> 80th percentile.
    assert scores.loc[0, "similarity"] == pytest.approx(math.cos(math.radians(30)))
    assert scores.loc[0, "percentile"] == pytest.approx(80.0)
    assert scores.loc[1, "similarity"] == pytest.approx(1.0) and scores.loc[1, "percentile"] == 100.0
    assert scores.loc[2, ["similarity", "percentile", "rougeL"]].tolist() == [0, 0, 0]
    assert scores["set_id"].tolist() == ["s1", "s2", "s3"]
    table = score_process_names(["pred", "other truth", None], ["truth", "other truth", "truth"],
                                encoder=AngleEncoder(), background=background, dataset="toy", method="m")
    values = table.set_index("metric")["value"]
    assert values["percentile"] == pytest.approx(60.0)
    assert values["share_p90"] == pytest.approx(1 / 3) and values["share_p95"] == pytest.approx(1 / 3)
    assert values["background_n"] == 6 and values["no_answer"] == 1
    assert values["similarity"] == pytest.approx((math.cos(math.radians(30)) + 1) / 3)
    assert set(table["task"]) == {"gene_set_naming"} and set(table["n"]) == {3}


def test_rouge_by_hand():
    table = score_process_names(["cell cycle", "DNA repair process"], ["regulation of cell cycle", "DNA repair"],
                                encoder=None)
    values = table.set_index("metric")["value"]
    # cell cycle vs regulation of cell cycle: R1 P=1 R=1/2; R2 P=1 R=1/3; LCS 2 -> F = 2/3, 1/2, 2/3.
    # DNA repair process vs DNA repair: F = 0.8, 2/3, 0.8.
    assert values["rouge1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert values["rouge2"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert values["rougeL"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert "similarity" not in values.index


def test_background_vectors_are_cached(tiny_encoder, store, monkeypatch):
    calls = []
    encode = tiny_encoder.encode
    monkeypatch.setattr(tiny_encoder, "encode", lambda texts, **kw: calls.append(len(texts)) or encode(texts, **kw))
    background = ["apoptotic process", "cell cycle", "DNA repair", "glycolytic process"]
    first = process_name_scores(["cell death"], ["apoptotic process"], encoder=tiny_encoder, background=background,
                                store=store)
    assert sum(calls) == 5  # 4 background names (truth among them) + the prediction
    again = process_name_scores(["cell death"], ["apoptotic process"], encoder=tiny_encoder,
                                background=background, store=store)
    assert sum(calls) == 5
    pd.testing.assert_frame_equal(first, again)


def test_default_background_is_go_bp_plus_the_benchmark_names(real_kb):
    go_names = knowledge.go_terms("BP")["name"]
    names = default_background(["Apoptotic Process", "A curated NeST name"])
    assert len(names) == go_names.str.lower().nunique() + 1  # case-blind: apoptotic process is there already
    assert names[-1] == "A curated NeST name"


def test_scoring_errors():
    with pytest.raises(ValueError, match="2 predicted names but 1 true"):
        score_process_names(["a", "b"], ["a"], encoder=None)
    with pytest.raises(ValueError, match="non-empty strings"):
        score_process_names(["a"], [None], encoder=None)


# -- the benchmark ---------------------------------------------------------------------------
class HashEncoder:
    """Deterministic bag-of-words vectors: fast enough for the 28,000 GO names."""

    def encode(self, texts):
        out = np.zeros((len(texts), 64))
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % 64] += 1
        return out + 1e-3


def test_benchmark_scores_baselines_and_a_model(real_kb, tiny_llm, store):
    table, per_set = benchmark_gene_set_naming(
        ("NeST",), methods=("GeneAgent", "shuffled"), models={"tiny": {"model": tiny_llm, "verify": (False, True)}}, data=SHARED, limit=3,
        n_shuffles=2, encoder=HashEncoder(), max_new_tokens=3, store=store, progress=False, return_per_set=True,
    )
    methods = ["GeneAgent (published)", "shuffled curated names (trivial)", "tiny", "tiny + verify"]
    assert list(pd.unique(table["method"])) == methods
    assert list(table.columns) == ["task", "dataset", "split", "method", "metric", "value", "n"]
    wide = table.pivot_table(index="method", columns="metric", values="value")
    for metric in ("rouge1", "rouge2", "rougeL", "similarity", "percentile", "share_p90", "share_p95"):
        assert wide[metric].notna().all(), metric
    assert wide.loc["tiny + verify", "revised"] >= 0
    assert wide["background_n"].nunique() == 1 and wide["background_n"].iloc[0] > 28_000
    assert set(table["n"]) == {3}
    assert len(per_set) == 3 * len(methods)
    published = per_set[per_set["method"] == "GeneAgent (published)"]
    assert published["rougeL"].mean() == pytest.approx(wide.loc["GeneAgent (published)", "rougeL"])


def test_benchmark_go_sample_is_seeded_and_aligned(real_kb):
    table, per_set = benchmark_gene_set_naming(("GO",), methods=("GeneAgent",), data=SHARED, sample=5, seed=3,
                                               encoder=None, return_per_set=True)
    again = benchmark_gene_set_naming(("GO",), methods=("GeneAgent",), data=SHARED, sample=5, seed=3, encoder=None)
    pd.testing.assert_frame_equal(table, again)
    answers = geneagent_answers("GO", "GeneAgent", path=SHARED).set_index("set_id")
    assert len(per_set) == 5 and per_set["set_id"].is_unique
    assert per_set["predicted"].tolist() == answers.loc[per_set["set_id"], "answer"].tolist()
    assert set(table["metric"]) == {"rouge1", "rouge2", "rougeL", "no_answer"}
    with pytest.raises(ValueError, match="unknown method 'magic'"):
        benchmark_gene_set_naming(("GO",), methods=("magic",), data=SHARED)


# -- the real default model --------------------------------------------------------------------
@pytest.mark.slow
def test_default_model_names_two_nest_sets(real_kb, store):
    from bftbio.datasets import geneagent_gene_sets

    sets = geneagent_gene_sets("NeST", path=SHARED).iloc[:2]
    named = name_gene_sets(sets, verify=True, store=store, max_new_tokens=24, progress=False)
    assert named["process"].map(lambda p: isinstance(p, str) and len(p) > 2).all()
    assert (named["confidence"] <= 0).all()
    assert all(c["universe_size"] > 15_000 and c["terms"] for c in named["evidence"])


def test_benchmark_verify_per_model(real_kb, tiny_llm, store):
    """A model's own ``verify`` overrides the benchmark's: only that model gets the verified variant."""
    table = benchmark_gene_set_naming(
        ("NeST",), methods=(), models={"a": {"model": tiny_llm, "verify": (False, True)},
                                        "b": {"model": tiny_llm, "verify": (False,)}},
        data=SHARED, limit=2, encoder=None, max_new_tokens=3, store=store, progress=False, verify=(False,))
    assert list(pd.unique(table["method"])) == ["a", "a + verify", "b"]
    with pytest.raises(ValueError, match="'verify'"):
        benchmark_gene_set_naming(("NeST",), methods=(), models={"a": {"adapters": "x"}}, data=SHARED)


def test_exclude_terms_also_removes_identical_terms_of_other_ontologies(real_kb):
    by_genes: dict = {}
    for ontology in ("BP", "CC"):
        for go_id, genes in knowledge.gene_sets(ontology, min_size=5, max_size=12).items():
            by_genes.setdefault(genes, {}).setdefault(ontology, go_id)
    genes, pair = next((g, ids) for g, ids in sorted(by_genes.items()) if len(ids) == 2)
    options = dict(n_terms=50, max_q=1.0, enrichment_options={"ontology": "BP"})
    assert pair["BP"] in {t["go_id"] for t in set_evidence({"s": list(genes)}, **options)[0]["terms"]}
    after = set_evidence({"s": list(genes)}, exclude_terms=[pair["CC"]], **options)[0]  # a component given
    assert pair["BP"] not in {t["go_id"] for t in after["terms"]}  # its process twin stays out too
