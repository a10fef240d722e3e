"""A griffe extension that lets bftbio's numpydoc docstrings render as Markdown.

mkdocstrings renders docstring text as Markdown, while bftbio's docstrings are numpydoc
with a few Sphinx habits. Rather than rewrite every docstring for one renderer, the docs
build translates these when griffe loads the package (the source is not touched):

- Sphinx roles: ``:math:`x` `` becomes ``\\(x\\)`` (typeset by arithmatex and MathJax);
  ``:func:`name` ``, ``:class:``, ``:data:``, ... become code that links to the API page
  when the name is documented there (an optional cross-reference: a name that is not
  documented, such as a private helper or another package's function, stays plain code
  and is not an error).
- ``.. math::`` directives become display math ``\\[ ... \\]``, and RST definition
  lists in the summary text (a literal term, its text indented below) one paragraph per
  term.
- ``#:`` comments above a module or class attribute become its docstring, as Sphinx
  autodoc reads them (griffe reads only string literals below an attribute); a dataclass
  field's help string (``field(metadata={"help": ...})``, or the second argument of
  bftbio's ``_f(default, help)``) becomes the field's docstring.
- doctest lines (``>>>``) outside an Examples section become a ``pycon`` code block
  (Markdown would read them as nested quotes).
- ``Returns`` sections written as prose (bftbio's habit: "DataFrame with columns ...",
  continued over several lines) become one description under an empty ``:`` item, so
  griffe's numpy parser does not read every line as a separate return value with its
  text as the type.

It also fills in public functions that only exist at run time (``bftbio.datasets``'
GEARS readers are made by a factory, which static analysis cannot see): an export whose
target griffe did not find is read by importing its module.
"""

from __future__ import annotations

import ast
import builtins
import functools
import html
import re
import sys
from pathlib import Path

import griffe

_ROLE = re.compile(r":(?:py:)?(math|func|class|meth|attr|data|mod|obj|exc|const):`([^`]+)`")
_MATH_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")
_DOCTEST_FLAG = re.compile(r"\s*#\s*doctest:.*$")
_TERM = re.compile(r"^``[^`]+``$")
_DOTTED = re.compile(r"^[A-Za-z_][\w.]*$")
# Public names that are not where the API pages document them.
_DOCUMENTED_AT = {"bftbio.settings": "bftbio._settings.Settings", "bftbio.embed_genes": "bftbio.embed.embed_genes"}


def _public_package(obj: griffe.Object) -> str:
    """Where a relative name in ``obj``'s docstring is looked up: its public package.

    ``bftbio.knowledge._resolve.resolve_symbols`` -> ``bftbio.knowledge``; the package
    ``bftbio.knowledge`` itself -> ``bftbio.knowledge``.
    """
    parts = obj.path.split(".")
    if not obj.is_module:
        parts = parts[:-1]
    public = []
    for part in parts:
        if part.startswith("_"):
            break
        public.append(part)
    return ".".join(public)


def _convert_roles(text: str, package: str) -> str:
    def replace(match: re.Match) -> str:
        role, content = match.groups()
        if role == "math":
            return rf"\({content}\)"
        target = content
        explicit = re.match(r"^(?P<title>.*?)\s*<(?P<target>[^>]+)>$", content)
        if explicit:
            title, target = explicit["title"], explicit["target"]
        elif target.startswith("~"):
            target = target[1:]
            title = target.rsplit(".", 1)[-1]
        else:
            title = target
        code = f"<code>{html.escape(title)}</code>"
        if not _DOTTED.match(target) or hasattr(builtins, target):
            return code
        if not target.startswith("bftbio"):
            if "." in target or not package:  # another package's name: no page to link to
                return code
            target = f"{package}.{target}"
        for public, documented in _DOCUMENTED_AT.items():
            if target == public or target.startswith(f"{public}."):
                target = documented + target[len(public) :]
        return f'<autoref identifier="{html.escape(target)}" optional hover>{code}</autoref>'

    return _ROLE.sub(replace, text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _convert_math_directives(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _MATH_DIRECTIVE.match(lines[i])
        i += 1
        if not match:
            out.append(lines[i - 1])
            continue
        body = [match["first"].strip()] if match["first"].strip() else []
        # The directive's content: the following lines indented deeper than the directive.
        while i < len(lines) and lines[i].strip() and _indent(lines[i]) > len(match["indent"]):
            body.append(lines[i].strip())
            i += 1
        # Display math at the indentation of the block around the directive: deeper, it
        # would be a Markdown code block.
        around = next((_indent(line) for line in reversed(out) if line.strip()), 0)
        pad = " " * min(around, len(match["indent"]))
        out.extend(["", f"{pad}\\[", *(pad + line for line in body), f"{pad}\\]", ""])
    return out


def _convert_definition_lists(lines: list[str]) -> list[str]:
    """RST definition lists in the summary text (a ````literal```` term, its text indented
    below) become one paragraph per term, ``term: text``; Markdown would run them together."""
    out: list[str] = []
    i = 0
    while i < len(lines) and not _is_section_header(lines, i):
        line = lines[i]
        i += 1
        if not (_TERM.match(line) and i < len(lines) and lines[i].strip() and _indent(lines[i]) >= 4):
            out.append(line)
            continue
        if out and out[-1].strip():
            out.append("")
        out.append(f"{line}: {lines[i].strip()}")
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) >= 4):
            out.append(lines[i][4:])
            i += 1
    return out + lines[i:]


def _is_section_header(lines: list[str], i: int) -> bool:
    return (
        i + 1 < len(lines)
        and bool(lines[i].strip())
        and not lines[i].startswith(" ")
        and re.fullmatch(r"-{3,}", lines[i + 1].strip()) is not None
    )


def _prose_returns(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not (lines[i].strip() in ("Returns", "Yields") and _is_section_header(lines, i)):
            out.append(lines[i])
            i += 1
            continue
        out.extend(lines[i : i + 2])
        start = i = i + 2
        while i < len(lines) and not _is_section_header(lines, i):
            i += 1
        body = lines[start:i]
        filled = [n for n, line in enumerate(body) if line.strip()]
        if filled:
            first = filled[0]
            follows = body[first + 1] if first + 1 < len(body) else ""
            numpydoc = follows.startswith(" ") or (len(filled) == 1 and " " not in body[first].strip())
            if not numpydoc:
                body = [":", *(f"    {line}" if line.strip() else "" for line in body[first:])]
        out.extend(body)
    return out


def _fence_doctests(lines: list[str]) -> list[str]:
    """Wrap runs of doctest lines outside Examples sections in a ``pycon`` fence."""
    out: list[str] = []
    section = None
    i = 0
    while i < len(lines):
        if _is_section_header(lines, i):
            section = lines[i].strip()
        if section == "Examples" or not lines[i].lstrip().startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(_DOCTEST_FLAG.sub("", lines[i]))
            i += 1
        out.append(f"{indent}```")
    return out


def _translate(docstring: griffe.Docstring | None, obj: griffe.Object) -> None:
    if docstring is None or not docstring.value:
        return
    lines = _convert_definition_lists(_convert_math_directives(docstring.value.split("\n")))
    lines = _fence_doctests(_prose_returns(lines))
    docstring.value = _convert_roles("\n".join(lines), _public_package(obj))


def _resolves(alias: griffe.Alias) -> bool:
    try:
        alias.final_target  # noqa: B018 (resolving is the point)
    except griffe.AliasResolutionError:
        return False
    return True


def _modules(module: griffe.Module):
    yield module
    for member in module.members.values():
        if not member.is_alias and member.is_module:
            yield from _modules(member)


@functools.cache
def _source_lines(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").split("\n")


def _doc_comment(obj: griffe.Object) -> str | None:
    """The ``#:`` comment lines right above an attribute, joined; None if there are none."""
    if not obj.lineno or not obj.filepath or isinstance(obj.filepath, list):
        return None
    lines = _source_lines(str(obj.filepath))
    comment = []
    index = obj.lineno - 2
    while index >= 0 and lines[index].strip().startswith("#:"):
        comment.insert(0, lines[index].strip()[2:].strip())
        index -= 1
    return "\n".join(comment) or None


def _field_help(obj: griffe.Object) -> str | None:
    """The help string of a dataclass field: ``_f(default, help)`` or ``metadata={"help": ...}``."""
    value = getattr(obj, "value", None)
    if not isinstance(value, griffe.ExprCall) or not obj.parent or not obj.parent.is_class:
        return None
    candidates = []
    if str(value.function) == "_f" and len(value.arguments) > 1:
        candidates.append(value.arguments[1])
    for argument in value.arguments:
        if isinstance(argument, griffe.ExprKeyword) and argument.name == "help":
            candidates.append(argument.value)
        elif (
            isinstance(argument, griffe.ExprKeyword)
            and argument.name == "metadata"
            and isinstance(argument.value, griffe.ExprDict)
        ):
            metadata = argument.value
            candidates += [v for k, v in zip(metadata.keys, metadata.values) if str(k) in ("'help'", '"help"')]
    for candidate in candidates:
        try:
            text = ast.literal_eval(str(candidate))
        except (ValueError, SyntaxError):
            continue
        if isinstance(text, str):
            return text
    return None


class NumpydocMarkdown(griffe.Extension):
    """Translate Sphinx roles, ``.. math::``, ``#:`` comments and prose Returns sections."""

    def on_instance(self, *, obj: griffe.Object, agent=None, **kwargs) -> None:
        if obj.is_attribute and obj.docstring is None and (comment := _doc_comment(obj) or _field_help(obj)):
            obj.docstring = griffe.Docstring(
                comment,
                parent=obj,
                parser=getattr(agent, "docstring_parser", None),
                parser_options=getattr(agent, "docstring_options", None),
            )
        _translate(obj.docstring, obj)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs) -> None:
        inspected: dict[str, griffe.Module] = {}
        for module in _modules(pkg):
            for name in module.exports or ():
                member = module.members.get(name) if isinstance(name, str) else None
                if member is None or not member.is_alias or _resolves(member):
                    continue
                module_path, target_name = member.target_path.rsplit(".", 1)
                if not module_path.startswith(f"{pkg.path}."):
                    continue
                if module_path not in inspected:
                    inspected[module_path] = griffe.inspect(
                        module_path,
                        import_paths=[Path(pkg.filepath).parent.parent, *sys.path],
                        docstring_parser=loader.docstring_parser,
                        docstring_options=loader.docstring_options,
                    )
                runtime = inspected[module_path].members.get(target_name)
                if runtime is None:
                    continue
                _translate(runtime.docstring, runtime)
                loader.modules_collection[module_path].set_member(target_name, runtime)
