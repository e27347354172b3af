import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.apps.conftest import ROOT, error_lines, run_app, run_in_process

# Tiny networks and one epoch: a trial takes seconds. Grid order: learning rate 0.1, then 0.01.
FAST = [
    "--hidden_units=16",
    "--batch_size=20",
    "--epochs=1",
    "--pretrain_epochs=1",
    "--verbose=0",
    "--stage=finetune",
    "--choices=noise=0.25",
]


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.tensorflow_only  # the search itself runs on JAX in tests/tuning/test_tuners.py
def test_search_writes_a_flagfile_that_the_image_app_runs(tiny_mnist, tmp_path):
    run = run_app(
        "apps.tune",
        f"--dataset={tiny_mnist}",
        f"--directory={tmp_path}",
        "--project_name=search",
        "--tuner=grid",
        "--max_trials=2",
        "--choices=learning_rate=0.1,0.01",
        *FAST,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    project = tmp_path / "search"
    summary = read_json(project / "trials.json")
    assert (summary["completed"], summary["failed"]) == (2, 0)
    best = summary["best"]
    assert best["score"] == min(t["score"] for t in summary["trials"])
    assert "Search in" in run.stdout and "2 trial(s), 2 completed, 0 failed." in run.stdout
    assert f"Best trial {best['trial_id']}" in run.stdout
    assert f"--flagfile={project / 'best.flags'}" in run.stdout
    assert (project / "trials.md").read_text().count("| COMPLETED |") == 1  # + the bold best

    flags = (project / "best.flags").read_text()
    assert f"--learning_rate={best['hyperparameters']['learning_rate']}\n" in flags
    assert f"--dataset={tiny_mnist}\n" in flags and "--hidden_units=16\n" in flags

    model_dir = tmp_path / "best_run"
    final = run_app(
        "apps.image_experiment",
        f"--flagfile={project / 'best.flags'}",
        f"--model_dir={model_dir}",
        "--verbose=0",
    )
    assert final.returncode == 0, final.stderr[-3000:]
    config = read_json(model_dir / "result.json")["config"]
    assert config["learning_rate"] == best["hyperparameters"]["learning_rate"]
    assert (config["hidden_units"], config["noise"], config["epochs"]) == ([16], 0.25, 1)


@pytest.mark.tensorflow_only  # the search itself runs on JAX in tests/tuning/
def test_sentiment_search_writes_a_flagfile_that_the_sentiment_app_runs(tmp_path):
    from tests.review_data import write_sample

    reviews = write_sample(tmp_path / "rt.csv", rows=300)
    data = [
        f"--reviews={reviews}",
        "--rating_column=category",
        "--rating_scale=rotten,fresh",
        "--ignore_ratings=plot",
        "--num_terms=300",
        "--folds=4",
        "--noreconstruction_sampling",
    ]
    run = run_app(
        "apps.tune",
        "--experiment=sentiment",
        *data,
        "--hidden_units=16",  # one hidden layer: Table 2's rectifier_1
        "--epochs=1",
        "--pretrain_epochs=1",
        "--stage=finetune",
        "--tuner=grid",
        "--max_trials=2",
        "--choices=learning_rate=0.1,0.01",  # the only one: rectifier_1 has no masked layer
        f"--directory={tmp_path}",
        "--project_name=reviews",
        "--verbose=0",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    project = tmp_path / "reviews"
    summary = read_json(project / "trials.json")
    assert (summary["completed"], summary["failed"]) == (2, 0)
    best = summary["best"]
    assert 0.0 < best["metrics"]["val_rmse"] <= 1.0  # Table 2's measure, on one fold of 4
    assert f"Run it: python -m apps.sentiment_experiment --flagfile={project / 'best.flags'}" in (
        run.stdout
    )
    flags = (project / "best.flags").read_text()
    assert f"--learning_rate={best['hyperparameters']['learning_rate']}\n" in flags
    defaults = ["--masking_noise=0.5,0.3", "--l1=0.0001,0.0,0.0"]  # the experiment's, kept
    for line in (*data, "--models=rectifier_1", "--hidden_units=16,16,16", *defaults):
        assert line + "\n" in flags, line

    final = run_app(
        "apps.sentiment_experiment",
        f"--flagfile={project / 'best.flags'}",
        f"--output_dir={tmp_path / 'table2'}",
    )
    assert final.returncode == 0, final.stderr[-3000:]
    config = read_json(tmp_path / "table2" / "result.json")["config"]
    assert config["models"] == ["rectifier_1"] and config["folds"] == 4
    assert config["learning_rate"] == best["hyperparameters"]["learning_rate"]


@pytest.mark.tensorflow_only  # flag handling: the same on every backend
@pytest.mark.parametrize(
    "args, needle",
    [
        (["--dataset=mnist"], "--dataset does not apply to --experiment=sentiment"),
        (["--activation=softplus"], "not a network of Table 2"),
        (["--choices=hidden_layers=1,2"], "rectifier_2"),
    ],
)
def test_bad_sentiment_search_flags_print_one_line_and_exit_2(tmp_path, args, needle):
    reviews = tmp_path / "r.csv"
    reviews.write_text("text,rating\ngood food,5\nawful,1\n")
    run = run_in_process(
        "apps.tune", "--experiment=sentiment", f"--reviews={reviews}", f"--directory={tmp_path}",
        "--tune=hidden_layers", *args,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr[-3000:]
    lines = error_lines(run.stderr)
    assert len(lines) == 1 and needle in lines[0], lines


@pytest.mark.tensorflow_only
def test_review_flags_are_refused_in_an_image_search(tmp_path):
    run = run_in_process("apps.tune", "--reviews=r.csv", "--folds=3", f"--directory={tmp_path}")
    assert run.returncode == 2
    assert error_lines(run.stderr) == [
        "tune.py: error: --reviews, --folds do not apply to --experiment=image"
    ]


@pytest.mark.tensorflow_only
def test_a_killed_search_resumes_where_it_stopped(tiny_mnist, tmp_path):
    project = tmp_path / "search"
    args = [
        f"--dataset={tiny_mnist}",
        f"--directory={tmp_path}",
        "--project_name=search",
        "--tuner=grid",
        "--max_trials=3",
        "--choices=learning_rate=0.1,0.01,0.001",
        *FAST,
    ]
    first = project / "trial_0" / "trial.json"
    # KerasTuner resumes a search when it finds the tuner's state, written just after the trial's.
    state = project / "tuner0.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.tune", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    done = False
    while not done and time.time() < deadline and process.poll() is None:
        try:
            done = read_json(first)["status"] == "COMPLETED" and state.exists()
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert done, "no trial finished before the deadline"
    assert not (project / "trials.json").exists()  # killed before the search ended
    stamp = (project / "trial_0" / "checkpoint.weights.h5").stat().st_mtime_ns

    run = run_app("apps.tune", *args)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Reloading Tuner" in run.stdout
    summary = read_json(project / "trials.json")
    assert summary["completed"] == 3
    rates = sorted(t["hyperparameters"]["learning_rate"] for t in summary["trials"])
    assert rates == [0.001, 0.01, 0.1]  # every grid point once
    assert (project / "trial_0" / "checkpoint.weights.h5").stat().st_mtime_ns == stamp


@pytest.mark.tensorflow_only  # KerasTuner imports tensorboard on the TensorFlow backend only
def test_a_search_whose_trials_all_fail_exits_with_status_1(tiny_mnist, tmp_path):
    # docs/facts.md: without tensorboard all trials fail, yet KerasTuner's search returns normally.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "tensorboard.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'tensorboard'\", name='tensorboard')\n"
    )
    run = run_app(
        "apps.tune",
        f"--dataset={tiny_mnist}",
        f"--directory={tmp_path}",
        "--project_name=search",
        "--max_trials=2",
        *FAST,
        env={"PYTHONPATH": f"{blocked}{os.pathsep}{ROOT}"},
    )
    assert run.returncode == 1, run.stderr[-3000:]
    assert "All 2 trial(s) FAILED; first error (trial 0): ModuleNotFoundError: " in run.stdout
    assert "No module named 'tensorboard'" in run.stdout
    summary = read_json(tmp_path / "search" / "trials.json")
    assert summary["all_failed"] and summary["best"] is None
    assert not (tmp_path / "search" / "best.flags").exists()


@pytest.mark.tensorflow_only
@pytest.mark.parametrize(
    "args, needle",
    [
        (["--choices=momentum=0.9"], "momentum=0.9"),
        (["--stage=pretrain", "--nopretrain"], "needs pretraining; got --nopretrain"),
        (["--hidden_units=32,16"], "--hidden_units=32,16"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(tiny_mnist, tmp_path, args, needle):
    run = run_in_process("apps.tune", f"--dataset={tiny_mnist}", f"--directory={tmp_path}", *args)
    assert run.returncode == 2, run.stderr[-3000:]
    lines = error_lines(run.stderr)
    assert len(lines) == 1 and needle in lines[0], lines


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.tensorflow_only
def test_a_distributed_search_shares_trials_between_workers(tiny_mnist, tmp_path):
    """KerasTuner's chief/worker mode: one chief and two workers on 127.0.0.1."""
    args = [
        f"--dataset={tiny_mnist}",
        f"--directory={tmp_path}",
        "--project_name=search",
        "--max_trials=4",
        "--choices=learning_rate=0.1,0.01,0.001,0.0001",
        *FAST,
    ]
    environment = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(_free_port()),
    }
    processes = {}
    try:
        for tuner_id in ("chief", "tuner0", "tuner1"):
            processes[tuner_id] = subprocess.Popen(
                [sys.executable, "-m", "apps.tune", *args],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**environment, "KERASTUNER_TUNER_ID": tuner_id},
            )
        # The chief returns about 20 s after the last trial (KerasTuner polls every 20 s).
        outputs = {name: p.communicate(timeout=300) for name, p in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    for name, process in processes.items():
        assert process.returncode == 0, (name, outputs[name][1][-3000:])

    summary = read_json(tmp_path / "search" / "trials.json")
    assert summary["role"] == "chief" and summary["completed"] == 4
    ran_by = [t["tuner_id"] for t in summary["trials"]]
    assert set(ran_by) == {"tuner0", "tuner1"}, ran_by  # both workers ran trials
    for worker in ("tuner0", "tuner1"):
        count = ran_by.count(worker)
        assert f"Worker {worker} ran {count} trial(s): {count} completed" in outputs[worker][0]
    best = min(summary["trials"], key=lambda t: t["score"])
    assert summary["best"]["trial_id"] == best["trial_id"]
    assert f"Best trial {best['trial_id']}, run by {best['tuner_id']}" in outputs["chief"][0]
    assert (tmp_path / "search" / "best.flags").exists()


# apps/_tune_flags.py: what apps.tune writes for the apps (no search, no subprocess) ---------


def test_flagfile_for_the_image_app():
    from apps import _tune_flags

    flags = _tune_flags.hyperparameter_flags(
        {"learning_rate": 0.01, "hidden_layers": 3, "hidden_units": 1000, "tuner/epochs": 4}
    )
    assert flags == {"learning_rate": 0.01, "hidden_units": [1000, 1000, 1000]}
    text = _tune_flags.flagfile_text({**flags, "pretrain": False, "data_dir": None}, ["a comment"])
    assert (
        text == "# a comment\n--hidden_units=1000,1000,1000\n--learning_rate=0.01\n--nopretrain\n"
    )


def test_best_flags_of_a_search_say_which_trial_won_and_how_to_run_it(tmp_path):
    from apps import _tune_flags

    best = {"trial_id": "3", "score": 0.125, "hyperparameters": {"learning_rate": 0.1}}
    summary = {
        "trials": [best] * 4,
        "project_dir": "runs/tune/x",
        "objective": {"name": "val_error", "direction": "min"},
        "best": best,
    }
    text = _tune_flags.best_flags("image", base_flags={"epochs": 5, "learning_rate": 1.0})(
        summary, tmp_path / "best.flags"
    )
    assert text.splitlines() == [
        "# Best of 4 trials in runs/tune/x: trial 3, val_error = 0.125.",
        f"# Use: python -m apps.image_experiment --flagfile={tmp_path / 'best.flags'}",
        "--epochs=5",
        "--learning_rate=0.1",  # the trial's, over the base flags
    ]
    with pytest.raises(ValueError, match="`experiment`"):
        _tune_flags.best_flags("speech")


def test_a_directory_that_is_a_file_is_refused_before_any_work(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("")
    run = run_in_process("apps.tune", f"--directory={path}")
    assert run.returncode == 2
    assert error_lines(run.stderr) == [
        f"tune.py: error: --directory={path} is a file, not a folder"
    ]
    assert run.seconds < 5
