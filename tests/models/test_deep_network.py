import math

import keras
import numpy as np
import pytest

from keras_sparse_rect import activations
from keras_sparse_rect.layers import SignFlippedRectifier
from keras_sparse_rect.models import (
    build_deep_network,
    compile_for_paper,
    hidden_layers,
)
from keras_sparse_rect.regularizers import ActivityL1
from keras_sparse_rect.utils import hidden_tensors
from tests.helpers import save_and_reload, to_numpy


def test_layers_are_named_for_pretraining_and_initialised_as_glorot():
    model = build_deep_network((28, 28), 10, hidden_units=(300, 200), seed=0)
    assert [layer.name for layer in model.layers] == [
        "input",
        "flatten",
        "hidden_1_dense",
        "hidden_1",
        "hidden_2_dense",
        "hidden_2",
        "output",
    ]
    for name, (fan_in, fan_out) in {
        "hidden_1_dense": (784, 300),
        "hidden_2_dense": (300, 200),
        "output": (200, 10),
    }.items():
        layer = model.get_layer(name)
        kernel = to_numpy(layer.kernel)
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert kernel.shape == (fan_in, fan_out)
        assert np.abs(kernel).max() <= bound
        assert np.abs(kernel).max() > 0.99 * bound  # uniform over the whole interval
        assert kernel.std() == pytest.approx(bound / math.sqrt(3.0), rel=0.02)
        np.testing.assert_array_equal(to_numpy(layer.bias), 0.0)
    for name in ("hidden_1", "hidden_2"):
        layer = model.get_layer(name)
        assert isinstance(layer, SignFlippedRectifier)
        assert to_numpy(layer.signs).sum() == 0  # half of the units negated
        assert isinstance(layer.activity_regularizer, ActivityL1)
        assert layer.activity_regularizer.l1 == 1e-3
    assert [name for name, _ in hidden_tensors(model)] == ["hidden_1", "hidden_2"]
    probabilities = to_numpy(model(np.random.default_rng(0).random((4, 28, 28), "float32")))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "activation, sign_flip", [("softplus", True), ("tanh", True), ("rectifier", False)]
)
def test_other_neuron_types_use_activation_layers(activation, sign_flip):
    model = build_deep_network(
        (16,), 3, hidden_units=(8, 8), activation=activation, sign_flip=sign_flip, l1=0.0
    )
    for name in ("hidden_1", "hidden_2"):
        layer = model.get_layer(name)
        assert type(layer) is keras.layers.Activation  # sign_flip is for rectifiers only
        assert layer.activation is activations.get(activation)
        assert layer.activity_regularizer.l1 == 0.0


def test_paper_shapes_are_just_arguments():
    norb = build_deep_network((2, 32, 32), 6, hidden_units=(4000, 2000), seed=0)
    assert [
        tuple(d.kernel.shape)
        for d in (
            norb.get_layer("hidden_1_dense"),
            norb.get_layer("hidden_2_dense"),
            norb.get_layer("output"),
        )
    ] == [(2048, 4000), (4000, 2000), (2000, 6)]
    text = build_deep_network((5000,), 5, hidden_units=(5000,), seed=0)
    assert tuple(text.get_layer("hidden_1_dense").kernel.shape) == (5000, 5000)


def test_same_seed_same_network():
    a = build_deep_network((16,), 3, hidden_units=(8,), seed=3)
    b = build_deep_network((16,), 3, hidden_units=(8,), seed=3)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"hidden_units": "1000"}, "hidden_units"),
        ({"l1": (1e-3, 0.0)}, "l1"),  # one per hidden layer (3) or one for all
        ({"hidden_units": (10, 0)}, "hidden_units"),
        ({"num_classes": 1}, "num_classes"),
        ({"activation": "sigmoid"}, "activation"),
        ({"activation": keras.activations.relu}, "activation"),
        ({"sign_flip": 1}, "sign_flip"),
        ({"l1": -1.0}, "l1"),
        ({"seed": -2}, "seed"),
        ({"input_shape": (0,)}, "input_shape"),
    ],
)
def test_invalid_arguments_name_themselves(kwargs, name):
    arguments = {"input_shape": (16,), "num_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=f"`{name}`"):
        build_deep_network(**arguments)


def test_trains_and_round_trips_through_a_keras_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((200, 16), dtype="float32")
    y = (x[:, 0] > 0.5).astype("int32")
    model = build_deep_network((16,), 2, hidden_units=(32, 32), seed=0)
    compile_for_paper(model, learning_rate=0.05)
    history = model.fit(x, y, batch_size=10, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    restored = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(to_numpy(restored(x)), to_numpy(model(x)), rtol=1e-6)
    np.testing.assert_array_equal(
        to_numpy(restored.get_layer("hidden_1").signs), to_numpy(model.get_layer("hidden_1").signs)
    )


def test_copy_hidden_weights_from_a_model_or_a_list():
    from keras_sparse_rect.models import copy_hidden_weights, hidden_weights

    source = build_deep_network((8,), 3, (4, 5), seed=1)
    target = build_deep_network((8,), 3, (4, 5, 6), seed=2)
    copy_hidden_weights(source, target)
    for name in ("hidden_1_dense", "hidden_2_dense"):
        np.testing.assert_array_equal(
            np.asarray(target.get_layer(name).kernel), np.asarray(source.get_layer(name).kernel)
        )
    np.testing.assert_array_equal(
        np.asarray(target.get_layer("hidden_1").signs),
        np.asarray(source.get_layer("hidden_1").signs),
    )
    fresh = build_deep_network((8,), 3, (4,), seed=3)
    copy_hidden_weights(hidden_weights(source)[:1], fresh)
    np.testing.assert_array_equal(
        np.asarray(fresh.get_layer("hidden_1_dense").bias),
        np.asarray(source.get_layer("hidden_1_dense").bias),
    )
    with pytest.raises(ValueError, match="`source` has 3 hidden layers"):
        copy_hidden_weights(target, source)
    with pytest.raises(ValueError, match="hidden layer 1: `source` kernel has shape"):
        copy_hidden_weights([(np.zeros((2, 2)), np.zeros(2))], fresh)


def test_no_hidden_layer_and_per_layer_l1():
    """Section 4.2's softmax regression on a bag of words, and Glorot's per-layer L1."""
    flat = build_deep_network((50,), 5, hidden_units=(), sparse=True)
    assert [type(layer).__name__ for layer in flat.layers] == ["InputLayer", "SparseDense"]
    assert flat.hidden_layer_specs == ()
    assert hidden_layers(flat) == []
    model = build_deep_network((50,), 5, hidden_units=(8, 8, 8), l1=(1e-4, 0.0, 0.0))
    assert [spec.l1 for spec in model.hidden_layer_specs] == [1e-4, 0.0, 0.0]
    assert model.get_layer("hidden_1").activity_regularizer.l1 == 1e-4
    assert model.get_layer("hidden_3").activity_regularizer.l1 == 0.0


def test_hidden_units_beyond_memory_are_refused_naming_hidden_units():
    # Issue 33: this used to fail inside TensorFlow with ResourceExhaustedError.
    with pytest.raises(ValueError, match=r"`hidden_units` \(10000000\) needs at least"):
        build_deep_network((784,), 10, hidden_units=(10**7,))


def test_an_allocation_failure_of_the_backend_is_reported_naming_hidden_units(monkeypatch):
    # Where the machine's memory is not known (or a device runs out first), the
    # backend's own out-of-memory error is re-raised as a ValueError naming the argument.
    from keras_sparse_rect import _memory
    from keras_sparse_rect.models import deep_network

    class ResourceExhaustedError(Exception):  # what TensorFlow raises
        pass

    def out_of_memory(*args):
        raise ResourceExhaustedError("OOM when allocating tensor with shape[784,10000000]")

    monkeypatch.setattr(_memory, "memory_bytes", lambda: None)
    monkeypatch.setattr(deep_network, "_build", out_of_memory)
    with pytest.raises(ValueError, match=r"hidden_units=\(10000000,\)") as raised:
        build_deep_network((784,), 10, hidden_units=(10**7,))
    assert isinstance(raised.value.__cause__, ResourceExhaustedError)


def test_every_valid_seed_builds_and_a_huge_seed_is_refused_naming_seed():
    # The layers' seeds are derived from the one given (seed + offset), wrapping around.
    model = build_deep_network((4,), 2, hidden_units=(3, 3), seed=2**32 - 1)
    assert model.get_layer("hidden_2").seed == 4  # (2**32 - 1 + 5) % 2**32
    with pytest.raises(ValueError, match=r"`seed` .*got seed=99999999999999999999"):
        build_deep_network((4,), 2, seed=99999999999999999999)


def test_l1_follows_the_one_per_layer_rule():
    model = build_deep_network((4,), 2, hidden_units=(3, 3, 3), l1=[0.01], seed=0)
    assert [model.get_layer(f"hidden_{k}").activity_regularizer.l1 for k in (1, 2, 3)] == [0.01] * 3
    with pytest.raises(ValueError, match=r"`l1` must be one value or one per hidden layer"):
        build_deep_network((4,), 2, hidden_units=(3, 3, 3), l1=[0.01, 0.0])
