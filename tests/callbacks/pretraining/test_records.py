"""History entries and TensorBoard scalars of pretraining."""

import glob
import os

import pytest

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining, PretrainingCollapseError
from keras_sparse_rect.callbacks.history import layer_values, parse_pretraining_key, pretraining_key
from keras_sparse_rect.callbacks.pretraining.records import TensorBoardWriter, layer_logs
from tests.callbacks.pretraining.common import digits, small_network


def test_reconstruction_errors_reach_tensorboard(tmp_path):
    import tensorflow as tf

    x, y = digits()
    model = small_network(units=(16, 16))
    pretraining = GreedyLayerwisePretraining(x[:200], epochs=2, log_dir=tmp_path)
    model.fit(x[:20], y[:20], batch_size=10, epochs=1, verbose=0, callbacks=[pretraining])
    tags = {}
    for path in glob.glob(str(tmp_path / "pretrain" / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    for layer in (1, 2):
        assert sorted(tags[f"pretrain/layer_{layer}/reconstruction"]) == [0, 1]
        assert sorted(tags[f"pretrain/layer_{layer}/loss"]) == [0, 1]


def test_a_failed_pretraining_leaves_no_tensorboard_files(tmp_path):
    """Issue 33: layer 1's event files stayed after layer 2 diverged."""
    x, _ = digits()
    log_dir = tmp_path / "logs"
    pretraining = GreedyLayerwisePretraining(
        x[:100], epochs=1, learning_rate=[0.001, 1e30], log_dir=log_dir, seed=0
    )
    written = []
    write = TensorBoardWriter.write

    def spy(self, logs):
        write(self, logs)
        written.extend(self.written)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TensorBoardWriter, "write", spy)
        with pytest.raises(PretrainingCollapseError, match="hidden layer 2"):
            pretraining.pretrain(small_network(units=(8, 8)))
    assert written  # layer 1's scalars were written ...
    assert not log_dir.exists()  # ... and removed with the folders made for them
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "other.txt").write_text("kept")
    again = GreedyLayerwisePretraining(
        x[:100], epochs=1, learning_rate=[0.001, 1e30], log_dir=existing, seed=0
    )
    with pytest.raises(PretrainingCollapseError):
        again.pretrain(small_network(units=(8, 8)))
    assert sorted(os.listdir(existing)) == ["other.txt"]


def test_each_layers_entries_and_rate_are_recorded_under_the_one_key_format():
    x, _ = digits()
    pretraining = GreedyLayerwisePretraining(x[:100], epochs=2, learning_rate=[0.01, 0.001], seed=0)
    history = pretraining.pretrain(small_network(units=(8, 8)))
    assert pretraining.learning_rates == {1: 0.01, 2: 0.001}
    assert layer_values(history, "learning_rate", 2) == [0.01, 0.001]
    for key in history:
        layer, name = parse_pretraining_key(key)
        assert key == pretraining_key(layer, name)
    assert {parse_pretraining_key(k)[1] for k in history} == {
        "reconstruction", "loss", "dead_fraction", "learning_rate"
    }  # fmt: skip
    assert len(history["pretrain/layer_2/reconstruction"]) == 2


def test_layer_logs_name_selection_and_rejected_rates():
    logs = layer_logs(
        1, {"reconstruction": [2.0], "loss": [2.5]}, 0.3, 0.01, {0.1: 4.0, 0.01: 2.0}, {0.1: 0.6}
    )
    assert logs["pretrain/layer_1/selection/0.1"] == [4.0]
    assert logs["pretrain/layer_1/rejected/0.1"] == [0.6]
    assert logs["pretrain/layer_1/dead_fraction"] == [0.3]
