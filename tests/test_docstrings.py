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
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("keras_sparse_rect", "apps")
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PROMPT = re.compile(r"^\s*>>>", re.M)


def _modules_with_examples():
    """Dotted names of the modules whose source holds a ``>>>`` line, found without importing."""
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if PROMPT.search(path.read_text(encoding="utf-8")):
                parts = path.relative_to(ROOT).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                names.append(".".join(parts))
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
