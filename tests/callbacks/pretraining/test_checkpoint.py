"""Resumable pretraining in checkpoint_dir."""

import errno
import json
import os
import re

import numpy as np
import pytest

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining, PretrainingCollapseError
from keras_sparse_rect.callbacks.pretraining import checkpoint
from keras_sparse_rect.models import (
    DenoisingAutoencoder,
    hidden_weights,
)
from tests.callbacks.pretraining.common import digits, small_network


def test_interrupted_pretraining_resumes_from_its_last_finished_layer(tmp_path, monkeypatch):
    x, y = digits()
    calls = []
    fit = DenoisingAutoencoder.fit

    def fit_until_layer_2(self, *args, **kwargs):
        calls.append(self.name)
        if interrupt and self.name == "pretrain_layer_2":
            raise RuntimeError("interrupted during layer 2")
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(DenoisingAutoencoder, "fit", fit_until_layer_2)
    interrupt = True
    first = small_network(units=(16, 16), seed=0)
    pretraining = GreedyLayerwisePretraining(x[:200], epochs=1, checkpoint_dir=tmp_path, seed=0)
    with pytest.raises(RuntimeError, match="interrupted"):
        first.fit(x[:20], y[:20], batch_size=10, verbose=0, callbacks=[pretraining])
    layer_1 = hidden_weights(first)[0]

    interrupt = False
    calls.clear()
    second = small_network(units=(16, 16), seed=1)  # as rebuilt by a new process
    resumed = GreedyLayerwisePretraining(x[:200], epochs=1, checkpoint_dir=tmp_path, seed=0)
    resumed.set_model(second)
    resumed.on_train_begin()
    assert calls == ["pretrain_layer_2"]  # layer 1 is not trained again ...
    for restored, expected in zip(hidden_weights(second)[0], layer_1, strict=True):
        np.testing.assert_array_equal(restored, expected)  # ... but restored exactly
    assert resumed.autoencoders[0] is None and resumed.completed_layers == 2
    assert "pretrain/layer_1/reconstruction" in resumed.history
    assert resumed.learning_rates == {1: 0.001, 2: 0.001}  # layer 1's from the checkpoint
    with pytest.raises(ValueError, match="checkpoint_dir"):
        other = GreedyLayerwisePretraining(x[:200], checkpoint_dir=tmp_path)
        other.set_model(small_network(units=(8, 8)))
        other.on_train_begin()


def test_a_checkpoint_dir_that_is_a_file_is_refused_naming_it(tmp_path):
    """Issue 33: a regular file gave a raw FileExistsError (after a layer had trained)."""
    x, _ = digits()
    regular = tmp_path / "notes.txt"
    regular.write_text("not a folder")
    for path in (regular, regular / "checkpoints"):
        with pytest.raises(ValueError, match=f"`checkpoint_dir`.*{re.escape(repr(str(path)))}"):
            GreedyLayerwisePretraining(x[:50], epochs=1, checkpoint_dir=path)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]  # nothing made


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_checkpoint_dir_under_proc_is_refused_before_any_layer_trains(monkeypatch):
    """Issue 33: a path under /proc gave a raw FileNotFoundError after layer 1 trained."""
    x, _ = digits()
    trained = []
    monkeypatch.setattr(DenoisingAutoencoder, "fit", lambda self, *a, **k: trained.append(1))
    path = "/proc/keras_sparse_rect_checkpoints"
    with pytest.raises(ValueError, match=f"`checkpoint_dir`.*{path}"):
        GreedyLayerwisePretraining(x[:50], epochs=1, checkpoint_dir=path).pretrain(
            small_network(units=(8,))
        )
    assert trained == [] and not os.path.exists(path)


@pytest.mark.parametrize("failing_write", ["weights", "state"])
def test_a_full_disk_keeps_the_last_complete_checkpoint_and_resumes_from_it(
    tmp_path, monkeypatch, failing_write
):
    """Issue 33: ENOSPC while saving layer 2 raises one clear error; layer 1's checkpoint
    stays complete (no temporary or half-written file) and a rerun resumes from it."""
    x, _ = digits()
    module, name = (np, "savez") if failing_write == "weights" else (checkpoint.json, "dump")
    real, saves = getattr(module, name), []

    def write_on_a_disk_that_fills_after_layer_1(*args, **kwargs):
        saves.append(1)
        if len(saves) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, write_on_a_disk_that_fills_after_layer_1)
    first = small_network(units=(8, 8), seed=0)
    pretraining = GreedyLayerwisePretraining(x[:100], epochs=1, checkpoint_dir=tmp_path, seed=0)
    kept = r"hidden layer 2 to checkpoint_dir=.*No space left.*hidden layers 1-1 is kept"
    with pytest.raises(OSError, match=kept) as raised:
        pretraining.pretrain(first)
    assert raised.value.errno == errno.ENOSPC
    assert sorted(os.listdir(tmp_path)) == ["layer_1.npz", "state.json"]
    with open(tmp_path / "state.json") as f:
        assert json.load(f)["completed_layers"] == 1
    layer_1 = hidden_weights(first)[0]

    monkeypatch.undo()
    calls = []
    fit = DenoisingAutoencoder.fit

    def counted_fit(self, *args, **kwargs):
        calls.append(self.name)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(DenoisingAutoencoder, "fit", counted_fit)
    second = small_network(units=(8, 8), seed=1)
    GreedyLayerwisePretraining(x[:100], epochs=1, checkpoint_dir=tmp_path, seed=0).pretrain(second)
    assert calls == ["pretrain_layer_2"]
    for restored, expected in zip(hidden_weights(second)[0], layer_1, strict=True):
        np.testing.assert_array_equal(restored, expected)


def test_a_failed_pretraining_removes_the_empty_folders_it_made(tmp_path):
    """Issue 33: a diverged pretraining left its (empty) checkpoint and log folders."""
    x, _ = digits()
    pretraining = GreedyLayerwisePretraining(
        x[:100],
        epochs=1,
        learning_rate=1e30,
        checkpoint_dir=tmp_path / "run" / "checkpoints",
        log_dir=tmp_path / "logs",
        seed=0,
    )
    with pytest.raises(PretrainingCollapseError):
        pretraining.pretrain(small_network(units=(8, 8)))
    assert os.listdir(tmp_path) == []
