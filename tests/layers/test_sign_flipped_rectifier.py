import keras
import numpy as np
import pytest

from keras_sparse_rect.layers import SignFlippedRectifier
from tests.helpers import assert_config_round_trip, save_and_reload, to_numpy


def _signs(layer):
    return to_numpy(layer.signs)


@pytest.mark.parametrize("units, fraction", [(1000, 0.5), (7, 0.5), (10, 0.3), (5, 0.0), (5, 1.0)])
def test_exact_number_of_flipped_units(units, fraction):
    layer = SignFlippedRectifier(flip_fraction=fraction, seed=3)
    layer.build((None, units))
    signs = _signs(layer)
    assert set(np.unique(signs)) <= {-1.0, 1.0}
    assert int(np.sum(signs == -1.0)) == round(fraction * units)


def test_output_is_signed_rectifier():
    x = np.random.default_rng(0).normal(size=(32, 100)).astype("float32")
    layer = SignFlippedRectifier(seed=1)
    y = to_numpy(layer(x))
    np.testing.assert_allclose(y, np.maximum(x, 0) * _signs(layer), rtol=0, atol=0)
    # Sparsity is that of the plain rectifier: zero exactly where x <= 0.
    np.testing.assert_array_equal(y == 0, x <= 0)


def test_seed_fixes_the_pattern_and_different_seeds_differ():
    a, b, c = (
        SignFlippedRectifier(seed=5),
        SignFlippedRectifier(seed=5),
        SignFlippedRectifier(seed=6),
    )
    for layer in (a, b, c):
        layer.build((None, 64))
    np.testing.assert_array_equal(_signs(a), _signs(b))
    assert not np.array_equal(_signs(a), _signs(c))


def test_pattern_is_not_trainable_and_saved(tmp_path):
    inputs = keras.Input((20,))
    outputs = SignFlippedRectifier(name="flip")(keras.layers.Dense(50)(inputs))
    model = keras.Model(inputs, outputs)
    layer = model.get_layer("flip")
    assert layer.trainable_weights == []
    assert [w.name for w in layer.non_trainable_weights] == ["signs"]
    x = np.random.default_rng(1).normal(size=(8, 20)).astype("float32")
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_array_equal(_signs(reloaded.get_layer("flip")), _signs(layer))
    np.testing.assert_array_equal(to_numpy(reloaded(x)), to_numpy(model(x)))


def test_higher_rank_input_flips_last_axis():
    layer = SignFlippedRectifier(seed=0)
    x = np.ones((2, 3, 4), "float32")
    y = to_numpy(layer(x))
    assert y.shape == (2, 3, 4)
    np.testing.assert_array_equal(y[0, 0], _signs(layer))
    assert layer.compute_output_shape((2, 3, 4)) == (2, 3, 4)


def test_config_round_trip():
    restored = assert_config_round_trip(SignFlippedRectifier(flip_fraction=0.25, seed=9, name="s"))
    assert restored.flip_fraction == 0.25 and restored.seed == 9


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "half", None])
def test_invalid_flip_fraction(value):
    with pytest.raises(ValueError, match="flip_fraction"):
        SignFlippedRectifier(flip_fraction=value)


@pytest.mark.parametrize("value", [-1, 1.5, "x"])
def test_invalid_seed(value):
    with pytest.raises(ValueError, match="seed"):
        SignFlippedRectifier(seed=value)


def test_wrong_rank_input():
    with pytest.raises(ValueError, match="rank"):
        SignFlippedRectifier()(np.ones((4,), "float32"))


def test_input_with_other_units_than_built_names_the_layer_units_and_dimension():
    layer = SignFlippedRectifier(seed=0, name="flip")
    layer.build((None, 6))
    message = (
        r"SignFlippedRectifier 'flip' was built for units=6; got an input whose last dimension is 7"
    )
    with pytest.raises(ValueError, match=message):
        layer(np.ones((2, 7), "float32"))
    with pytest.raises(ValueError, match=message):
        layer(keras.Input((7,)))  # symbolic: compute_output_shape
    with pytest.raises(ValueError, match=message):
        layer.compute_output_shape((None, 7))
    assert layer.compute_output_shape((None, 6)) == (None, 6)


def test_compiled_training_with_the_built_units_still_works():
    # The check reads static shapes only: XLA (TensorFlow) and jax.jit trace through it.
    inputs = keras.Input((None, 6))  # an unknown middle dimension
    outputs = keras.layers.Dense(1)(SignFlippedRectifier(seed=0)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse", jit_compile=True)
    x = np.random.default_rng(0).normal(size=(8, 3, 6)).astype("float32")
    model.fit(x, np.zeros((8, 3, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (8, 3, 1)
