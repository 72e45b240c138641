"""A griffe extension: minigan's docstrings write math and cross-references in
reStructuredText (``.. math::``, ``:math:`x```, ``:func:`f```); the site renders
Markdown, so each docstring is rewritten as it is loaded."""

import re

import griffe

_MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*\n(?P<body>(?:(?P=indent)[ \t]+.*\n|[ \t]*\n)+)", re.M)
_ROLE = re.compile(r":(?P<role>math|func|class|meth|mod|attr|data|obj|exc):`~?(?P<text>[^`]+)`")
_LITERAL = re.compile(r"``(?P<text>[^`]+)``")


def _display_math(match: re.Match) -> str:
    indent = match["indent"]
    lines = [line.strip() for line in match["body"].strip("\n").splitlines()]
    return f"{indent}$$\n" + "".join(f"{indent}{line}\n" for line in lines if line) + f"{indent}$$\n\n"


def _role(match: re.Match) -> str:
    return f"${match['text']}$" if match["role"] == "math" else f"`{match['text']}`"


def rst_to_markdown(text: str) -> str:
    text = _MATH_BLOCK.sub(_display_math, text + "\n")
    text = _ROLE.sub(_role, text)
    return _LITERAL.sub(lambda m: f"`{m['text']}`", text).rstrip("\n")


class RstToMarkdown(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
