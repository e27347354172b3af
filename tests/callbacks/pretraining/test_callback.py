"""The callback end to end: pretrain, then fine-tune (sections 3.2 and 4.1)."""

import dataclasses
import json
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining, SparsityMonitor
from keras_sparse_rect.models import (
    build_deep_network,
    compile_for_paper,
    hidden_weights,
)
from tests.callbacks.pretraining.common import WeightsAtFirstEpoch, digits, small_network
from tests.helpers import save_and_reload, to_numpy

# The paper's rectifier network, pretrained then fine-tuned (shared by several tests) --------


@pytest.fixture(scope="module")
def rectifier_run():
    """3 x 256 sign-flipped rectifiers, L1 = 0.001: pretrained on 4,000 unlabeled digits
    (3 epochs per layer), fine-tuned on 2,000 labeled ones (10 epochs), tested on 1,000."""
    keras.utils.set_random_seed(0)
    x, y = digits()
    model = build_deep_network((784,), 10, hidden_units=(256, 256, 256), l1=1e-3, seed=0)
    compile_for_paper(model, learning_rate=0.05)
    pretraining = GreedyLayerwisePretraining(
        x[:4000], epochs=3, learning_rate=[0.01, 0.001, 0.001], noise=0.25, seed=0
    )
    start = WeightsAtFirstEpoch()
    history = model.fit(
        x[:2000], y[:2000], batch_size=10, epochs=10, verbose=0, callbacks=[pretraining, start]
    )
    return model, pretraining, start, history


@pytest.mark.slow
def test_pretraining_lowers_each_layers_reconstruction_error(rectifier_run):
    _, pretraining, _, history = rectifier_run
    for layer in (1, 2, 3):
        curve = history.history[f"pretrain/layer_{layer}/reconstruction"]
        assert len(curve) == 3
        assert curve == pretraining.history[f"pretrain/layer_{layer}/reconstruction"]
        assert curve[-1] < 0.8 * curve[0]  # measured: 0.45 - 0.55 on both backends
        loss = history.history[f"pretrain/layer_{layer}/loss"]
        assert all(total >= rec for total, rec in zip(loss, curve, strict=True))  # + L1
    assert len(history.history["loss"]) == 10


def test_fine_tuning_starts_from_exactly_the_pretrained_encoders(rectifier_run):
    _, pretraining, start, _ = rectifier_run
    assert len(pretraining.autoencoders) == 3
    for dae, (kernel, bias, signs) in zip(pretraining.autoencoders, start.weights, strict=True):
        dae_kernel, dae_bias = dae.encoder_weights()
        np.testing.assert_array_equal(kernel, dae_kernel)
        np.testing.assert_array_equal(kernel, to_numpy(dae.encoder.kernel))
        np.testing.assert_array_equal(bias, dae_bias)
        np.testing.assert_array_equal(signs, to_numpy(dae.encoder_activation.signs))
    # The autoencoder of layer k + 1 saw layer k's sign pattern, as in Glorot's code.
    np.testing.assert_array_equal(pretraining.autoencoders[1].input_signs, start.weights[0][2])


def test_pretrained_rectifier_network_is_accurate_and_sparse(rectifier_run):
    model, _, _, _ = rectifier_run
    x, y = digits()
    accuracy = model.evaluate(x[4000:], y[4000:], verbose=0, return_dict=True)["accuracy"]
    monitor = SparsityMonitor(x[4000:])
    monitor.set_model(model)
    sparsity = monitor.compute()
    # Measured: test error 7.2 % (JAX), 8.3 % (TensorFlow), sparsity 0.78 (the paper, with
    # 50,000 labeled digits and 3 x 1000 units: 1.2 % and 83 %).
    assert 1.0 - accuracy < 0.10
    assert sparsity["sparsity"] > 0.5
    for layer in (1, 2, 3):
        assert sparsity[f"sparsity/hidden_{layer}"] > 0.5


def test_fine_tuned_model_saves_and_loads(rectifier_run, tmp_path):
    model, _, _, _ = rectifier_run
    x, _ = digits()
    restored = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(to_numpy(restored(x[:50])), to_numpy(model(x[:50])), atol=1e-6)


def test_later_fits_do_not_pretrain_again(rectifier_run):
    model, pretraining, _, _ = rectifier_run
    x, y = digits()
    autoencoders = list(pretraining.autoencoders)
    history = model.fit(x[:20], y[:20], batch_size=10, epochs=1, verbose=0, callbacks=[pretraining])
    assert pretraining.autoencoders == autoencoders
    assert not any(key.startswith("pretrain/") for key in history.history)
    before = hidden_weights(model)
    fresh = GreedyLayerwisePretraining(x[:100], epochs=1)
    with pytest.warns(UserWarning, match="already taken steps"):
        model.fit(x[:20], y[:20], batch_size=20, epochs=1, verbose=0, callbacks=[fresh])
    assert fresh.autoencoders == []
    assert not np.array_equal(hidden_weights(model)[0][0], before[0][0])  # just fine-tuned


def test_backup_and_restore_resumes_fine_tuning_without_pretraining_again(tmp_path):
    x, y = digits()

    class StopAtEpoch2(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                self.weights = hidden_weights(self.model)
                raise RuntimeError("interrupted at epoch 2")

    def callbacks(pretraining, stop):
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
        return [backup, pretraining, stop]  # BackupAndRestore first: it restores the optimizer

    stop = StopAtEpoch2()
    first = GreedyLayerwisePretraining(x[:200], epochs=1, checkpoint_dir=tmp_path / "pretraining")
    with pytest.raises(RuntimeError, match="interrupted"):
        small_network(units=(16, 16)).fit(
            x[:100], y[:100], batch_size=10, epochs=4, verbose=0, callbacks=callbacks(first, stop)
        )
    resumed = GreedyLayerwisePretraining(x[:200], epochs=1, checkpoint_dir=tmp_path / "pretraining")
    again = StopAtEpoch2()
    with pytest.warns(UserWarning, match="pretraining is skipped"):
        with pytest.raises(RuntimeError, match="interrupted"):
            small_network(units=(16, 16), seed=1).fit(
                x[:100],
                y[:100],
                batch_size=10,
                epochs=4,
                verbose=0,
                callbacks=callbacks(resumed, again),
            )
    assert resumed.autoencoders == []  # not pretrained again ...
    for (kernel, _, _), (expected, _, _) in zip(again.weights, stop.weights, strict=True):
        np.testing.assert_array_equal(kernel, expected)  # ... fine-tuning resumed as it was


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_tanh_and_softplus_networks_train_through_the_same_code(activation):
    x, y = digits()
    model = small_network(activation, units=(64, 64))
    pretraining = GreedyLayerwisePretraining(x[:1500], epochs=2, learning_rate=0.01, seed=0)
    history = model.fit(
        x[:1000], y[:1000], batch_size=10, epochs=4, verbose=0, callbacks=[pretraining]
    ).history
    for layer in (1, 2):
        curve = history[f"pretrain/layer_{layer}/reconstruction"]
        assert curve[-1] < curve[0]
    expected = {"tanh": "sigmoid_cross_entropy", "softplus": "softplus_quadratic"}[activation]
    assert [dae.reconstruction for dae in pretraining.autoencoders] == [expected] * 2
    if activation == "tanh":  # pixels in [0, 1], then tanh activations in [-1, 1]
        assert [dae.target_range for dae in pretraining.autoencoders] == [(0, 1), (-1, 1)]
    accuracy = model.evaluate(x[4000:], y[4000:], verbose=0, return_dict=True)["accuracy"]
    assert 1.0 - accuracy < 0.25  # measured: 14 - 18 %


MIRRORED = textwrap.dedent(
    """
    import json, os, warnings
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
    from keras_sparse_rect.models import build_deep_network, compile_for_paper

    warnings.simplefilter("ignore")
    x = np.random.default_rng(0).random((200, 20), dtype="float32")
    y = np.random.default_rng(1).integers(0, 3, 200)
    with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
        model = build_deep_network((20,), 3, hidden_units=(8, 8), l1=0.0, seed=0)
        compile_for_paper(model, learning_rate=0.05)
    pretraining = GreedyLayerwisePretraining(x, epochs=2, l1=0.0, seed=0)
    history = model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[pretraining])
    print(json.dumps({k: v for k, v in history.history.items() if k.startswith("pretrain/")}))
    """
)


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_pretraining_under_mirrored_strategy():
    run = subprocess.run(
        [sys.executable, "-c", MIRRORED], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    logs = json.loads(run.stdout.strip().splitlines()[-1])
    for layer in (1, 2):
        # Each replica's loss is divided by the number of replicas, as Keras' losses are:
        # the logged loss (unscaled by Keras) equals the reconstruction cost, not twice it.
        np.testing.assert_allclose(
            logs[f"pretrain/layer_{layer}/loss"],
            logs[f"pretrain/layer_{layer}/reconstruction"],
            rtol=1e-5,
        )


def test_the_layer_specs_passed_down_decide_the_autoencoders_l1():
    from keras_sparse_rect.models import hidden_layer_specs

    x, y = digits()
    model = small_network(units=(16,))
    specs = hidden_layer_specs(model)
    assert specs == model.hidden_layer_specs and specs[0].l1 == pytest.approx(1e-3)
    # The callback builds from the specs it is given, not from the layers.
    given = [dataclasses.replace(specs[0], l1=0.5)]
    pretraining = GreedyLayerwisePretraining(x[:100], epochs=1, layers=given, seed=0)
    pretraining.pretrain(model)
    assert pretraining.autoencoders[0].l1 == 0.5
    with pytest.raises(ValueError, match="`layers` describes 2 hidden layers"):
        GreedyLayerwisePretraining(x[:100], epochs=1, layers=given * 2).pretrain(
            small_network(units=(16,))
        )
    with pytest.raises(ValueError, match="`layers` must be None or a non-empty sequence"):
        GreedyLayerwisePretraining(x[:100], layers=["rectifier"])


def test_the_pretraining_progress_bar_never_counts_past_its_end(capsys):
    """350 steps per epoch, 100 per call into the backend: the bar ends at 350/350."""
    x, _ = digits()
    pretraining = GreedyLayerwisePretraining(x[:350], epochs=1, batch_size=1, verbose=1, seed=0)
    pretraining.pretrain(small_network(units=(8,)))
    counts = [
        (int(done), int(total))
        for done, total in re.findall(
            r"(\d+)/(\d+) ", re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
        )
    ]
    assert (350, 350) in counts
    assert all(done <= total for done, total in counts), counts
