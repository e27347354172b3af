"""SparseRectifierStack: its plan, its arguments, saving and loading, exporting."""

import pathlib

import keras
import numpy as np
import pytest

from keras_sparse_rect import inference
from tests.helpers import save_and_reload, to_numpy
from tests.inference.networks import ATOL, varied_network

RELEASE_0_1_0 = pathlib.Path(__file__).parents[1] / "fixtures" / "release_0_1_0"


def test_plan_choices(digits):
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200])
    layer = sparse_model.layers[-1]
    assert layer.plan(4096) == [None, None, None]  # beyond the table: dense
    assert len(layer.plan(None)) == 3
    assert layer.runs_dense(4096) and not layer.runs_dense(1)
    with pytest.raises(ValueError, match="batch_size=0"):
        layer.plan(0)


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


def test_loads_a_file_saved_by_release_0_1_0():
    """``sparse_stack.keras`` was saved by the single-module ``inference.py`` of 0.1.0."""
    restored = keras.saving.load_model(RELEASE_0_1_0 / "sparse_stack.keras")
    layer = restored.layers[-1]
    assert isinstance(layer, inference.SparseRectifierStack)
    assert layer.units == (48, 64, 64, 3) and layer.plan(1) == [24, None, None]
    saved = np.load(RELEASE_0_1_0 / "sparse_stack_io.npz")
    np.testing.assert_allclose(restored.predict(saved["x"], verbose=0), saved["y"], atol=ATOL)
    forward = inference.compile_forward(restored)
    np.testing.assert_allclose(to_numpy(forward(saved["x"][:1])), saved["y"][:1], atol=ATOL)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"units": [784]}, "units=\\[784\\]"),
        ({"units": [784, True]}, "units=\\[784, True\\]"),
        ({"activations": ["relu", "relu", "relu"]}, "activations=\\['relu', 'relu', 'relu'\\]"),
        ({"activations": ["relu", "tanh"]}, "activations\\[1\\]='tanh'"),
        ({"capacities": [[8, 8]]}, "one list per batch size"),
        ({"capacities": [[8, 8], [8, 0]]}, "capacities\\[1\\]=\\[8, 0\\]"),
        ({"batch_sizes": [2, 1]}, "must increase"),
        ({"dense_fraction": 1.5}, "dense_fraction=1.5"),
        ({"output_sign_flip": 1}, "output_sign_flip=1"),
    ],
)
def test_rejects_bad_arguments(kwargs, needle):
    arguments = {
        "units": [784, 64, 10],
        "activations": ["relu", "softmax"],
        "capacities": [[8, 8], [16, 16]],
        "batch_sizes": [1, 2],
        **kwargs,
    }
    with pytest.raises(ValueError, match=needle):
        inference.SparseRectifierStack(**arguments)


def test_one_capacity_per_row_stands_for_every_step():
    layer = inference.SparseRectifierStack(
        [784, 64, 64, 10], ["relu", "relu", "softmax"], [8, [16]], batch_sizes=[1, 2]
    )
    assert layer.capacities == ((8, 8, 8), (16, 16, 16))
    layer = inference.SparseRectifierStack([784, 64, 64], "relu", [8], batch_sizes=[1])
    assert layer.activations == ("relu", "relu")


def test_mixed_float16_policy_computes_in_float16(digits):
    """Under ``mixed_float16`` the layer computes in float16, eagerly and symbolically.

    Before, TensorFlow failed (float32 inputs against float16 weights) and JAX returned
    float32 where the symbolic call promised float16.
    """
    model = varied_network()
    sparse_model = inference.sparse_inference_model(model, digits[:200], dense_fraction=1.0)
    config = sparse_model.layers[-1].get_config()
    reference = sparse_model.layers[-1](digits[:8])
    weights = sparse_model.get_weights()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = inference.SparseRectifierStack.from_config({**config, "dtype": None})
        assert layer.compute_dtype == "float16" and layer.variable_dtype == "float32"
        assert layer(keras.KerasTensor((None, 784))).dtype == "float16"
        layer.set_weights(weights)
        for batch in (digits[:1], digits[:8]):
            out = layer(batch)
            assert keras.backend.standardize_dtype(out.dtype) == "float16"
        np.testing.assert_allclose(to_numpy(out).astype("float32"), to_numpy(reference), atol=1e-2)
    finally:
        keras.mixed_precision.set_global_policy("float32")


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
