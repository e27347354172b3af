import numpy as np
import pytest

from keras_sparse_rect.layers import UnitIntervalScaling
from tests.helpers import assert_config_round_trip, save_and_reload, to_numpy


def test_per_unit_maximum_scaling():
    h = np.array([[0.0, 2.0, -3.0, 0.0], [4.0, 1.0, -1.5, 0.0]], "float32")
    layer = UnitIntervalScaling()
    layer.adapt(h)
    np.testing.assert_allclose(to_numpy(layer.scale), [4.0, 2.0, 3.0, 0.0])
    y = to_numpy(layer(h))
    np.testing.assert_allclose(y, [[0.0, 1.0, 1.0, 0.0], [1.0, 0.5, 0.5, 0.0]])


def test_values_above_training_maximum_are_clipped():
    layer = UnitIntervalScaling()
    layer.adapt(np.array([[1.0, 2.0]], "float32"))
    y = to_numpy(layer(np.array([[5.0, 1.0]], "float32")))
    np.testing.assert_allclose(y, [[1.0, 0.5]])
    assert y.min() >= 0 and y.max() <= 1


def test_adapt_from_batches_equals_adapt_from_array():
    h = np.abs(np.random.default_rng(0).normal(size=(100, 6))).astype("float32")
    a, b = UnitIntervalScaling(), UnitIntervalScaling()
    a.adapt(h, batch_size=7)
    b.adapt([(h[:50], None), (h[50:], None)])
    np.testing.assert_allclose(to_numpy(a.scale), to_numpy(b.scale))


def test_scale_is_saved(tmp_path):
    import keras

    inputs = keras.Input((3,))
    layer = UnitIntervalScaling(name="scale")
    model = keras.Model(inputs, layer(inputs))
    layer.adapt(np.array([[1.0, 2.0, 4.0]], "float32"))
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(to_numpy(reloaded.get_layer("scale").scale), [1.0, 2.0, 4.0])
    assert trainable_count(reloaded) == 0


def trainable_count(model):
    return len(model.trainable_weights)


def test_errors():
    with pytest.raises(ValueError, match="empty"):
        UnitIntervalScaling().adapt([])
    layer = UnitIntervalScaling()
    layer.build((None, 3))
    with pytest.raises(ValueError, match="3"):
        layer.adapt(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="rank"):
        UnitIntervalScaling()(np.ones((3,), "float32"))
    assert_config_round_trip(UnitIntervalScaling(name="u"))
