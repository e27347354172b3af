"""Every ``>>>`` example in the docstrings runs as a doctest, one test per module.

The suite runs once per backend (``KERAS_BACKEND=tensorflow`` and ``KERAS_BACKEND=jax``),
so each example runs on both. Run one module's examples with, for example::

    KERAS_BACKEND=jax python -m pytest tests/test_docstrings.py -n 0 -k layers.masking_noise

Each docstring gets a fresh copy of its module's globals (``doctest``'s rule), so examples
do not leak names into each other or into other modules. Output is compared with
``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``; lines that need files or minutes carry
``# doctest: +SKIP``. The examples run in a temporary working directory, so an example
that writes a file leaves nothing behind.
"""

import doctest
import importlib
import inspect
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("keras_sparse_rect", "apps")
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PROMPT = re.compile(r"^\s*>>>", re.M)


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules_with_examples():
    """Dotted names of the modules whose source holds a ``>>>`` line, found without importing."""
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if PROMPT.search(path.read_text(encoding="utf-8")):
                names.append(_module_name(path))
    return names


MODULES = _modules_with_examples()


def test_examples_found():
    # The documented public API carries examples; an empty list means the walk broke.
    assert "keras_sparse_rect.layers.sign_flipped_rectifier" in MODULES


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    module = importlib.import_module(module_name)
    monkeypatch.chdir(tmp_path)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module_name)
    found = sum(len(test.examples) for test in tests)
    in_source = len(PROMPT.findall(pathlib.Path(module.__file__).read_text(encoding="utf-8")))
    # An example doctest cannot reach (a docstring inside a function body, on an object
    # re-bound under another module's name) would silently never run.
    assert found == in_source, (
        f"{module_name}: {in_source} '>>>' lines in the source but doctest finds {found}; "
        "move the unreachable examples into a module, class or function docstring"
    )
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    for test in sorted(tests, key=lambda t: t.lineno or 0):
        runner.run(test, out=report.write)
    if runner.failures:
        pytest.fail(
            f"{runner.failures} of {runner.tries} examples failed in {module_name}:\n"
            + report.getvalue(),
            pytrace=False,
        )


# Documented arguments ---------------------------------------------------------------

ARGS_HEADER = re.compile(r"^(\s*)(Args|Arguments):\s*$")
ARG_ITEM = re.compile(r"\s*([*\w][\w*, ]*?)\s*(\([^)]*\))?:(\s|$)")
LIBRARY_MODULES = [_module_name(p) for p in sorted((ROOT / "keras_sparse_rect").rglob("*.py"))]


def documented_arguments(docstring):
    """The names an ``Args:`` section documents; ``a, b: ...`` documents both."""
    lines = docstring.expandtabs().split("\n")
    names = []
    for number, line in enumerate(lines):
        header = ARGS_HEADER.match(line)
        if not header:
            continue
        item_indent = None
        for entry in lines[number + 1 :]:
            if not entry.strip():
                continue
            indent = len(entry) - len(entry.lstrip())
            if indent <= len(header.group(1)):
                break
            item_indent = indent if item_indent is None else item_indent
            item = ARG_ITEM.match(entry) if indent == item_indent else None
            if item:
                names += [name.strip().lstrip("*") for name in item.group(1).split(",")]
    return names


def test_documented_arguments_reads_combined_entries():
    doc = "Sum.\n\nArgs:\n    a, b: the terms,\n        on two lines.\n    *rest (tuple): more.\n"
    assert documented_arguments(doc) == ["a", "b", "rest"]


@pytest.mark.parametrize("module_name", LIBRARY_MODULES)
def test_documented_arguments_exist(module_name):
    # The API reference renders Args from the docstrings; a stale name (an argument renamed
    # or removed) would document something the signature no longer takes.
    module = importlib.import_module(module_name)
    stale = []
    for name, value in vars(module).items():
        if getattr(value, "__module__", None) != module_name:
            continue
        callables = [(name, value, value)] if inspect.isfunction(value) else []
        if inspect.isclass(value):
            callables.append((name, value, value.__init__))
            callables += [
                (f"{name}.{key}", member, member)
                for key, member in vars(value).items()
                if inspect.isfunction(member)
            ]
        for label, documented, function in callables:
            docstring = inspect.getdoc(documented) or ""
            if documented is not function and function.__doc__:
                docstring += "\n" + inspect.getdoc(function)
            try:
                parameters = inspect.signature(function).parameters
            except (TypeError, ValueError):
                continue
            unknown = [n for n in documented_arguments(docstring) if n not in parameters]
            if unknown:
                stale.append(f"{label}: {unknown}")
    assert not stale, f"{module_name}: Args that the signature does not take: {stale}"
