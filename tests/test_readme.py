"""The README stays short, its examples run as written, and CI runs its test command."""

import os
import pathlib
import re
import subprocess

import pytest

# The README's examples use the public API, which the rest of the suite tests on both backends.
pytestmark = pytest.mark.once("tensorflow")

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_is_a_short_guide_not_a_diary():
    lines = README.read_text().splitlines()
    assert len(lines) < 250, f"README.md has {len(lines)} lines; move the detail into docs/"
    dated = [line for line in lines if re.search(r"\b20\d\d-\d\d-\d\d\b", line)]
    assert len(dated) <= 1, f"dated measurements belong in docs/log/: {dated}"


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _blocks("bash")[0].strip().splitlines()[1]
    assert test_command.startswith("pip install -e '.[test]'")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci, ".ci/run must run the README's test command verbatim"


@pytest.mark.parametrize(
    "failing, status", [("", 0), ("tensorflow", 5), ("jax", 1), ("pip", 2), ("mkdocs", 1)]
)
def test_ci_fails_when_any_step_fails(tmp_path, failing, status):
    # .ci/run with its tools stubbed: a suite's failure (pytest's exit 5 included) is CI's.
    stubs = (
        f'python3() {{ :; }}; source() {{ :; }}; pip() {{ [ "{failing}" != pip ] || return 2; }}\n'
        'python() { echo "pytest $KERAS_BACKEND" >> "$LOG"; '
        f'[ "$KERAS_BACKEND" != "{failing}" ] || return {status or 1}; }}\n'
        f'mkdocs() {{ echo docs >> "$LOG"; [ "{failing}" != mkdocs ]; }}\n'
        "export -f python3 source pip python mkdocs\n"
    )
    log = tmp_path / "log"
    run = subprocess.run(
        ["bash", "-c", stubs + f'bash "{ROOT / ".ci" / "run"}"'],
        env={"PATH": os.environ["PATH"], "LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    steps = log.read_text().split("\n")[:-1] if log.exists() else []
    assert run.returncode == status, run.stderr
    expected = {
        "": ["pytest tensorflow", "pytest jax", "docs"],
        "tensorflow": ["pytest tensorflow"],
        "jax": ["pytest tensorflow", "pytest jax"],
        "pip": [],
        "mkdocs": ["pytest tensorflow", "pytest jax", "docs"],
    }[failing]
    assert steps == expected


def test_readme_links_exist():
    for target in re.findall(r"\]\(((?:docs/|CHANGELOG|CONTRIBUTING)[^)#]*)", README.read_text()):
        assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


@pytest.mark.xla  # as a reader runs them: XLA on, on TensorFlow too
def test_readme_examples_run(capsys):
    # Both python blocks in order, as a reader would paste them: the layers in a model of
    # one's own, then greedy pretraining (tests/test_docs.py runs the pages in docs/).
    layers, pretraining = _blocks("python")
    namespace = {}
    exec(compile(layers, "README.md, layers example", "exec"), namespace)  # noqa: S102
    history = namespace["history"].history
    assert 0.0 <= history["sparsity"][-1] <= 1.0
    assert history["accuracy"][-1] > 0.5
    assert "sparsity" in capsys.readouterr().out
    namespace = {}
    exec(compile(pretraining, "README.md, pretraining example", "exec"), namespace)  # noqa: S102
    history = namespace["history"].history
    assert "pretrain/layer_1/reconstruction" in history
    assert history["accuracy"][-1] > 0.5
