import keras
import numpy as np
import pytest

from keras_sparse_rect import losses
from tests.helpers import assert_config_round_trip, to_numpy

RNG = np.random.default_rng(0)
X = RNG.random((4, 5)).astype("float32")  # targets in [0, 1]
A = RNG.normal(size=(4, 5)).astype("float32")  # decoder pre-activations


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def test_softplus_quadratic_by_hand():
    per_example = np.sum((X - np.log1p(np.exp(A))) ** 2, axis=1)
    np.testing.assert_allclose(to_numpy(losses.softplus_quadratic(X, A)), per_example, rtol=1e-5)
    assert float(to_numpy(losses.SoftplusQuadratic()(X, A))) == pytest.approx(
        per_example.mean(), rel=1e-5
    )
    rec = np.log1p(np.exp(A))
    np.testing.assert_allclose(
        to_numpy(losses.softplus_quadratic(X, rec, from_logits=False)),
        per_example,
        rtol=1e-5,
    )


def test_sigmoid_cross_entropy_by_hand_and_stable():
    p = _sigmoid(A)
    per_example = -np.sum(X * np.log(p) + (1 - X) * np.log(1 - p), axis=1)
    np.testing.assert_allclose(to_numpy(losses.sigmoid_cross_entropy(X, A)), per_example, rtol=1e-5)
    np.testing.assert_allclose(
        to_numpy(losses.sigmoid_cross_entropy(X, p, from_logits=False)),
        per_example,
        rtol=1e-4,
    )
    # Large logits: log(sigmoid(a)) would overflow; the logits form stays finite and exact.
    big = np.array([[200.0, -200.0]], "float32")
    got = to_numpy(losses.sigmoid_cross_entropy(np.array([[0.0, 1.0]], "float32"), big))
    np.testing.assert_allclose(got, [400.0], rtol=1e-6)


def test_tanh_cross_entropy_by_hand():
    x = 2 * X - 1  # targets in [-1, 1]
    t, p = (x + 1) / 2, (1 + np.tanh(A)) / 2
    per_example = -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p), axis=1)
    np.testing.assert_allclose(to_numpy(losses.tanh_cross_entropy(x, A)), per_example, rtol=1e-4)
    np.testing.assert_allclose(
        to_numpy(losses.tanh_cross_entropy(X, A, target_range=(0.0, 1.0))),
        -np.sum(X * np.log(p) + (1 - X) * np.log(1 - p), axis=1),
        rtol=1e-4,
    )
    loss = losses.TanhCrossEntropy(target_range=(0.0, 1.0))
    assert float(to_numpy(loss(X, A))) > 0


def test_losses_train_a_model_and_round_trip():
    for loss in (
        losses.SoftplusQuadratic(),
        losses.SigmoidCrossEntropy(),
        losses.TanhCrossEntropy(),
    ):
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(5)])
        model.compile("sgd", loss=loss)
        assert np.isfinite(model.fit(X, X, epochs=1, verbose=0).history["loss"][0])
        restored = assert_config_round_trip(loss)
        assert restored.from_logits is True
    assert assert_config_round_trip(losses.TanhCrossEntropy(target_range=(0, 1))).target_range == (
        0.0,
        1.0,
    )


def test_invalid_arguments():
    with pytest.raises(ValueError, match="from_logits"):
        losses.SigmoidCrossEntropy(from_logits="yes")
    with pytest.raises(ValueError, match="target_range"):
        losses.TanhCrossEntropy(target_range=(1.0, -1.0))
