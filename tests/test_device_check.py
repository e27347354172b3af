"""bench/device_check.py, the prepared GPU check, in its CPU mode (``--dry_run``)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "bench", "device_check.py")


@pytest.fixture(scope="module")
def device_check():
    spec = importlib.util.spec_from_file_location("device_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("args", [["--epochs=0"], ["--pretrain_epochs=0"], ["--budget_s=0"]])
def test_bad_arguments_are_refused(device_check, args):
    with pytest.raises(SystemExit) as exit:
        device_check.parse(args)
    assert exit.value.code == 2


def test_a_missing_backend_is_skipped_not_failed(device_check, monkeypatch):
    monkeypatch.setattr(device_check.importlib.util, "find_spec", lambda name: None)
    step = device_check.layer_tests("torch", dry_run=True, timeout=10)
    assert step["status"] == "skipped: torch is not installed"


def test_nothing_is_installed_when_keras_and_zarr_import(device_check):
    assert device_check.install(dry_run=False)["status"] == "already installed"


@pytest.mark.slow
@pytest.mark.once("jax")  # the script chooses its own backends (JAX, PyTorch)
def test_dry_run_runs_every_step_without_tensorflow(tmp_path):
    run = subprocess.run(
        [sys.executable, SCRIPT, "--dry_run", "--epochs=1", "--budget_s=850"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "OUT": str(tmp_path)},
    )
    summary = json.loads((tmp_path / "device_check.json").read_text())
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert summary["tests_jax"]["status"] == "passed"
    job = summary["main_job_jax"]
    assert job["status"] == "passed", job
    figures = job["figures"]
    # The data and training path of the main job ran with TensorFlow unimportable.
    assert figures["tensorflow_imported"] is False and figures["backend"] == "jax"
    assert "main job on cpu" in run.stdout and "examples/s" in run.stdout
    assert figures["pretraining_examples_per_s"] > 0 and figures["fine_tuning_examples_per_s"] > 0
    assert 0.0 <= figures["test_error"] < 0.9
    assert (
        summary["tests_torch"]["status"] in ("passed",)
        or "skipped" in summary["tests_torch"]["status"]
    )
