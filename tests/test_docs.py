"""The documentation site builds in strict mode and documents every public name.

Strict mode turns warnings into errors: a broken link or anchor, a page missing from
the nav, a docstring griffe cannot read. The API reference renders an object only when
it has a docstring, so the test also checks that every name a subpackage exports has an
entry on its page.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")

ROOT = Path(__file__).resolve().parents[1]


def _subpackages() -> tuple[str, ...]:
    """``bftbio._SUBPACKAGES``, read without importing bftbio."""
    tree = ast.parse((ROOT / "bftbio" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_SUBPACKAGES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("bftbio/__init__.py defines no _SUBPACKAGES")


def _public_names(subpackage: str) -> list[str]:
    """The names a subpackage exports: its ``__all__``, else its public top-level functions and classes."""
    path = ROOT / "bftbio" / subpackage / "__init__.py"
    if not path.is_file():
        path = ROOT / "bftbio" / f"{subpackage}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    ]


SUBPACKAGES = _subpackages()


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_api_page_for_every_subpackage(subpackage):
    page = ROOT / "docs" / "api" / f"{subpackage}.md"
    assert page.is_file(), f"no API page for bftbio.{subpackage}: add {page.relative_to(ROOT)}"
    assert f"::: bftbio.{subpackage}" in page.read_text(encoding="utf-8")
    assert f"api/{subpackage}.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), "not in the nav"


def test_docs_build_strict(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's notice about MkDocs 2.0
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        print(result.stdout)
        print(result.stderr)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-5000:]}"

    for page in ("index", "install", "concepts", "tutorials", "api/bftbio"):
        assert (site / page / "index.html" if page != "index" else site / "index.html").is_file(), page
    missing = []
    for subpackage in SUBPACKAGES:
        html = (site / "api" / subpackage / "index.html").read_text(encoding="utf-8")
        missing += [
            f"bftbio.{subpackage}.{name}"
            for name in _public_names(subpackage)
            if f'id="bftbio.{subpackage}.{name}"' not in html
        ]
    assert not missing, f"exported but not in the API reference (no docstring?): {missing}"
