"""The GeneAgent gene-set benchmark (Wang et al., Nature Methods 2025).

Gene sets with curated process names (1,000 GO BP terms, 50 NeST systems, 56
MSigDB sets) from github.com/ncbi-nlp/GeneAgent (folder ``Datasets/``), and the
published answers of GeneAgent and of plain GPT-4 for them (folder ``Outputs/`` in
that repository's history), aligned to the gene sets by order.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ._files import dataset_dir, download_file, require_file

_REPO = "https://raw.githubusercontent.com/ncbi-nlp/GeneAgent/main/Datasets/"
# name -> (file, separator, id column, name column, genes column, gene separator, sha256)
_SETS = {
    "GO": ("GO_terms.csv", ",", "GO", "Term_Description", "Genes", " ",
           "5320dd07763641a602a0362676c719d7ef087a6054069871f002c7edb3aa6954"),
    "NeST": ("NeST.tsv", "\t", "NEST ID", "name_new", "Genes", ",",
             "7ce39e0e83c086b08f4114a1700ebfb6f314b24b24c201a767ddcaf71b51d775"),
    "MSigDB": ("MsigDB.csv", ",", "ID", "Name", "Genes", " ",
               "5047e7fca2a660ddce0b00258e98218ef1d525925ed1bdc41555686d7066d41d"),
}
_ANSWER_FILES = {
    ("GeneAgent", "GO"): "GeneAgent/Gene_Ontology_Final_Response_GeneAgent.txt",
    ("GeneAgent", "NeST"): "GeneAgent/NeST_Final_Response_GeneAgent.txt",
    ("GeneAgent", "MSigDB"): "GeneAgent/MsigDB_Final_Response_GeneAgent.txt",
    ("GPT-4", "GO"): "GPT-4/Gene_Ontology_Response_GPT4.txt",
    ("GPT-4", "NeST"): "GPT-4/NeST_Response_GPT4.txt",
    ("GPT-4", "MSigDB"): "GPT-4/MsigDB_Response_GPT4.txt",
}
# The published GPT-4 MSigDB file answers three gene sets that are not in the
# published 56-set MsigDB.csv; they are dropped so answers align with sets.
_GPT4_MSIGDB_EXTRA = {
    "Myofibrillogenesis and Muscle Contraction",
    "Intracellular Transport and Protein Degradation",
    "Calcium Ion Homeostasis and Signaling",
}
# A header line of an answer: optional list marker or markdown heading, optional
# "Revised"/"Updated"/... qualifier, then Process (typos such as "PProcess" and
# "Proccess" included), "Process name", "Biological process" or Function, a colon
# and the name, with markdown emphasis allowed around any part.
_HEADER = re.compile(
    r"^\s*(?:(?:[-*+\u2022>#]+|\d+[.)])\s+)*[*_]*\s*"
    r"(?:(?:revised|updated|final|proposed|refined|corrected|new)\s+)?"
    r"(?:p?proc+es+(?:\s+name)?|biological\s+process(?:\s+name)?|function)"
    r"\s*[*_]*\s*:\s*(?P<name>.*)$",
    re.IGNORECASE,
)
_PLACEHOLDERS = {"", "name", "<name>", "[name]", "process name", "<process name>", "..."}
_EDGES = " \t*_`\"'\u201c\u201d\u2018\u2019<>[]"
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")


class AnswerParts(NamedTuple):
    """The parts of a process-naming answer (see :func:`split_answer`)."""

    name: str | None
    analysis: str
    formatted: bool
    start: int  # where the name begins in the text (-1 when there is none)


def _clean_name(raw: str) -> str:
    name = raw.strip().strip(_EDGES).strip()
    cut = _SENTENCE_END.search(name)  # "Process: DNA repair. These genes ..." -> "DNA repair"
    if cut:
        name = name[: cut.start()]
    return name.rstrip(".;:,").strip().strip(_EDGES).strip()


def split_answer(text: str | None) -> AnswerParts:
    """Split an answer in GeneAgent's format into its process name and its analysis.

    The one parser of process-naming answers in bftbio: :func:`parse_process_name`
    and :func:`bftbio.tasks.parse_answer` are views of it.

    The first line that is a header gives the name: ``Process:``, ``Revised
    Process:``, ``Updated Process:``, ``Final Process:``, ``Function:``,
    ``Process name:``, ``Biological process:``, the published typo ``PProcess:``
    (case-insensitive), with markdown emphasis (``**Process:** ...``), a list
    marker (``1.``, ``-``) or a heading mark allowed in front. A header with
    nothing after the colon takes its name from the next non-empty line; a
    placeholder such as ``<name>`` is not a name. The name loses enclosing
    quotes and emphasis, a trailing full stop, and any sentence after its first.
    The analysis is the text without the name's line(s).

    An answer with no header falls back to its first non-empty line, verbatim,
    and is not ``formatted``.

    Returns
    -------
    :class:`AnswerParts` ``(name, analysis, formatted, start)``; ``name`` is None
    for an empty answer, ``start`` the offset of the name in ``text`` (-1 if none).

    Examples
    --------
    >>> split_answer("**Revised Process:** DNA repair.\\n\\nThe genes ...")[:3]
    ('DNA repair', 'The genes ...', True)
    """
    text = text if isinstance(text, str) else ""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    filled = [i for i, line in enumerate(lines) if line.strip()]
    for k, i in enumerate(filled):
        m = _HEADER.match(lines[i].rstrip("\r\n"))
        if not m:
            continue
        used = [i]
        name = _clean_name(m.group("name"))
        where = offsets[i] + m.start("name")
        if not name and k + 1 < len(filled) and not _HEADER.match(lines[filled[k + 1]]):
            nxt = filled[k + 1]
            name, where, used = _clean_name(lines[nxt]), offsets[nxt], [i, nxt]
        if name.lower() in _PLACEHOLDERS:
            continue
        analysis = "".join(line for j, line in enumerate(lines) if j not in used).strip()
        return AnswerParts(name, analysis, True, text.find(name, where))
    if not filled:
        return AnswerParts(None, "", False, -1)
    first = filled[0]
    name = lines[first].strip()
    analysis = "".join(lines[first + 1 :]).strip()
    return AnswerParts(name, analysis, False, text.find(name, offsets[first]))


def _canonical_dataset(name: str) -> str:
    lookup = {k.lower(): k for k in _SETS} | {"gene_ontology": "GO", "msigdb": "MSigDB", "nest": "NeST"}
    try:
        return lookup[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown GeneAgent dataset {name!r}; choose one of {sorted(_SETS)}") from None


def parse_process_name(text: str) -> tuple[str | None, bool]:
    """The process name of an answer in GeneAgent's format.

    Accepts ``Process:``, ``Revised Process:``, ``Updated Process:``, ``Function:``
    and the published typo ``PProcess:`` (case-insensitive, markdown emphasis
    and list markers allowed; see :func:`split_answer` for every rule). An
    answer with no such header falls back to its first non-empty line, and is
    flagged.

    Returns
    -------
    ``(name, formatted)``: the name (None for an empty answer) and whether a
    header was found.

    Examples
    --------
    >>> parse_process_name("Revised Process: DNA repair\\n\\nThe genes ...")
    ('DNA repair', True)
    >>> parse_process_name("These genes act in apoptosis.")
    ('These genes act in apoptosis.', False)
    """
    parts = split_answer(text)
    return parts.name, parts.formatted


def geneagent_gene_sets(name: str, *, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Gene sets of the GeneAgent benchmark.

    Parameters
    ----------
    name
        ``"GO"`` (1,000 GO BP terms), ``"NeST"`` (50) or ``"MSigDB"`` (56).
    path
        Folder holding ``datasets/<file>`` (default: see :func:`dataset_dir`,
        dataset ``geneagent``). Use :func:`download_geneagent` to fetch them.

    Returns
    -------
    DataFrame with columns ``set_id``, ``name`` (the curated process name),
    ``genes`` (tuple of symbols as published), in the published order.

    Examples
    --------
    >>> sets = geneagent_gene_sets("NeST")  # the packaged copy  # doctest: +SKIP
    """
    dataset = _canonical_dataset(name)
    file, sep, id_col, name_col, genes_col, gene_sep, _ = _SETS[dataset]
    folder = dataset_dir("geneagent", path)
    f = require_file(folder, f"datasets/{file}", dataset="geneagent",
                     download_hint="call bftbio.datasets.download_geneagent() with a network.")
    raw = pd.read_csv(f, sep=sep, dtype=str)
    missing = {id_col, name_col, genes_col} - set(raw.columns)
    if missing:
        raise ValueError(f"{f} lacks the columns {sorted(missing)}; found {list(raw.columns)}")
    genes = raw[genes_col].map(lambda s: tuple(g.strip() for g in str(s).split(gene_sep) if g.strip()))
    return pd.DataFrame({"set_id": raw[id_col].str.strip(), "name": raw[name_col].str.strip(), "genes": genes})


def _records(text: str) -> list[str]:
    records = re.split(r"^//\s*$", text, flags=re.MULTILINE)
    records = [r.strip("\n") for r in records]
    if records and not records[-1].strip():
        records = records[:-1]  # the file ends with a separator
    return records


def geneagent_answers(name: str, system: str = "GeneAgent", *, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Published answers of GeneAgent or GPT-4, aligned to :func:`geneagent_gene_sets`.

    Parameters
    ----------
    name
        ``"GO"``, ``"NeST"`` or ``"MSigDB"``.
    system
        ``"GeneAgent"`` (GPT-4 with self-verification) or ``"GPT-4"``.
    path
        Folder holding ``outputs/<system>/<file>`` and ``datasets/``.

    Returns
    -------
    DataFrame with ``set_id``, ``name`` (curated), ``answer`` (the proposed process
    name, None where the record holds none), ``formatted`` (a header was found)
    and ``text`` (the whole record), one row per gene set.

    Raises
    ------
    ValueError
        When the number of records does not match the number of gene sets.
    """
    dataset = _canonical_dataset(name)
    if system not in {"GeneAgent", "GPT-4"}:
        raise ValueError(f"system must be 'GeneAgent' or 'GPT-4', got {system!r}")
    folder = dataset_dir("geneagent", path)
    f = require_file(folder, "outputs/" + _ANSWER_FILES[system, dataset], dataset="geneagent",
                     download_hint="copy the published Outputs/ files of github.com/ncbi-nlp/GeneAgent "
                     "(they live in that repository's history).")
    sets = geneagent_gene_sets(dataset, path=folder)
    records = _records(Path(f).read_text(encoding="utf-8", errors="replace"))
    parsed = [parse_process_name(r) for r in records]
    if system == "GPT-4" and dataset == "MSigDB" and len(records) == len(sets) + len(_GPT4_MSIGDB_EXTRA):
        keep = [i for i, (n, _) in enumerate(parsed) if n not in _GPT4_MSIGDB_EXTRA]
        records, parsed = [records[i] for i in keep], [parsed[i] for i in keep]
    if len(records) != len(sets):
        raise ValueError(f"{f} holds {len(records)} records but {dataset} has {len(sets)} gene sets; "
                         "the answers cannot be aligned by order")
    out = sets[["set_id", "name"]].copy()
    out["answer"] = [n for n, _ in parsed]
    out["formatted"] = [ok for _, ok in parsed]
    out["text"] = records
    # A record that is only the term id and its genes (GeneAgent GO record 747 as
    # published) holds no answer.
    no_answer = ~out["formatted"] & out["text"].str.match(r"^\s*GO:\d{7}\s")
    out.loc[no_answer, "answer"] = None
    return out


def download_geneagent(path: str | os.PathLike | None = None, *, overwrite: bool = False) -> Path:
    """Download the benchmark's gene-set files (needs a network; checksummed).

    The published answers are not fetched: they live in the history of the
    GeneAgent repository; copy them into ``<path>/outputs/`` by hand.
    """
    folder = Path(path).expanduser() if path is not None else dataset_dir("geneagent")
    for file, *_, checksum in _SETS.values():
        download_file(_REPO + file, folder / "datasets" / file, checksum, overwrite=overwrite)
    return folder
