"""The checks of KerasTuner's private internals (keras_sparse_rect.tuning._compat)."""

import os

import keras_tuner
import pytest
from keras_tuner.src import utils as kerastuner_utils

from keras_sparse_rect.tuning import _compat
from tests.tuning.helpers import search, small_model


def test_every_check_passes_on_the_installed_kerastuner():
    assert [check() for check, _ in _compat.CHECKS] == [[] for _ in _compat.CHECKS]
    assert _compat.problems() == []
    _compat.check()


def test_a_missing_save_json_fails_with_a_clear_message(monkeypatch):
    monkeypatch.delattr(kerastuner_utils, "save_json")
    assert _compat.check_save_json() == [
        "keras_tuner.src.utils.save_json (oracle.json's and trial.json's writer) is gone"
    ]
    with pytest.raises(_compat.KerasTunerInternalsError) as error:
        _compat.check()
    message = str(error.value)
    assert "(so make_tuner and run_search cannot make KerasTuner's state files atomic" in message
    assert f"checked against keras_tuner {_compat.CHECKED_VERSION}" in message
    assert f"the installed keras_tuner {keras_tuner.__version__} differs" in message
    assert "save_json" in message and "keras_sparse_rect/tuning/_compat.py" in message


def test_a_save_json_the_engine_no_longer_calls_is_reported(monkeypatch):
    from keras_tuner.src.engine import stateful

    monkeypatch.setattr(stateful, "utils", object())
    assert _compat.check_save_json() == [
        "keras_tuner.src.engine.stateful no longer calls save_json through keras_tuner.src.utils"
    ]
    monkeypatch.setattr(kerastuner_utils, "save_json", lambda file, data: None)
    assert "no longer takes (path, obj)" in _compat.check_save_json()[0]


@pytest.mark.parametrize(
    "name, needle",
    [("_compare", "GridSearchOracle._compare"), ("set_state", "GridSearchOracle.set_state")],
)
def test_grid_oracle_methods_that_moved_are_reported(monkeypatch, name, needle):
    monkeypatch.setattr(keras_tuner.oracles.GridSearchOracle, name, None)
    assert any(needle in problem for problem in _compat.check_grid_oracle())


def test_grid_oracle_state_that_moved_is_reported(monkeypatch):
    original = keras_tuner.oracles.GridSearchOracle.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        del self._ordered_ids
        self._populate_next = ()

    monkeypatch.setattr(keras_tuner.oracles.GridSearchOracle, "__init__", init)
    problems = _compat.check_grid_oracle()
    assert any("_ordered_ids" in p for p in problems)
    assert any("_populate_next" in p for p in problems)


def test_a_consecutive_failure_error_with_other_words_is_reported(monkeypatch):
    def raises(self):
        raise RuntimeError("Too many failed trials.")

    monkeypatch.setattr(keras_tuner.engine.oracle.Oracle, "_check_consecutive_failures", raises)
    assert _compat.check_consecutive_failures() == [
        "the consecutive-failure error no longer says 'consecutive failures': "
        "'Too many failed trials.'"
    ]
    monkeypatch.setattr(
        keras_tuner.engine.oracle.Oracle, "_check_consecutive_failures", lambda self: None
    )
    assert "no longer raises" in _compat.check_consecutive_failures()[0]


def test_kerastuner_errors_are_recognised():
    error = _compat._consecutive_failures_error()
    assert _compat.is_consecutive_failures_error(error)
    assert not _compat.is_consecutive_failures_error(ValueError(str(error)))
    message = "Traceback (most recent call last):\n  ...\n" + (
        "keras_tuner.src.errors.FailedTrialError: pretraining diverged\n"
    )
    assert _compat.exception_line(message) == "pretraining diverged"
    assert _compat.exception_line("...\nRuntimeError: boom\n") == "RuntimeError: boom"
    assert _compat.exception_line("") is None


def test_undocumented_hyperband_names_are_reported(monkeypatch):
    monkeypatch.setattr(keras_tuner.oracles.HyperbandOracle, "__doc__", "Hyperband.")
    assert _compat.check_hyperband() == [
        "HyperbandOracle no longer documents the hyper-parameters "
        "['tuner/trial_id', 'tuner/initial_epoch', 'tuner/epochs']"
    ]
    assert _compat.is_reserved("tuner/epochs") and not _compat.is_reserved("learning_rate")


def test_kerastuner_state_is_written_atomically(digits, tmp_path, monkeypatch):
    """A search killed mid-write must not leave a truncated oracle.json or trial.json."""
    from keras_sparse_rect import results, tuning

    written = []
    write = results.write_text_atomic
    monkeypatch.setattr(results, "write_text_atomic", lambda p, t: written.append(p) or write(p, t))

    original = kerastuner_utils.save_json
    hypermodel = small_model(  # the default compilation, XLA, in one search of the suite
        search_space={"learning_rate": [0.1], "noise": [0.25]}, jit_compile="auto"
    )
    search(tuning.make_tuner("grid", hypermodel, max_trials=1, directory=tmp_path), digits)
    names = {os.path.relpath(p, tmp_path / "deep_sparse") for p in written}
    assert {"oracle.json", os.path.join("trial_0", "trial.json")} <= names
    assert kerastuner_utils.save_json is original  # restored after the search
    assert not list((tmp_path / "deep_sparse").rglob(".*"))  # no temporary file left


def test_atomic_state_files_restores_kerastuner_writer_on_error(tmp_path):
    original = kerastuner_utils.save_json
    with pytest.raises(KeyError), _compat.atomic_state_files():
        assert kerastuner_utils.save_json is not original
        assert kerastuner_utils.save_json(tmp_path / "a.json", {"x": 1}) == '{"x": 1}'
        raise KeyError("stop")
    assert kerastuner_utils.save_json is original
    assert (tmp_path / "a.json").read_text() == '{"x": 1}'


def test_restore_grid_walk_orders_the_reloaded_trials():
    hp = keras_tuner.HyperParameters()
    hp.Choice("learning_rate", [0.1, 0.01, 0.001])
    oracle = keras_tuner.oracles.GridSearchOracle(
        objective=keras_tuner.Objective("score", "min"), max_trials=3, hyperparameters=hp
    )
    for trial_id, rate in (("a", 0.01), ("b", 0.1)):
        values = hp.copy()
        values.values["learning_rate"] = rate
        oracle.trials[trial_id] = keras_tuner.engine.trial.Trial(values, trial_id=trial_id)
    _compat.restore_grid_walk(oracle)
    assert oracle._populate_next == ["b", "a"]  # grid order: 0.1, then 0.01
    assert oracle._ordered_ids.next("b") == "a" and oracle._ordered_ids.next("a") is None


def test_a_missing_retry_queue_is_reported(monkeypatch):
    original = keras_tuner.engine.oracle.Oracle.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        del self._retry_queue

    monkeypatch.setattr(keras_tuner.engine.oracle.Oracle, "__init__", init)
    assert _compat.check_retry_queue() == ["Oracle._retry_queue (the trials to run again) is gone"]


def test_orphaned_running_trials_are_queued_in_trial_order():
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("score", "min"), max_trials=5
    )
    for trial_id, status in (
        ("0", "COMPLETED"),
        ("1", "RUNNING"),
        ("2", "RUNNING"),
        ("3", "RUNNING"),
    ):
        trial = keras_tuner.engine.trial.Trial(
            keras_tuner.HyperParameters(), trial_id=trial_id, status=status
        )
        oracle.trials[trial_id] = trial
    oracle._retry_queue.append("3")  # known to the reloaded oracle: queued once only
    assert _compat.retry_orphaned_trials(oracle) == ["1", "2"]
    assert oracle._retry_queue == ["3", "2", "1"]  # popped from the end: 1, then 2
    assert _compat.retry_orphaned_trials(oracle) == []
