"""The one config mechanism: dataclass fields with help, read from dicts, YAML and the command line."""

import argparse
from dataclasses import dataclass

import pytest

from bftbio._config import Config, option
from bftbio.cli import build_parser


@dataclass
class Toy(Config):
    _what = "toy options"

    size: int = option(3, "How many.")
    rate: float = option(0.5, "How fast.")
    name: str | None = option(None, "A name.")
    flag: bool = option(False, "On or off.")
    items: list = option(["a"], "Some items.")


@pytest.mark.fault
def test_defaults_are_copied_per_instance():
    assert Toy().items == ["a"] and Toy().items is not Toy().items


def test_unknown_fields_and_bad_files_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"unknown toy options \['sise'\]"):
        Toy.from_dict({"sise": 4})
    with pytest.raises(FileNotFoundError, match="nothing.yaml"):
        Toy.from_yaml(tmp_path / "nothing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        Toy.from_yaml(tmp_path / "list.yaml")


def test_command_line_overrides_the_file(tmp_path):
    (tmp_path / "toy.yaml").write_text("size: 7\nname: from-file\n")
    parser = argparse.ArgumentParser()
    Toy.add_arguments(parser)
    args = parser.parse_args(["--rate", "0.25", "--name", "null", "--flag", "yes", "--items", "x", "y"])
    values = Toy.from_command_line(args, config=tmp_path / "toy.yaml")
    assert Toy.from_dict(values) == Toy(size=7, rate=0.25, name=None, flag=True, items=["x", "y"])
    assert Toy.from_command_line(parser.parse_args([])) == {}


def test_run_and_train_share_the_mechanism():
    parser = build_parser()
    run = parser.parse_args(["run", "--quick", "--naming-sets", "2", "--interaction-genes", "10", "5", "5"])
    assert run.naming_sets == 2 and run.interaction_genes == [10, 5, 5] and run.quick
    train = parser.parse_args(["train", "--max-steps", "3", "--exclude-genes", "TP53", "MDM2"])
    assert train.max_steps == 3 and train.exclude_genes == ["TP53", "MDM2"]
    losses = parser.parse_args(["bench", "losses", "--max-steps", "2", "--losses", "bft", "sft"])
    assert losses.max_steps == 2 and losses.losses == ["bft", "sft"]
