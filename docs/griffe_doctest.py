"""A griffe extension that renders the library's docstrings as they read in the source.

The docstrings follow the project's style: Google sections (Args, Returns, Raises) with
doctest examples that are not indented under an ``Example:`` header, and Sphinx roles
(``:func:`name```). Markdown would run the ``>>>`` lines together into one paragraph (and
read ``x["a"]["b"]`` as a link); this wraps each run of doctest lines into a ``pycon``
code block and turns the roles into inline code. mkdocs.yml loads it for mkdocstrings.
"""

import re

import griffe

ROLE = re.compile(r":(?:func|class|data|mod|meth|attr|exc|obj):`~?([^`]+)`")


def fence_doctests(text):
    """``text`` with each run of ``>>>`` lines (and their output) in a fenced block."""
    lines = text.split("\n")
    out = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.lstrip().startswith(">>>"):
            out.append(ROLE.sub(r"`\1`", line))
            index += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        block = []
        while index < len(lines) and lines[index].strip():
            block.append(
                lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index]
            )
            index += 1
        out += [f"{indent}```pycon", *[indent + b for b in block], f"{indent}```"]
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fences doctest examples and unwraps Sphinx roles in every docstring."""

    def on_instance(self, *, node, obj, agent, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
