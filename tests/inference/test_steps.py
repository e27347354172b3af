"""Extracting a trained network's steps: which layers are read, which are refused."""

import keras
import numpy as np
import pytest

from keras_sparse_rect import inference
from keras_sparse_rect.inference.steps import step_inputs
from tests.inference.networks import varied_network


def test_rejects_other_layers(digits):
    inputs = keras.Input((784,))
    h = keras.layers.Dense(32, activation="tanh", name="tanh_dense")(inputs)
    with pytest.raises(ValueError, match="tanh_dense"):
        inference.sparse_inference_model(keras.Model(inputs, h), digits[:10])
    inputs = keras.Input((784,))
    h = keras.layers.BatchNormalization(name="norm")(keras.layers.Dense(32)(inputs))
    with pytest.raises(ValueError, match="'norm'"):
        inference.extract_steps(keras.Model(inputs, h))


def test_folds_the_signs_and_skips_the_identity_layers():
    model = varied_network(sign_flip=True)
    steps, output_scale = inference.extract_steps(model)
    assert [s["activation"] for s in steps] == ["relu", "relu", "softmax"]
    assert output_scale is None
    signs = keras.ops.convert_to_numpy(model.get_layer("hidden_1").signs)
    kernel = keras.ops.convert_to_numpy(model.get_layer("hidden_2_dense").kernel)
    np.testing.assert_array_equal(steps[1]["kernel"], signs[:, None] * kernel)


def test_measure_activity_is_the_fraction_of_non_zero_inputs(digits):
    model = varied_network()
    steps, _ = inference.extract_steps(model)
    activity = inference.measure_activity(model, digits[:50])
    assert activity[0] == pytest.approx(float(np.mean(digits[:50] != 0)))
    assert len(activity) == len(step_inputs(steps, digits[:50])) == 3
