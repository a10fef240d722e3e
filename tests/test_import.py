import subprocess
import sys


def test_import_is_light():
    code = (
        "import sys, bftbio; "
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'scanpy', 'sklearn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"`import bftbio` imported {out.stdout.strip()}"


def test_subpackages_load_lazily():
    import bftbio

    assert "models" in dir(bftbio)
    assert bftbio.models.load_llm.__name__ == "load_llm"


def test_unknown_attribute_raises():
    import pytest

    import bftbio

    with pytest.raises(AttributeError, match="no_such_thing"):
        bftbio.no_such_thing


def test_no_room_imports_another_rooms_private_names():
    """What two rooms share is public in the lower one (the map in DESIGN.md)."""
    import ast
    from pathlib import Path

    import bftbio

    package = Path(bftbio.__file__).parent
    # No exceptions: the CLI imports TrainConfig from bftbio.train, whose other names load lazily.
    allowed: set[str] = set()
    offences = []
    for path in package.rglob("*.py"):
        parts = ("bftbio", *path.relative_to(package).with_suffix("").parts)
        room = parts[1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0 or not node.module:
                continue
            base = parts[: len(parts) - node.level]
            target = (*base, *node.module.split("."))
            if len(target) < 2 or target[1] == room or target[1] == "_settings":
                continue
            private = [p for p in target[2:] if p.startswith("_")] + [a.name for a in node.names if a.name.startswith("_")]
            if private:
                offences.append(f"{path.relative_to(package)}: {ast.unparse(node)}")
    offences = [o for o in offences if o not in allowed]
    assert not offences, "\n".join(offences)
