import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.apps.conftest import ROOT, error_lines, run_app

FAST = ["--hidden_units=32,32", "--batch_size=20", "--verbose=2"]


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
    assert not list(model_dir.glob(".*"))  # no temporary files left behind


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
    assert len(result["history"]["loss"]) == 6 - done  # only the epochs left
    assert not (model_dir / "backup").exists()


@pytest.mark.tensorflow_only
@pytest.mark.parametrize(
    "args, needle",
    [
        (["--activation=relu6"], "activation"),
        (["--hidden_units=10,x"], "hidden_units"),
        (["--noise=1.5"], "noise"),
        (["--strategy=tpu"], "TPU"),
        (["--dataset=cifar10", "--data_dir={tmp}"], "cifar10"),
        (["--dataset=nosuchset"], "nosuchset"),
        (["extra_argument"], "unexpected"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(args, needle, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    started = time.time()
    run = run_app("apps.image_experiment", *args, f"--model_dir={tmp_path / 'run'}", timeout=120)
    assert run.returncode == 2, (run.stdout[-2000:], run.stderr[-2000:])
    lines = error_lines(run.stderr)
    assert len(lines) == 1, lines
    assert needle in lines[0]
    assert time.time() - started < 60
    assert not (tmp_path / "run" / "result.json").exists()


def test_config_validation_names_the_field():
    from keras_sparse_rect.experiments.image import ImageExperimentConfig

    with pytest.raises(ValueError, match="labeled_fraction"):
        ImageExperimentConfig(labeled_fraction=0.0).validate()
    with pytest.raises(ValueError, match="epochs"):
        ImageExperimentConfig(epochs=-1).validate()
    assert os.path.basename(ImageExperimentConfig().model_dir) == "image_experiment"
