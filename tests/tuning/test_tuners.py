"""Resumable tuners, make_tuner, run_search and search_role (keras_sparse_rect.tuning)."""

import os

import keras
import keras_tuner
import numpy as np
import pytest

from apps import _tune_flags
from keras_sparse_rect import tuning
from tests.tuning.helpers import FailsAt, search, small_model


def test_small_search_returns_a_best_model_that_predicts(digits, tmp_path):
    hypermodel = small_model(
        "joint",
        search_space={
            "learning_rate": [0.1, 0.01],
            "pretrain_learning_rate": [0.001],
            "noise": [0.25],
            "l1": [0.001],
            "activation": ["rectifier"],
            "hidden_layers": [1],
            "hidden_units": [16],
        },
    )
    tuner = tuning.make_tuner("random", hypermodel, max_trials=2, directory=tmp_path)
    summary = search(tuner, digits, tensorboard_dir=tmp_path / "logs")

    assert (summary["completed"], summary["failed"], summary["all_failed"]) == (2, 0, False)
    scores = [t["score"] for t in summary["trials"]]
    assert summary["best"]["score"] == min(scores)
    assert summary["objective"] == {"name": "val_error", "direction": "min"}
    trial = summary["trials"][0]
    assert trial["metrics"]["val_error"] == pytest.approx(1 - trial["metrics"]["val_accuracy"])
    assert "pretrain/layer_1/reconstruction" in trial["metrics"]  # pretrained in each trial

    model = tuner.get_best_models()[0]
    probabilities = model.predict(digits["x_val"], verbose=0)
    assert probabilities.shape == (100, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # The model is the checkpoint of the best trial's scored epoch.
    error = np.mean(probabilities.argmax(axis=1) != digits["y_val"])
    assert error == pytest.approx(summary["best"]["score"], abs=1e-6)

    files = tuning.write_search_results(
        summary, best_flags=_tune_flags.best_flags("image", base_flags={"dataset": "mnist_subset"})
    )
    best = summary["best"]["hyperparameters"]
    text = open(files["best_flags"]).read()
    assert f"--learning_rate={best['learning_rate']}\n" in text
    assert "--hidden_units=16\n--l1=0.001\n" in text and "--dataset=mnist_subset" in text
    assert "| **" + summary["best"]["trial_id"] + "** |" in open(files["trials_md"]).read()
    if keras.backend.backend() == "tensorflow":  # KerasTuner's HParams logs, one folder per trial
        assert {p.name for p in (tmp_path / "logs").iterdir()} == {"0", "1"}


def test_a_stopped_search_resumes_where_it_stopped(digits, tmp_path):
    hypermodel = small_model(search_space={"learning_rate": [0.1, 0.01, 0.001], "noise": [0.25]})
    first = tuning.make_tuner("grid", hypermodel, max_trials=1, directory=tmp_path)
    search(first, digits)
    checkpoint = tmp_path / "deep_sparse" / "trial_0" / "checkpoint.weights.h5"
    stamp = checkpoint.stat().st_mtime_ns

    again = tuning.make_tuner("grid", hypermodel, max_trials=2, directory=tmp_path)
    summary = search(again, digits)
    assert [t["trial_id"] for t in again.trials_run] == ["1"]  # only the new trial ran
    assert [t["trial_id"] for t in summary["trials"]] == ["0", "1"]
    # The grid goes on with the next combination (keras-team/keras-tuner#1055 is worked around).
    assert [t["hyperparameters"]["learning_rate"] for t in summary["trials"]] == [0.1, 0.01]
    assert summary["completed"] == 2
    assert checkpoint.stat().st_mtime_ns == stamp


def test_a_trial_left_running_by_a_kill_between_two_writes_runs_again(digits, tmp_path):
    """KerasTuner writes a new trial's trial.json, then oracle.json: a kill in between."""
    hypermodel = small_model(search_space={"learning_rate": [0.1, 0.01, 0.001], "noise": [0.25]})
    first = tuning.make_tuner("grid", hypermodel, max_trials=1, directory=tmp_path)
    search(first, digits)
    hp = first.oracle.get_space()
    hp.values = {**first.oracle.trials["0"].hyperparameters.values, "learning_rate": 0.01}
    orphan = keras_tuner.engine.trial.Trial(hp, trial_id="1", status="RUNNING")
    (tmp_path / "deep_sparse" / "trial_1").mkdir()
    orphan.save(str(tmp_path / "deep_sparse" / "trial_1" / "trial.json"))

    again = tuning.make_tuner("grid", hypermodel, max_trials=3, directory=tmp_path)
    summary = search(again, digits)
    assert [t["trial_id"] for t in again.trials_run] == ["1", "2"]
    assert [t["status"] for t in summary["trials"]] == ["COMPLETED"] * 3
    assert [t["hyperparameters"]["learning_rate"] for t in summary["trials"]] == [0.1, 0.01, 0.001]


def test_failing_trials_are_counted_and_the_first_error_shown(digits, tmp_path):
    space = {"learning_rate": [0.1, 0.01], "noise": [0.25]}
    tuner = tuning.make_tuner(
        "grid", FailsAt({0.1}, search_space=space), max_trials=2, directory=tmp_path
    )
    summary = search(tuner, digits)
    assert (summary["completed"], summary["failed"], summary["all_failed"]) == (1, 1, False)
    assert summary["first_error"] == {
        "trial_id": "0",
        "error": "RuntimeError: boom at learning_rate=0.1",
    }
    assert "Traceback" in summary["trials"][0]["message"]
    assert summary["best"]["hyperparameters"]["learning_rate"] == 0.01
    text = tuning.summary_text(summary)
    assert "1 of 2 trial(s) FAILED; first error (trial 0): RuntimeError: boom" in text
    files = tuning.write_search_results(summary)
    assert "RuntimeError: boom at learning_rate=0.1" in open(files["trials_md"]).read()


def test_a_search_whose_trials_all_fail_says_so(digits, tmp_path):
    space = {"learning_rate": [0.1, 0.01, 0.001, 0.0001], "noise": [0.25]}
    hypermodel = FailsAt(set(tuning.LEARNING_RATES), search_space=space)
    tuner = tuning.make_tuner("grid", hypermodel, max_trials=4, directory=tmp_path)
    summary = search(tuner, digits)  # KerasTuner stops after 3 failures in a row; no exception
    assert summary["failed"] == tuning.MAX_CONSECUTIVE_FAILURES == len(summary["trials"])
    assert summary["all_failed"] and summary["best"] is None
    assert "consecutive failures" in summary["stopped_early"]
    assert "All 3 trial(s) FAILED" in tuning.summary_text(summary)
    files = tuning.write_search_results(summary)
    assert files["best_flags"] is None and os.path.exists(files["trials_json"])


@pytest.mark.slow
def test_hyperband_continues_trials_without_pretraining_them_again(digits, tmp_path):
    space = {"learning_rate": [0.1, 0.01, 0.001], "noise": [0.0, 0.25]}
    hypermodel = small_model(search_space=space)
    tuner = tuning.make_tuner(
        "hyperband", hypermodel, max_trials=4, max_epochs=3, directory=tmp_path
    )
    summary = tuning.run_search(
        tuner,
        digits["x_train"],
        digits["y_train"],
        validation_data=(digits["x_val"], digits["y_val"]),
        verbose=0,
    )
    assert summary["completed"] == len(summary["trials"]) >= 2
    continued = [t for t in summary["trials"] if "tuner/trial_id" in t["hyperparameters"]]
    assert continued and all("pretrain/reconstruction" not in t["metrics"] for t in continued)
    assert "tuner/epochs" not in _tune_flags.hyperparameter_flags(continued[0]["hyperparameters"])


def test_bad_tuner_arguments_name_the_argument(tmp_path):
    hypermodel = small_model()
    for kwargs, needle in [
        ({"name": "annealing"}, "name='annealing'"),
        ({"name": "random", "max_trials": 0}, "max_trials=0"),
        ({"name": "hyperband"}, "max_epochs=None"),
        ({"name": "grid", "max_trials": 1.5}, "max_trials=1.5"),
    ]:
        with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
            tuning.make_tuner(hypermodel=hypermodel, directory=tmp_path, **kwargs)
    with pytest.raises(ValueError, match="name='hyperband'"):
        tuning.make_tuner("hyperband", small_model("pretrain"), max_epochs=2, directory=tmp_path)
    with pytest.raises(ValueError, match="`hypermodel` must be"):
        tuning.make_tuner("random", object(), directory=tmp_path)


def test_each_tuner_records_who_ran_its_trials(tmp_path):
    for name, cls in tuning.TUNERS.items():
        tuner = tuning.make_tuner(
            name, small_model(), max_epochs=2, directory=tmp_path, project_name=name
        )
        assert isinstance(tuner, cls) and tuner.trials_run == []
    hyperband = tuning.make_tuner(
        "hyperband", small_model(), max_trials=5, max_epochs=2, directory=tmp_path
    )
    assert hyperband.oracle.max_trials == 5


def test_search_role_from_kerastuner_variables(monkeypatch):
    for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        monkeypatch.delenv(name, raising=False)
    assert tuning.search_role() == "single"
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_PORT"):
        tuning.search_role()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert tuning.search_role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner1")
    assert tuning.search_role() == "worker"
