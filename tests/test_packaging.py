"""The package's metadata: every subpackage and app ships, every command points at a run()."""

import importlib
import pathlib
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pyproject():
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_listed(pyproject):
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "keras_sparse_rect").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert pyproject["tool"]["setuptools"]["package-dir"] == {"keras_sparse_rect_apps": "apps"}


def test_every_command_names_an_apps_run_function(pyproject):
    scripts = pyproject["project"]["scripts"]
    apps = {p.stem for p in (ROOT / "apps").glob("*.py") if not p.stem.startswith("_")}
    apps -= {"__init__", "flags"}
    assert {target.split(":")[0].split(".")[1] for target in scripts.values()} == apps
    for command, target in scripts.items():
        module, function = target.split(":")
        assert module.startswith("keras_sparse_rect_apps.") and function == "run", command
        source = (ROOT / "apps" / (module.split(".")[1] + ".py")).read_text()
        assert "def run():" in source and "from . import flags as app_flags" in source, command


def test_the_configs_load_neither_keras_nor_tensorflow():
    import subprocess

    code = (
        "import sys; import keras_sparse_rect.experiments.configs; "
        "print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_the_package_has_a_version():
    assert importlib.import_module("keras_sparse_rect").__version__
