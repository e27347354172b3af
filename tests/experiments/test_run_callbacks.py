"""RunBackup with early stopping: a resumed run stops where it would have, with the best weights."""

import json

import keras
import numpy as np
import pytest

from keras_sparse_rect.experiments.run_callbacks import RunBackup

# The monitored value of each epoch: best at epoch 1, then patience 2 runs out at epoch 3.
SCORES = [0.1, 0.5, 0.3, 0.4, 0.2, 0.1]


class Scripted(keras.callbacks.Callback):
    """Writes ``SCORES[epoch]`` into the epoch's logs and keeps every epoch's weights."""

    def __init__(self, kill_at=None):
        super().__init__()
        self.kill_at, self.weights = kill_at, {}

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.kill_at:
            raise KeyboardInterrupt  # killed after the previous epoch's backup

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = SCORES[epoch]
        self.weights[epoch] = [np.array(w) for w in self.model.get_weights()]


def _model():
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    net.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return net


def _stopping():
    return keras.callbacks.EarlyStopping(
        monitor="score", mode="max", patience=2, restore_best_weights=True
    )


def _fit(model, backup, scripted, epochs=6):
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    seen = []
    callbacks = [
        scripted,  # before the backup: its score is in the logs the early stopping reads
        backup,
        keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch)),
    ]
    model.fit(x, y, epochs=epochs, shuffle=False, callbacks=callbacks, verbose=0)
    return seen


def test_a_resumed_run_stops_where_it_would_have_and_keeps_the_best_weights(tmp_path):
    killed = Scripted(kill_at=3)
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), RunBackup(str(tmp_path), _stopping()), killed)
    metadata = json.loads((tmp_path / "training_metadata.json").read_text())
    assert metadata["epoch"] == 3
    assert metadata["early_stopping"] == {
        "best": 0.5,
        "best_epoch": 1,
        "wait": 1,
        "weights": "best_epoch_1.npz",
    }

    model, stopping = _model(), _stopping()
    seen = _fit(model, RunBackup(str(tmp_path), stopping), Scripted())
    # Epoch 3 (0.4) is the second without improvement: patience 2 stops there, as it would
    # have without the kill; the best weights are epoch 1's, trained by the killed process.
    assert seen == [3] and stopping.best_epoch == 1 and stopping.stopped_epoch == 3
    for restored, best in zip(model.get_weights(), killed.weights[1], strict=True):
        np.testing.assert_array_equal(restored, best)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best_epoch_1.npz",
        "epoch_4.weights.h5",
        "training_metadata.json",
    ]


def test_an_uninterrupted_run_is_unchanged_by_the_backup(tmp_path):
    model, stopping, scripted = _model(), _stopping(), Scripted()
    seen = _fit(model, RunBackup(str(tmp_path), stopping), scripted)
    assert seen == [0, 1, 2, 3] and stopping.best_epoch == 1
    for restored, best in zip(model.get_weights(), scripted.weights[1], strict=True):
        np.testing.assert_array_equal(restored, best)


def test_a_backup_without_its_best_weights_starts_at_the_first_epoch(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), RunBackup(str(tmp_path), _stopping()), Scripted(kill_at=3))
    (tmp_path / "best_epoch_1.npz").unlink()  # a folder copied in part
    with pytest.warns(UserWarning, match="without its best epoch's weights"):
        seen = _fit(_model(), RunBackup(str(tmp_path), _stopping()), Scripted())
    assert seen == [0, 1, 2, 3]


def test_without_restoring_the_best_weights_the_state_alone_resumes(tmp_path):
    def stopping():
        return keras.callbacks.EarlyStopping(monitor="score", mode="max", patience=2)

    killed = Scripted(kill_at=3)
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), RunBackup(str(tmp_path), stopping()), killed)
    model, resumed = _model(), stopping()
    seen = _fit(model, RunBackup(str(tmp_path), resumed), Scripted())
    assert seen == [3] and resumed.stopped_epoch == 3  # patience counted across the kill
    assert not list(tmp_path.glob("*.npz"))  # no best weights kept: the last epoch's stay


def test_early_stopping_must_be_an_early_stopping_callback(tmp_path):
    with pytest.raises(ValueError, match="`early_stopping` must be a keras.callbacks"):
        RunBackup(str(tmp_path), early_stopping="val_accuracy")
