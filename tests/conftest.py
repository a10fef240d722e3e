"""Shared fixtures: a tiny causal LM built from a config (no downloads), and a tiny
hand-made knowledge base (see the docstring of the section below)."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest

from bftbio.knowledge import _snapshot, build_snapshot

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

CORPUS = [
    "TP53 is a tumor suppressor that responds to DNA damage and controls the cell cycle.",
    "MDM2 is an E3 ubiquitin ligase that targets p53 for degradation.",
    "HBB encodes the beta globin chain of adult hemoglobin.",
    "Tell me about gene ERBB2. ERBB2, also called HER2, is a receptor tyrosine kinase.",
    "Propose a biological process term for this gene set. Process: apoptotic process.",
]


def build_tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(CORPUS * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_llm(seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from bftbio.models import LanguageModel

    tokenizer = build_tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    return LanguageModel(model=model, tokenizer=tokenizer, name="tiny-llama")


@pytest.fixture(scope="session")
def tiny_llm():
    """A 2-layer Llama with a BPE tokenizer trained on a few gene sentences."""
    return build_tiny_llm()


@pytest.fixture(scope="session")
def tiny_llm_dir(tmp_path_factory, tiny_llm):
    """The tiny model saved as a local Hugging Face folder."""
    path = tmp_path_factory.mktemp("tiny-llama")
    tiny_llm.model.save_pretrained(path)
    tiny_llm.tokenizer.save_pretrained(path)
    return path


def build_tiny_encoder(seed: int = 0):
    """A 1-layer BERT with the tiny BPE tokenizer, wrapped as a bftbio Encoder."""
    import torch
    from transformers import BertConfig, BertModel

    from bftbio.models import Encoder

    tokenizer = build_tiny_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    return Encoder(BertModel(config).eval(), tokenizer, name="tiny-bert", max_length=128)


@pytest.fixture(scope="session")
def tiny_encoder():
    """A tiny random sentence encoder (16 dimensions): mechanics only, never a result."""
    return build_tiny_encoder()


# --- A tiny hand-made knowledge base --------------------------------------------
# A tiny hand-made org.Hs.eg.db / GO.db pair, and a snapshot built from it.
#
# The tiny ontology (BP), with the genes annotated directly to each term::
#
#     GO:0000001 root process                          (root)
#     ├── GO:0000002 child process      is_a 0001      DUP (gene 5)
#     │   ├── GO:0000003 grandchild     part_of 0002   AAA1 (IDA and IEA)
#     │   │   └── GO:0000006 diamond    is_a 0003      BBB2 (IEA)
#     │   └── GO:0000006 diamond        is_a 0002
#     └── GO:0000005 regulation         is_a 0001
#         └── GO:0000004 regulation of child  is_a 0005, regulates 0002   CCC3 (IMP)
#
# so, propagated through is_a/part_of only: 0006 {BBB2}, 0003 {AAA1, BBB2},
# 0002 {AAA1, BBB2, DUP}, 0004 {CCC3}, 0005 {CCC3}, 0001 {all four}.
# MF: GO:0000011 is_a GO:0000010 (BBB2 on 0011). CC: GO:0000021 part_of GO:0000020
# (AAA1 on 0021). Every root is_a the GO.db pseudo-term "all", which the snapshot drops.





GO_TERMS = [  # _id, go_id, term, ontology, definition
    (1, "GO:0000001", "root process", "BP", "The root."),
    (2, "GO:0000002", "child process", "BP", "A child\twith a tab."),
    (3, "GO:0000003", "grandchild process", "BP", "Part of the child."),
    (4, "GO:0000004", "regulation of child process", "BP", None),
    (5, "GO:0000005", "regulation", "BP", "Regulation."),
    (6, "GO:0000006", "diamond process", "BP", 'A "quoted" definition.'),
    (10, "GO:0000010", "root function", "MF", "Root MF."),
    (11, "GO:0000011", "child function", "MF", "Child MF."),
    (20, "GO:0000020", "root component", "CC", "Root CC."),
    (21, "GO:0000021", "child component", "CC", "Child CC."),
    (99, "all", "all", "universal", None),
]
GO_PARENTS = {  # child _id, parent _id, relationship
    "bp": [(2, 1, "isa"), (3, 2, "part of"), (6, 3, "isa"), (6, 2, "isa"), (5, 1, "isa"),
           (4, 5, "isa"), (4, 2, "regulates"), (1, 99, "isa")],
    "mf": [(11, 10, "isa"), (10, 99, "isa")],
    "cc": [(21, 20, "part of"), (20, 99, "isa")],
}
GENES = [  # _id, gene_id, symbol, name, type
    (1, "1", "AAA1", "alpha gene", "protein-coding"),
    (2, "2", "BBB2", "beta gene", "protein-coding"),
    (3, "3", "CCC3", "gamma RNA", "ncRNA"),
    (4, "40", "DUP", "duplicate locus", "unknown"),
    (5, "50", "DUP", "duplicate gene", "protein-coding"),
]
ALIASES = [  # every gene lists its own symbol too, as org.Hs.eg.db does
    (1, "AAA1"), (1, "AL1"), (1, "SHARED"),
    (2, "BBB2"), (2, "SHARED"), (2, "bb"),
    (3, "CCC3"), (3, "NA"),
    (4, "DUP"), (4, "OLDDUP"), (5, "DUP"),
]
CHROMOSOMES = [(1, "Y"), (1, "X"), (2, "2"), (3, "3"), (5, "5")]
CYTOBANDS = [(1, "Xp22.33"), (1, "Yp11.2"), (2, "2q11")]
ENSEMBL = [(1, "ENSG00000000001"), (2, "ENSG00000000002"), (3, "ENSG00000000009"), (4, "ENSG00000000009")]
ANNOTATIONS = {
    "bp": [(1, "GO:0000003", "IDA"), (1, "GO:0000003", "IEA"), (2, "GO:0000006", "IEA"),
           (3, "GO:0000004", "IMP"), (5, "GO:0000002", "TAS"),
           (5, "GO:0000098", "IDA")],  # an obsolete term: dropped by the builder
    "mf": [(2, "GO:0000011", "IDA")],
    "cc": [(1, "GO:0000021", "IDA")],
}
ORG_METADATA = [("EGSOURCEDATE", "2022-Sep12"), ("GOEGSOURCEDATE", "2022-Sep12"),
                ("ENSOURCEDATE", "2022-Jun28"), ("ORGANISM", "Homo sapiens"), ("TAXID", "9606")]
GO_METADATA = [("GOSOURCEDATE", "2022-07-01"), ("GOSOURCENAME", "Gene Ontology")]


def _sqlite(path: Path, script: str, rows: dict[str, list[tuple]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.executescript(script)
        for table, values in rows.items():
            marks = ",".join("?" * len(values[0]))
            connection.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    connection.close()


def write_org(path: Path) -> None:
    script = """
    CREATE TABLE metadata (name TEXT, value TEXT);
    CREATE TABLE genes (_id INTEGER PRIMARY KEY, gene_id TEXT);
    CREATE TABLE gene_info (_id INTEGER, gene_name TEXT, symbol TEXT);
    CREATE TABLE genetype (_id INTEGER, gene_type TEXT);
    CREATE TABLE alias (_id INTEGER, alias_symbol TEXT);
    CREATE TABLE chromosomes (_id INTEGER, chromosome TEXT);
    CREATE TABLE cytogenetic_locations (_id INTEGER, cytogenetic_location TEXT);
    CREATE TABLE ensembl (_id INTEGER, ensembl_id TEXT);
    CREATE TABLE go_bp (_id INTEGER, go_id TEXT, evidence TEXT);
    CREATE TABLE go_mf (_id INTEGER, go_id TEXT, evidence TEXT);
    CREATE TABLE go_cc (_id INTEGER, go_id TEXT, evidence TEXT);
    """
    _sqlite(path, script, {
        "metadata": ORG_METADATA,
        "genes": [(i, g) for i, g, *_ in GENES],
        "gene_info": [(i, name, symbol) for i, _, symbol, name, _ in GENES],
        "genetype": [(i, kind) for i, *_, kind in GENES],
        "alias": ALIASES,
        "chromosomes": CHROMOSOMES,
        "cytogenetic_locations": CYTOBANDS,
        "ensembl": ENSEMBL,
        **{f"go_{o}": rows for o, rows in ANNOTATIONS.items()},
    })


def write_go(path: Path) -> None:
    script = """
    CREATE TABLE metadata (name TEXT, value TEXT);
    CREATE TABLE go_term (_id INTEGER PRIMARY KEY, go_id TEXT, term TEXT, ontology TEXT, definition TEXT);
    CREATE TABLE go_bp_parents (_id INTEGER, _parent_id INTEGER, relationship_type TEXT);
    CREATE TABLE go_mf_parents (_id INTEGER, _parent_id INTEGER, relationship_type TEXT);
    CREATE TABLE go_cc_parents (_id INTEGER, _parent_id INTEGER, relationship_type TEXT);
    """
    _sqlite(path, script, {
        "metadata": GO_METADATA,
        "go_term": GO_TERMS,
        **{f"go_{o}_parents": rows for o, rows in GO_PARENTS.items()},
    })


def write_tree(root: Path) -> None:
    """The two databases laid out as `dpkg -x` extracts them, with version files."""
    for r_package, debian, filename, writer in (
        ("org.Hs.eg.db", "r-bioc-org.hs.eg.db", "org.Hs.eg.sqlite", write_org),
        ("GO.db", "r-bioc-go.db", "GO.sqlite", write_go),
    ):
        package = root / "usr" / "lib" / "R" / "site-library" / r_package
        writer(package / "extdata" / filename)
        (package / "DESCRIPTION").write_text(f"Package: {r_package}\nVersion: 3.16.0\n")
        doc = root / "usr" / "share" / "doc" / debian
        doc.mkdir(parents=True)
        with gzip.open(doc / "changelog.Debian.gz", "wt") as handle:
            handle.write(f"{debian} (3.16.0-1) unstable; urgency=medium\n")


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny_source")
    write_tree(root)
    return root


@pytest.fixture(scope="session")
def tiny_snapshot(tiny_source, tmp_path_factory) -> Path:
    return build_snapshot(tiny_source, tmp_path_factory.mktemp("tiny") / "kb")


@pytest.fixture
def tiny_kb(tiny_snapshot, monkeypatch) -> Path:
    """Make the tiny snapshot the one in use (through $BFTBIO_KB)."""
    monkeypatch.setenv(_snapshot.ENV_VAR, str(tiny_snapshot))
    yield tiny_snapshot
    _snapshot.forget(tiny_snapshot)


@pytest.fixture
def real_kb(monkeypatch):
    """The repository's snapshot, whatever $BFTBIO_KB says."""
    monkeypatch.delenv(_snapshot.ENV_VAR, raising=False)
    if not (_snapshot.CHECKOUT_DIR / "sources.json").is_file() and not (
        _snapshot.WHEEL_DIR / "sources.json"
    ).is_file():
        pytest.fail("No knowledge snapshot in data/kb; build it with `bftbio kb build`.")
    return _snapshot.current().path
