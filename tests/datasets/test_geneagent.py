
import pytest

from bftbio.datasets import geneagent_answers, geneagent_gene_sets, packaged_dir, parse_process_name

# The copy that ships with the package (data/benchmarks/geneagent).
SHARED = packaged_dir() / "geneagent"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Process: MAPK Signaling Pathway\n\nThe proteins ...", ("MAPK Signaling Pathway", True)),
        ("Revised Process: DNA Damage Checkpoint Signaling", ("DNA Damage Checkpoint Signaling", True)),
        ("Updated Process: Ubiquitin Mediated Proteolysis\nmore", ("Ubiquitin Mediated Proteolysis", True)),
        ("Function: Ubiquitin Ligase Complex Formation", ("Ubiquitin Ligase Complex Formation", True)),
        ("PProcess: Nuclear Pore Regulation", ("Nuclear Pore Regulation", True)),
        ("**Process:** Apoptosis", ("Apoptosis", True)),
        ("\n  These genes regulate apoptosis.\nProcess is unclear", ("These genes regulate apoptosis.", False)),
        ("", (None, False)),
    ],
)
def test_parse_process_name(text, expected):
    assert parse_process_name(text) == expected


def test_unknown_dataset_error():
    with pytest.raises(ValueError, match="unknown GeneAgent dataset 'KEGG'"):
        geneagent_gene_sets("KEGG")


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="NeST.tsv"):
        geneagent_gene_sets("NeST", path=tmp_path)


def test_misaligned_answers_raise(tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "NeST.tsv").write_text('NEST ID\tname_new\tGenes\nNEST:1\tA\t"X,Y"\nNEST:2\tB\t"Z"\n')
    (tmp_path / "outputs" / "GPT-4").mkdir(parents=True)
    (tmp_path / "outputs" / "GPT-4" / "NeST_Response_GPT4.txt").write_text("Process: A\n//\n")
    with pytest.raises(ValueError, match="1 records but NeST has 2"):
        geneagent_answers("NeST", "GPT-4", path=tmp_path)


@pytest.mark.parametrize(("name", "n"), [("GO", 1000), ("NeST", 50), ("MSigDB", 56)])
def test_shared_copy_aligns(name, n):
    sets = geneagent_gene_sets(name, path=SHARED)
    assert len(sets) == n and sets["set_id"].is_unique
    for system in ("GeneAgent", "GPT-4"):
        answers = geneagent_answers(name, system, path=SHARED)
        assert len(answers) == n
        assert answers["answer"].notna().sum() >= n - 1


def test_geneagent_go_record_747_has_no_answer():
    answers = geneagent_answers("GO", "GeneAgent", path=SHARED)
    assert answers.loc[746, "set_id"] == "GO:0061756"
    assert answers.loc[746, "answer"] is None
    assert geneagent_gene_sets("NeST", path=SHARED).loc[0, "genes"] == ("ERBB2", "ERBB4", "FGFR2", "FGFR4", "HRAS", "KRAS")
