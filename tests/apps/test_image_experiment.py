import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.apps.conftest import ROOT, error_lines, run_app, run_in_process

FAST = ["--hidden_units=32,32", "--batch_size=20", "--verbose=2"]


@pytest.mark.slow
def test_end_to_end_writes_everything(tiny_mnist, tmp_path):
    model_dir = tmp_path / "run"
    run = run_app(
        "apps.image_experiment",
        f"--dataset={tiny_mnist}",
        f"--model_dir={model_dir}",
        "--epochs=2",
        "--pretrain_epochs=1",
        "--learning_rate=0.05",
        "--pretrain_learning_rate=0.001",
        *FAST,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((model_dir / "result.json").read_text())
    assert 0.0 <= result["test_error"] < 0.8
    assert set(result["sparsity_per_layer"]) == {"hidden_1", "hidden_2"}
    assert set(result["dead_units_per_layer"]) == {"hidden_1", "hidden_2"}
    assert result["config"]["pretrain"] is True
    assert len(result["history"]["loss"]) == 2
    assert "pretrain/layer_1/reconstruction" in result["history"]
    assert result["environment"]["keras_sparse_rect"]
    assert (model_dir / "model.keras").stat().st_size > 0
    assert np.load(model_dir / "test_predictions.npy").shape == (100,)
    assert any((model_dir / "logs").rglob("*tfevents*"))
    assert "test error" in run.stdout and "sparsity per hidden layer" in run.stdout
    # One definition of dead units in the summary, the other named beside it.
    assert "never active on all 400 labeled training examples" in run.stdout
    assert "the epoch logs' dead_units count on the first 100" in run.stdout
    assert not list(model_dir.glob(".*"))  # no temporary files left behind
    # Only the app's own output: no retracing warnings, and on TensorFlow no start-up
    # notices (on JAX, TensorFlow loads later, for tensorflow-datasets and TensorBoard).
    assert "retracing" not in run.stderr, run.stderr[-2000:]
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        assert "oneDNN" not in run.stderr, run.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_killed_run_resumes_where_it_stopped(tiny_mnist, tmp_path):
    model_dir = tmp_path / "run"
    metadata = model_dir / "backup" / "training_metadata.json"
    args = [
        sys.executable,
        "-m",
        "apps.image_experiment",
        f"--dataset={tiny_mnist}",
        f"--model_dir={model_dir}",
        "--epochs=6",
        "--nopretrain",
        "--hidden_units=256,256",
        "--batch_size=2",
        "--verbose=0",
    ]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while not metadata.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert metadata.exists(), "no epoch finished before the deadline"
    done = json.loads(metadata.read_text())["epoch"]  # epochs completed
    assert 1 <= done < 6 and not (model_dir / "result.json").exists()

    run = run_app("apps.image_experiment", *args[3:])
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((model_dir / "result.json").read_text())
    assert len(result["history"]["loss"]) == 6  # the whole run, the killed process's epochs too
    assert result["timings_s"]["processes"] == 2
    assert not (model_dir / "backup").exists() and not (model_dir / "progress.json").exists()
    assert oct((model_dir / "result.json").stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    # Started again, the finished run is recognised, not trained again.
    again = run_in_process("apps.image_experiment", *args[3:])
    assert again.returncode == 0 and "holds this run, finished" in again.stdout
    assert json.loads((model_dir / "result.json").read_text()) == result


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.slow
def test_a_folder_of_another_run_is_refused_and_restart_starts_afresh(tiny_mnist, tmp_path):
    model_dir = tmp_path / "run"
    common = [f"--dataset={tiny_mnist}", f"--model_dir={model_dir}", "--epochs=1", "--verbose=0"]
    first = run_in_process("apps.image_experiment", *common, "--hidden_units=8,8", "--nopretrain")
    assert first.returncode == 0, first.stderr[-2000:]
    (model_dir / ".model.keras.abc123.keras").write_bytes(b"")  # left by a kill during a save
    other = run_in_process("apps.image_experiment", *common, "--hidden_units=4,4", "--nopretrain")
    assert other.returncode == 2
    (line,) = error_lines(other.stderr)
    assert "holds a run of another configuration (hidden_units [8, 8] -> [4, 4])" in line
    assert "--restart" in line
    fresh = run_in_process(
        "apps.image_experiment", *common, "--hidden_units=4,4", "--nopretrain", "--restart"
    )
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    result = json.loads((model_dir / "result.json").read_text())
    assert result["config"]["hidden_units"] == [4, 4]
    assert not list(model_dir.glob(".*"))  # the temporary file of the killed save is gone


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--activation=relu6"], "--activation"),
        (["--hidden_units=10,x"], "--hidden_units must be comma-separated ints"),
        (["--noise=1.5"], "--noise must be a number in [0, 1)"),
        (["--l1=0.1,0.2"], "--l1 must be one value or one per hidden layer (3)"),
        (["--seed=-1"], "--seed must be an int in [0, 4294967295]"),
        (["--eligible_dead_fraction=2"], "--eligible_dead_fraction must be a number in [0, 1]"),
        (["--dataset=nosuchset"], "--dataset must be one of"),
        (["--model_dir=/proc/no/such/folder"], "--model_dir=/proc/no/such/folder cannot be"),
        (["extra_argument"], "unexpected"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(args, needle, tmp_path):
    model_dir = tmp_path / "run"
    args = [*args] if any("model_dir" in a for a in args) else [*args, f"--model_dir={model_dir}"]
    run = run_in_process("apps.image_experiment", *args)
    assert run.returncode == 2, (run.stdout[-2000:], run.stderr[-2000:])
    lines = error_lines(run.stderr)
    assert len(lines) == 1, lines
    assert needle in lines[0]
    assert not model_dir.exists()  # nothing created before the flags are right


@pytest.mark.tensorflow_only  # tensorflow-datasets and the TPU strategy are TensorFlow's
@pytest.mark.parametrize(
    "args, needle",
    [
        (["--strategy=tpu"], "TPU"),
        (["--dataset=cifar10", "--data_dir={tmp}"], "cifar10"),
    ],
)
def test_bad_data_or_strategy_prints_one_line_and_exits_2(args, needle, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    run = run_in_process("apps.image_experiment", *args, f"--model_dir={tmp_path / 'run'}")
    assert run.returncode == 2, (run.stdout[-2000:], run.stderr[-2000:])
    lines = error_lines(run.stderr)
    assert len(lines) == 1, lines
    assert needle in lines[0]
    assert run.seconds < 60
    assert not (tmp_path / "run").exists()


def test_a_model_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("not a folder")
    run = run_in_process("apps.image_experiment", f"--model_dir={path}")
    assert run.returncode == 2
    assert error_lines(run.stderr) == [
        f"image_experiment.py: error: --model_dir={path} is a file, not a folder"
    ]


def test_a_flag_error_takes_under_2_seconds_and_loads_no_tensorflow(tmp_path):
    started = time.perf_counter()
    run = run_app("apps.image_experiment", "--seed=-1", f"--model_dir={tmp_path / 'run'}")
    seconds = time.perf_counter() - started
    assert run.returncode == 2 and "--seed must be an int in [0, 4294967295]" in run.stderr
    assert error_lines(run.stderr) == error_lines(run.stderr)[:1]
    assert "cuda" not in run.stderr.lower() and "oneDNN" not in run.stderr  # TF never loaded
    assert seconds < 2.0, seconds


def test_help_lists_the_apps_own_flags():
    run = run_app("apps.image_experiment", "--help")
    assert run.returncode in (0, 1)  # absl ends --help with status 1
    for flag in ("--dataset", "--hidden_units", "--l1", "--protocol", "--model_dir", "--verbose"):
        assert f"  {flag}:" in run.stdout, flag


def test_the_installed_command_runs_from_any_folder(tmp_path):
    command = shutil.which("ksr-image-experiment") or os.path.join(
        os.path.dirname(sys.executable), "ksr-image-experiment"
    )
    if not os.path.exists(command):
        pytest.skip("the package is not installed (pip install -e .) in this environment")
    run = subprocess.run(
        [command, "--seed=-1", f"--model_dir={tmp_path / 'run'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert "--seed must be an int in [0, 4294967295]" in run.stderr, run.stderr


@pytest.mark.slow
@pytest.mark.tensorflow_only  # TensorFlow's C++ start-up notices
@pytest.mark.parametrize(
    "args, needle",
    [
        (["--dataset=cifar10", "--data_dir={tmp}"], "cifar10"),
        (["--strategy=tpu"], "TPU"),  # no TensorFlow/CUDA log lines before the error
    ],
)
def test_the_user_sees_only_the_apps_own_line(tmp_path, args, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    run = run_app(
        "apps.image_experiment",
        *args,
        f"--model_dir={tmp_path / 'run'}",
        env={"TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], run.stderr
    assert not (tmp_path / "run").exists()  # a refused command creates no folder


def test_diverged_pretraining_stops_in_one_line_naming_the_pretraining_rate(tiny_mnist, tmp_path):
    run = run_in_process(
        "apps.image_experiment",
        f"--dataset={tiny_mnist}",
        f"--model_dir={tmp_path / 'run'}",
        "--hidden_units=16,16",
        "--pretrain_learning_rate=1e30",
        "--epochs=1",
        "--verbose=0",
    )
    assert run.returncode == 2, run.stderr[-2000:]
    (line,) = [ln for ln in error_lines(run.stderr) if "error:" in ln]
    assert "diverged" in line and "--pretrain_learning_rate=1e+30" in line, line
    assert " --learning_rate" not in line
    assert not (tmp_path / "run" / "result.json").exists()  # fine-tuning never started
