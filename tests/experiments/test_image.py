"""The image experiment's reporting of collapsed pretraining and of the paper's selection."""

import dataclasses
import errno
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_sparse_rect.data import load_image_dataset
from keras_sparse_rect.experiments.image import (
    ImageExperimentConfig,
    run_image_experiment,
    summary,
)
from keras_sparse_rect.experiments.run_folder import NoSpaceLeftError, RunLockedError


def tiny(tiny_mnist, tmp_path, **fields):
    base = dict(
        dataset=tiny_mnist,
        hidden_units=(16, 16),
        batch_size=50,
        epochs=1,
        pretrain_epochs=1,
        model_dir=str(tmp_path),
    )
    return ImageExperimentConfig(**{**base, **fields})


@pytest.mark.tensorflow_only
def test_a_collapsed_pretraining_is_in_the_result_and_the_summary(tiny_mnist, tmp_path):
    # An L1 penalty of 5 drives the pretrained layers' units to zero on every digit.
    config = tiny(tiny_mnist, tmp_path, l1=5.0, pretrain_learning_rate=0.05)
    data = load_image_dataset(tiny_mnist)
    with pytest.warns(UserWarning, match="collapsed"):
        result = run_image_experiment(config, data=data, verbose=0)
    assert result["status"] == "collapsed" and result["collapsed"]
    assert "hidden_1" in result["pretraining"]["collapsed_layers"]
    assert result["pretraining"]["dead_fraction_per_layer"]["hidden_1"] > 0.5
    assert "WARNING: pretraining collapsed hidden_1" in summary(result)
    written = json.loads((tmp_path / "result.json").read_text())
    assert written["status"] == "collapsed"
    assert "pretrain/layer_1/dead_fraction" in written["history"]


@pytest.mark.tensorflow_only
def test_protocol_paper_selects_rates_and_keeps_them_for_a_resumed_run(tiny_mnist, tmp_path):
    config = tiny(tiny_mnist, tmp_path, protocol="paper", selection_epochs=1, epochs=4, patience=1)
    data = load_image_dataset(tiny_mnist)
    result = run_image_experiment(config, data=data, verbose=0)
    selection = result["selection"]
    assert selection["learning_rate"] in (0.1, 0.01, 0.001, 0.0001)
    # Successive halving: 4 candidates 1 epoch, the better 2 two more, the winner kept.
    rounds = selection["validation_error_per_round"]
    assert sorted(len(v) for v in rounds.values()) == [1, 1, 2, 2]
    finalists = [rate for rate, errors in rounds.items() if len(errors) == 2]
    winner = f"{selection['learning_rate']:g}"
    assert winner in finalists
    assert rounds[winner][-1] == min(rounds[r][-1] for r in finalists)
    first_round = sorted(rounds, key=lambda r: rounds[r][0])
    assert set(finalists) == set(first_round[:2]) or len(set(v[0] for v in rounds.values())) < 4
    assert selection["trained_epochs"] == 3
    assert selection["best_epoch"] >= 1
    rates = result["pretraining"]["learning_rate_per_layer"]
    assert len(rates) == 2 and all(r in (0.1, 0.01, 0.001, 0.0001) for r in rates)
    saved = json.loads((tmp_path / "selection.json").read_text())
    assert saved["learning_rate"] == selection["learning_rate"]


def test_protocol_is_validated():
    with pytest.raises(ValueError, match="protocol"):
        ImageExperimentConfig(protocol="mine").validate()


# Run folders and faults (issue 33) --------------------------------------------------------


def errors_and_losses(result):
    return result["test_error"], [round(v, 5) for v in result["history"]["loss"]]


@pytest.mark.tensorflow_only
def test_a_backup_without_its_weights_is_never_trusted(tiny_mnist, tmp_path):
    """A kill while ``backup/`` was deleted left its epoch count without the weights:
    ``--epochs=3`` after the finished 2-epoch run must not train epoch 3 alone."""
    data = load_image_dataset(tiny_mnist)
    config = tiny(tiny_mnist, tmp_path / "run", pretrain=False, epochs=2)
    run_image_experiment(config, data=data, verbose=0)
    backup = tmp_path / "run" / "backup"
    backup.mkdir()
    (backup / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    old_progress = {"epochs": [{"loss": 2.0}, {"loss": 1.0}], "seconds": 1.0, "processes": 1}
    (tmp_path / "run" / "progress.json").write_text(json.dumps(old_progress))
    more = dataclasses.replace(config, epochs=3)
    with pytest.warns(UserWarning, match="without its weights"):
        resumed = run_image_experiment(more, data=data, verbose=0)
    fresh = run_image_experiment(
        dataclasses.replace(more, model_dir=str(tmp_path / "fresh")), data=data, verbose=0
    )
    assert len(resumed["history"]["loss"]) == 3
    assert errors_and_losses(resumed) == errors_and_losses(fresh)
    assert json.loads((tmp_path / "run" / "result.json").read_text())["config"]["epochs"] == 3


@pytest.mark.tensorflow_only
def test_a_run_that_fails_before_its_first_epoch_leaves_nothing(tiny_mnist, tmp_path):
    from keras_sparse_rect.callbacks import PretrainingCollapseError

    data = load_image_dataset(tiny_mnist)
    model_dir = tmp_path / "runs" / "run"
    diverging = tiny(tiny_mnist, model_dir, pretrain_learning_rate=1e30)
    with pytest.raises(PretrainingCollapseError):
        run_image_experiment(diverging, data=data, verbose=0)
    assert not (tmp_path / "runs").exists()  # no folder, no TensorBoard files, no claim
    corrected = tiny(tiny_mnist, model_dir, pretrain=False)  # not "another configuration"
    assert run_image_experiment(corrected, data=data, verbose=0)["status"] == "ok"


def test_a_second_process_on_the_model_dir_is_refused_at_once(tmp_path):
    model_dir = tmp_path / "run"
    model_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (model_dir / "run.lock").write_text(json.dumps({"pid": holder.pid}))
        config = ImageExperimentConfig(dataset="npz:/no/such/file.npz", model_dir=str(model_dir))
        started = time.perf_counter()
        with pytest.raises(RunLockedError) as caught:
            run_image_experiment(config, verbose=0)  # refused before the data is read
        assert time.perf_counter() - started < 1.0
        assert caught.value.pid == holder.pid and caught.value.model_dir == str(model_dir)
        assert str(holder.pid) in str(caught.value) and str(model_dir) in str(caught.value)
    finally:
        holder.kill()
        holder.wait()
    assert sorted(os.listdir(model_dir)) == ["run.lock"]


@pytest.mark.tensorflow_only
def test_a_full_disk_stops_in_one_error_and_the_same_command_resumes(
    tiny_mnist, tmp_path, monkeypatch
):
    from keras_sparse_rect.experiments.run_callbacks import RunBackup

    data = load_image_dataset(tiny_mnist)
    config = tiny(tiny_mnist, tmp_path / "run", pretrain=False, epochs=3)
    save = RunBackup._save_model

    def full_at_the_second_epoch(self):
        if self._current_epoch == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(self)

    monkeypatch.setattr(RunBackup, "_save_model", full_at_the_second_epoch)
    with pytest.raises(NoSpaceLeftError, match="start the same command again") as caught:
        run_image_experiment(config, data=data, verbose=0)
    assert caught.value.model_dir == str(tmp_path / "run")
    backup = json.loads((tmp_path / "run" / "backup" / "training_metadata.json").read_text())
    assert backup["epoch"] == 1  # the last complete state
    monkeypatch.undo()  # space is back
    result = run_image_experiment(config, data=data, verbose=0)
    assert len(result["history"]["loss"]) == 3 and result["timings_s"]["processes"] == 2
    assert not (tmp_path / "run" / "backup").exists()


def test_the_backup_is_written_whole_and_restored_only_with_its_weights(tmp_path, monkeypatch):
    import keras

    from keras_sparse_rect import results
    from keras_sparse_rect.experiments.run_callbacks import RunBackup

    def model():
        net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        net.compile(optimizer="sgd", loss="mse")
        return net

    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    first = model()
    write = results.write_json_atomic

    def killed_before_the_second_epochs_count(path, data):
        if data.get("epoch") == 2:
            raise KeyboardInterrupt  # killed between the weights and the epoch count
        return write(path, data)

    monkeypatch.setattr(results, "write_json_atomic", killed_before_the_second_epochs_count)
    with pytest.raises(KeyboardInterrupt):
        first.fit(x, y, epochs=3, callbacks=[RunBackup(str(tmp_path))], verbose=0)
    monkeypatch.undo()
    assert json.loads((tmp_path / "training_metadata.json").read_text())["epoch"] == 1
    second = model()
    epochs = []
    second.fit(
        x, y, epochs=3, verbose=0,
        callbacks=[RunBackup(str(tmp_path)), keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: epochs.append(epoch))],
    )  # fmt: skip
    assert epochs == [1, 2]  # resumed after the last epoch whose count was written
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch_3.weights.h5",
        "training_metadata.json",
    ]
