import keras
import numpy as np
import pytest

from keras_sparse_rect.layers import MaskingNoise, SaltAndPepperNoise
from tests.helpers import assert_config_round_trip, to_numpy

N = 200_000


def test_masking_rate_and_no_rescaling():
    x = np.full((N // 100, 100), 3.0, "float32")
    y = to_numpy(MaskingNoise(0.25, seed=1)(x, training=True))
    masked = y == 0
    # Binomial standard error at this size is ~0.001: 0.01 is > 10 sigma.
    assert abs(masked.mean() - 0.25) < 0.01
    np.testing.assert_array_equal(y[~masked], 3.0)  # survivors are not rescaled


def test_salt_and_pepper_rate_and_balance():
    x = np.full((N // 100, 100), 0.5, "float32")
    y = to_numpy(SaltAndPepperNoise(0.2, low=-1.0, high=2.0, seed=2)(x, training=True))
    low, high, same = (y == -1.0).mean(), (y == 2.0).mean(), (y == 0.5).mean()
    assert abs(low + high - 0.2) < 0.01
    assert abs(low - high) < 0.01  # salt and pepper equally likely
    assert abs(same - 0.8) < 0.01
    assert set(np.unique(y)) == {-1.0, 0.5, 2.0}


@pytest.mark.parametrize(
    "layer",
    [MaskingNoise(0.5, seed=0), SaltAndPepperNoise(0.5, seed=0)],
    ids=["masking", "salt_pepper"],
)
def test_identity_when_not_training(layer):
    x = np.random.default_rng(0).random((16, 10)).astype("float32")
    np.testing.assert_array_equal(to_numpy(layer(x)), x)
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)
    assert layer.compute_output_shape((16, 10)) == (16, 10)


@pytest.mark.parametrize("cls", [MaskingNoise, SaltAndPepperNoise])
def test_same_seed_same_noise_and_fresh_noise_each_call(cls):
    x = np.ones((64, 32), "float32")
    a, b = cls(0.3, seed=7), cls(0.3, seed=7)
    first_a, first_b = to_numpy(a(x, training=True)), to_numpy(b(x, training=True))
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, to_numpy(a(x, training=True)))


def test_noise_in_training_model_fit():
    model = keras.Sequential([keras.Input((10,)), MaskingNoise(0.3, seed=1), keras.layers.Dense(1)])
    model.compile("sgd", "mse", jit_compile=keras.backend.backend() != "tensorflow" or "auto")
    x = np.ones((32, 10), "float32")
    history = model.fit(x, np.zeros((32, 1)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_config_round_trips():
    assert_config_round_trip(MaskingNoise(0.1, seed=3))
    restored = assert_config_round_trip(SaltAndPepperNoise(0.1, low=-1.0, high=1.0, seed=3))
    assert (restored.low, restored.high) == (-1.0, 1.0)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 2, float("nan"), "0.1", True])
@pytest.mark.parametrize("cls", [MaskingNoise, SaltAndPepperNoise])
def test_invalid_rate(cls, rate):
    with pytest.raises(ValueError, match="rate"):
        cls(rate)


def test_invalid_low_high():
    with pytest.raises(ValueError, match="high"):
        SaltAndPepperNoise(0.1, low=1.0, high=0.0)
    with pytest.raises(ValueError, match="low"):
        SaltAndPepperNoise(0.1, low=float("inf"))
