"""Every ``python`` block of the README and of ``docs/`` runs, and the API reference is whole.

The blocks of one page run in order in one namespace (a later block may use what an
earlier one made), in a temporary working directory, in the TensorFlow suite (once: the
examples call the public API, which the rest of the suite tests on both backends). A line
that would take minutes carries its fast replacement after a marker::

    epochs = 50  # in tests: epochs = 1

and the test runs the replacement instead (same indentation). Run one page with
``python -m pytest tests/test_docs.py -n 0 -k pretraining``.
"""

import importlib
import inspect
import pathlib
import re
import subprocess
import sys
import textwrap
import warnings

import pytest

# The examples use the public API, which the rest of the suite tests on both backends.
pytestmark = pytest.mark.once("tensorflow")

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: README.md's blocks run in tests/test_readme.py, with checks of what they print.
PAGES = sorted(DOCS.rglob("*.md"))
FENCE = re.compile(r"^([ \t]*)```python[ \t]*\n(.*?)^\1```[ \t]*$", re.M | re.S)
MARKER = re.compile(r"^(\s*)(.*?)\s*# in tests: (.*)$")
#: The packages whose ``__all__`` the API reference lists, each name once.
API_PACKAGES = ("layers", "models", "callbacks", "data", "inference", "tuning")


def python_blocks(text):
    """The ``python`` fenced blocks of a Markdown text, dedented, markers applied."""
    blocks = []
    for _indent, body in FENCE.findall(text):
        lines = []
        for line in textwrap.dedent(body).splitlines():
            marked = MARKER.match(line)
            lines.append(marked.group(1) + marked.group(3) if marked else line)
        blocks.append("\n".join(lines) + "\n")
    return blocks


def _page_id(path):
    return str(path.relative_to(ROOT))


def test_marker_replaces_the_line():
    text = "```python\nfor i in range(2):\n    n = 50  # in tests: n = 1\n```\n"
    assert python_blocks(text) == ["for i in range(2):\n    n = 1\n"]


def test_indented_blocks_are_found():
    text = "- item\n\n  ```python\n  x = 1\n  ```\n"
    assert python_blocks(text) == ["x = 1\n"]


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p.read_text())], ids=_page_id)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        for number, block in enumerate(python_blocks(page.read_text()), start=1):
            code = compile(block, f"{_page_id(page)}, python block {number}", "exec")
            exec(code, namespace)  # noqa: S102
    # A page must teach the current API: a deprecated call in it is a stale example.
    stale = [
        f"{w.filename}, line {w.lineno}: {w.message}"
        for w in caught
        if issubclass(w.category, DeprecationWarning) and w.filename.startswith("docs/")
    ]
    assert not stale, "deprecated calls in the page: " + "; ".join(stale)


def _api_identifiers():
    identifiers = []
    for page in sorted((DOCS / "api").glob("*.md")):
        identifiers += re.findall(r"^::: ([\w.]+)", page.read_text(), flags=re.M)
    return identifiers


def test_api_reference_lists_each_name_once():
    identifiers = _api_identifiers()
    repeated = {i for i in identifiers if identifiers.count(i) > 1}
    assert not repeated, f"listed more than once in docs/api: {sorted(repeated)}"
    for package in API_PACKAGES:
        module = importlib.import_module(f"keras_sparse_rect.{package}")
        prefix = f"keras_sparse_rect.{package}."
        listed = [i.rsplit(".", 1)[1] for i in identifiers if i.startswith(prefix)]
        missing = sorted(set(module.__all__) - set(listed))
        assert not missing, f"keras_sparse_rect.{package} names missing from docs/api: {missing}"
        twice = sorted({n for n in listed if listed.count(n) > 1})
        assert not twice, f"keras_sparse_rect.{package} names listed twice: {twice}"


def test_api_paths_import():
    # mkdocs build --strict (in .ci/run) renders them; this finds a stale path in seconds.
    for identifier in _api_identifiers():
        module_name, _, name = identifier.rpartition(".")
        module = importlib.import_module(module_name)
        assert hasattr(module, name), f"docs/api names {identifier}, which does not exist"


@pytest.mark.parametrize(
    "config_name, page",
    [("ImageExperimentConfig", "image-experiments.md"), ("SentimentConfig", "sentiment.md")],
)
def test_every_flag_of_a_config_is_documented(config_name, page):
    # The apps generate one flag per config field; the guide's flag table names each.
    import dataclasses

    from keras_sparse_rect.experiments import configs

    text = (DOCS / "guide" / page).read_text()
    fields = [field.name for field in dataclasses.fields(getattr(configs, config_name))]
    missing = [n for n in fields if f"`--{n}`" not in text and f"`--[no]{n}`" not in text]
    assert not missing, f"docs/guide/{page} does not document the flags {missing}"


def test_api_objects_have_a_one_line_summary():
    for identifier in _api_identifiers():
        module_name, _, name = identifier.rpartition(".")
        value = getattr(importlib.import_module(module_name), name)
        if inspect.isclass(value) or inspect.isfunction(value):
            summary = (inspect.getdoc(value) or "").strip().split("\n")[0]
            assert summary.endswith((".", ":")), f"{identifier}: no one-line summary"


def test_table1_chart_is_drawn_from_the_results_page(tmp_path):
    output = tmp_path / "table1.png"
    subprocess.run(
        [sys.executable, str(DOCS / "results" / "plot_table1.py"), "--output", str(output)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (DOCS / "results" / "table1.png").exists(), "commit the chart the script draws"
