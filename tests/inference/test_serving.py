"""Serving: the compiled forwards, the call path per shape, synchronous dispatch on JAX."""

import keras
import numpy as np
import pytest

from keras_sparse_rect import inference
from tests.helpers import to_numpy
from tests.inference.networks import ATOL, varied_network


def test_dense_mode(digits):
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200])
    forward = inference.compile_forward(sparse_model, mode="dense")
    np.testing.assert_allclose(
        to_numpy(forward(digits[:16])), model.predict(digits[:16], verbose=0), atol=ATOL
    )
    with pytest.raises(ValueError, match="mode='fast'"):
        inference.compile_forward(sparse_model, mode="fast")
    with pytest.raises(ValueError, match="return_fallbacks=1"):
        inference.compile_forward(sparse_model, return_fallbacks=1)
    with pytest.raises(ValueError, match="model="):
        inference.compile_forward(model)


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
