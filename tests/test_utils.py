import keras
import numpy as np
import pytest

from keras_sparse_rect.layers import SignFlippedRectifier
from keras_sparse_rect.utils import hidden_activation_model, rescale_layers
from tests.helpers import to_numpy


def _network():
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8, bias_initializer="random_normal")(inputs)
    x = SignFlippedRectifier(seed=0, name="h1")(x)
    x = keras.layers.Dense(8, activation="relu", bias_initializer="random_normal", name="h2")(x)
    outputs = keras.layers.Dense(3, bias_initializer="random_normal")(x)  # linear: the scores s
    return keras.Model(inputs, outputs)


X = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")


def test_rescaling_with_unit_product_keeps_the_function():
    model = _network()
    before = to_numpy(model(X))
    rescale_layers(model, [2.0, 0.25, 2.0])
    np.testing.assert_allclose(to_numpy(model(X)), before, rtol=1e-5, atol=1e-6)


def test_rescaling_divides_the_output_by_the_product():
    model = _network()
    before = to_numpy(model(X))
    rescale_layers(model, [2.0, 3.0, 0.5])
    np.testing.assert_allclose(to_numpy(model(X)), before / 3.0, rtol=1e-5, atol=1e-6)


def test_rescaling_argument_checks():
    model = _network()
    with pytest.raises(ValueError, match="alphas"):
        rescale_layers(model, [1.0, 1.0])
    with pytest.raises(ValueError, match=r"alphas\[1\]"):
        rescale_layers(model, [1.0, -1.0, 1.0])


def test_hidden_activation_model_finds_the_hidden_layers():
    model = _network()
    probe, names = hidden_activation_model(model)
    assert names == ["h1", "h2"]
    h1, h2 = (to_numpy(h) for h in probe(X))
    assert h1.shape == (16, 8) and h2.shape == (16, 8)
    np.testing.assert_array_equal(h2, to_numpy(model.get_layer("h2")(h1)))


def test_hidden_activation_model_needs_hidden_layers():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="hidden layer"):
        hidden_activation_model(model)


def test_dense_layers_recurse_into_nested_models_in_order():
    from keras_sparse_rect.utils import dense_layers, hidden_tensors

    inner = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(5, name="i1"), keras.layers.ReLU(name="r")],
        name="inner",
    )
    inputs = keras.Input((4,))
    x = keras.layers.Dense(5, name="d1")(inputs)
    x = inner(x)
    x = keras.layers.Dense(3, name="d2")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="d3")(x))
    assert [layer.name for layer in dense_layers(model)] == ["d1", "i1", "d2", "d3"]
    # i1 reads the nested model's own input (no layer of it produces that); d2 the
    # nested model's output; d3 d2's output.
    assert [name for name, _ in hidden_tensors(model)] == ["hidden_1", "inner", "d2"]


def test_rescaling_reaches_a_sequential_model():
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    )
    before = to_numpy(model(X))
    rescale_layers(model, [2.0, 0.5])
    np.testing.assert_allclose(to_numpy(model(X)), before, rtol=1e-5, atol=1e-6)
