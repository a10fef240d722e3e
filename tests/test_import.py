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
