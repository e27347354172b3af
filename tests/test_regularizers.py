import keras
import numpy as np
import pytest

from keras_sparse_rect.layers import SignFlippedRectifier
from keras_sparse_rect.regularizers import ActivityL1
from tests.helpers import assert_config_round_trip, to_numpy

H = np.array([[1.0, -2.0, 0.0], [0.5, 0.0, -0.5], [3.0, 1.0, 0.0], [0.0, 0.0, 4.0]], "float32")
# By hand: per-example sums of |h| are 3, 1, 4, 4 -> mean 3.0.
HAND = 1e-3 * 3.0


def test_penalty_is_mean_over_batch_of_sum_over_units():
    assert float(to_numpy(ActivityL1(1e-3).penalty(H))) == pytest.approx(HAND, rel=1e-6)


@pytest.mark.parametrize("batch", [1, 4])
def test_loss_added_by_a_layer_is_the_papers_value(batch):
    """Keras >= 3.14 divides activity penalties by the batch size: ours must not change."""
    layer = SignFlippedRectifier(flip_fraction=0.0, activity_regularizer=ActivityL1(1e-3))
    x = np.abs(H[:batch])  # rectifier passes non-negative input unchanged
    layer(x)
    expected = 1e-3 * np.mean(np.sum(x, axis=1))
    assert len(layer.losses) == 1
    assert float(to_numpy(layer.losses[0])) == pytest.approx(expected, rel=1e-6)


def test_model_loss_includes_the_penalty():
    inputs = keras.Input((3,))
    outputs = keras.layers.Activation("linear", activity_regularizer=ActivityL1(0.5))(inputs)
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    loss = model.evaluate(H, H, verbose=0, batch_size=4)
    assert loss == pytest.approx(0.5 * 3.0, rel=1e-5)


def test_zero_coefficient_and_config():
    assert float(to_numpy(ActivityL1(0.0).penalty(H))) == 0.0
    restored = assert_config_round_trip(ActivityL1(0.002))
    assert restored.l1 == 0.002


@pytest.mark.parametrize("value", [-1e-3, float("nan"), float("inf"), "0.1", None])
def test_invalid_l1(value):
    with pytest.raises(ValueError, match="l1"):
        ActivityL1(value)
