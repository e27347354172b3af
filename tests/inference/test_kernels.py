"""The gathered forward: equal to the dense model on real digits, with an exact fallback."""

import keras
import numpy as np
import pytest

from keras_sparse_rect import inference
from keras_sparse_rect.layers import SignFlippedRectifier
from tests.inference.networks import ATOL, run, varied_network


@pytest.mark.parametrize("sign_flip", [True, False])
@pytest.mark.parametrize("batch_size", [1, 10, 128])
def test_equals_predict_on_real_digits(digits, sign_flip, batch_size):
    model = varied_network(sign_flip)
    sparse_model = inference.sparse_inference_model(model, digits[:200], dense_fraction=1.0)
    x = digits[200:328] if batch_size > 1 else digits[200:240]
    reference = model.predict(x, verbose=0)
    forward = inference.compile_forward(sparse_model, return_fallbacks=True)
    out, _ = run(forward, x, batch_size)
    np.testing.assert_allclose(out, reference, atol=ATOL)
    assert sparse_model.layers[-1].plan(1)[0] is not None  # the first layer is gathered


def test_activity_varies_and_all_zero_and_all_active(digits):
    model = varied_network()
    activity = inference.measure_activity(model, digits)
    assert 0.05 < activity[1] < 0.6  # typical examples: many hidden units exactly zero
    sparse_model = inference.sparse_inference_model(model, digits[:200], dense_fraction=1.0)
    forward = inference.compile_forward(sparse_model, return_fallbacks=True)
    zero = np.zeros((1, 784), "float32")
    full = np.ones((1, 784), "float32")  # every pixel active: above the first capacity
    for x in (zero, full, digits[300:301]):
        out, _ = run(forward, x, 1)
        np.testing.assert_allclose(out, model.predict(x, verbose=0), atol=ATOL)
    _, fallbacks = run(forward, full, 1)
    assert fallbacks[0, 0]  # the all-active example took the first layer's dense fallback
    _, fallbacks = run(forward, zero, 1)
    assert not fallbacks[0, 0]


def test_capacity_fallback_is_taken_and_exact(digits):
    model = varied_network()
    sparse_model = inference.sparse_inference_model(
        model, None, capacities=[8, 8, 8], dense_fraction=1.0
    )
    assert sparse_model.layers[-1].plan(1) == [8, 8, None]  # the 10-unit output stays dense
    forward = inference.compile_forward(sparse_model, return_fallbacks=True)
    x = np.concatenate([digits[:20], np.zeros((1, 784), "float32")])
    out, fallbacks = run(forward, x, 1)
    np.testing.assert_allclose(out, model.predict(x, verbose=0), atol=ATOL)
    assert fallbacks[:20, 0].all()  # every digit has more than 8 non-zero pixels
    assert not fallbacks[20, 0]  # the blank one fits


def test_sign_flipped_output_layer(digits):
    inputs = keras.Input((784,))
    h = SignFlippedRectifier(seed=1)(keras.layers.Dense(300)(inputs))
    h = SignFlippedRectifier(seed=2)(keras.layers.Dense(200, activation="relu")(h))
    model = keras.Model(inputs, h)
    sparse_model = inference.sparse_inference_model(model, digits[:100], dense_fraction=1.0)
    out, _ = run(inference.compile_forward(sparse_model, return_fallbacks=True), digits[:5], 1)
    reference = model.predict(digits[:5], verbose=0)
    assert (reference < 0).any()
    np.testing.assert_allclose(out, reference, atol=ATOL)


def test_sparse_forward_uncompiled_equals_numpy():
    """The pure keras.ops function, eagerly, gathered and through its fallback."""
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(40, 64)).astype("float32")
    bias = rng.normal(size=64).astype("float32")
    x = np.zeros((3, 40), "float32")
    x[0, :4] = 1.0  # 4 active: fits a capacity of 8
    x[2, :] = 1.0  # 40 active in the batch: the batch takes the fallback
    for batch in (x[:1], x[:2], x):
        out, fallbacks = inference.sparse_forward(batch, [kernel], [bias], ["relu"], [8])
        expected = np.maximum(batch @ kernel + bias, 0)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(out), expected, atol=ATOL)
        assert bool(keras.ops.convert_to_numpy(fallbacks)[0]) == (len(batch) == 3)
