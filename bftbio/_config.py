"""One way to configure a job: a dataclass whose fields carry their help, read from Python,
a dict, a YAML file or the command line.

:class:`bftbio.train.TrainConfig` (a fine-tuning run) and the main job's ``RunConfig``
both build on :class:`Config`; a new job's settings should too.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
from dataclasses import field
from pathlib import Path

from ._settings import write_atomic


def option(default, help: str, **kw):
    """A config field with its ``help``; a list or dict default is copied for every instance."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


class Config:
    """Shared plumbing of bftbio's config dataclasses (subclasses are ``@dataclass``)."""

    #: How the options are called in error messages ("training options", "run options").
    _what = "options"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        """An instance from a mapping of field: value; an unknown field is a ValueError naming it."""
        if not isinstance(values, dict):
            raise ValueError(f"{cls.__name__} needs a mapping of option: value, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown {cls._what} {unknown}; known: {sorted(known)}")
        return cls(**values)

    @classmethod
    def read_yaml(cls, path: str | os.PathLike) -> dict:
        """The mapping in a YAML file (a missing file or a non-mapping is an error naming the file)."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} not found")
        with open(path) as fh:
            values = yaml.safe_load(fh) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path} must hold a mapping of option: value")
        return values

    @classmethod
    def from_yaml(cls, path: str | os.PathLike):
        return cls.from_dict(cls.read_yaml(path))

    def to_yaml(self, path: str | os.PathLike) -> Path:
        import yaml

        write_atomic(path, yaml.safe_dump(self.to_dict(), sort_keys=False))
        return Path(path)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, *, skip: tuple[str, ...] = ()) -> None:
        """One ``--field`` option per field, with its help; unset options stay None."""
        for f in dataclasses.fields(cls):
            if f.name in skip:
                continue
            default = f.default if f.default is not dataclasses.MISSING else None
            if f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            kind = type(default) if default is not None else str
            flag = f"--{f.name.replace('_', '-')}"
            if kind is list:
                item = type(default[0]) if default and type(default[0]) in (int, float) else str
                parser.add_argument(flag, dest=f.name, default=None, nargs="*", type=item, help=f.metadata["help"])
            elif kind is dict:
                continue  # a mapping is set in the YAML file
            elif kind is bool:
                parser.add_argument(flag, dest=f.name, default=None, type=lambda s: s.lower() in ("1", "true", "yes"),
                                    help=f.metadata["help"])
            else:
                parser.add_argument(flag, dest=f.name, default=None, type=kind if kind in (int, float) else str,
                                    help=f.metadata["help"])

    @classmethod
    def from_command_line(cls, args: argparse.Namespace, *, config: str | os.PathLike | None = None) -> dict:
        """The field values of ``config`` (a YAML file, if given) with the command line's options on top.

        An option given as ``none`` or ``null`` sets the field to None.
        """
        values = cls.read_yaml(config) if config else {}
        for f in dataclasses.fields(cls):
            value = getattr(args, f.name, None)
            if value is not None:
                values[f.name] = None if isinstance(value, str) and value.lower() in ("none", "null") else value
        return values
