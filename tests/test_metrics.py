import keras
import numpy as np
import pytest

from keras_sparse_rect.metrics import ActivationSparsity
from tests.helpers import assert_config_round_trip


def _result(metric):
    return {k: float(v) for k, v in metric.result().items()}


def test_fraction_of_exact_zeros_on_a_known_tensor():
    h1 = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 1e-9]], "float32")  # 5 of 8 zeros
    h2 = np.array([[-1.0, 0.0], [0.0, 0.0]], "float32")  # 3 of 4
    metric = ActivationSparsity(layer_names=["a", "b"])
    metric.update_state([h1, h2])
    assert _result(metric) == pytest.approx(
        {"sparsity": (5 / 8 + 3 / 4) / 2, "sparsity/a": 5 / 8, "sparsity/b": 3 / 4}
    )


def test_accumulates_over_updates_and_resets():
    metric = ActivationSparsity()
    metric.update_state(np.array([[0.0, 1.0]], "float32"))
    metric.update_state(np.array([[0.0, 0.0], [0.0, 0.0]], "float32"))
    assert _result(metric)["sparsity"] == pytest.approx(5 / 6)
    metric.reset_state()
    assert _result(metric)["sparsity"] == 0.0


def test_usable_in_compile_on_a_model_that_outputs_a_hidden_layer():
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(
        16, activation="relu", kernel_initializer="ones", bias_initializer="zeros"
    )(inputs)
    model = keras.Model(inputs, hidden)
    model.compile(loss="mse", metrics=[ActivationSparsity()])
    x = np.concatenate([np.ones((3, 8)), -np.ones((1, 8))]).astype("float32")
    logs = model.evaluate(x, np.zeros((4, 16)), return_dict=True, verbose=0)
    assert logs["sparsity"] == pytest.approx(0.25)


def test_wrong_number_of_layers_and_arguments():
    metric = ActivationSparsity(num_layers=2)
    with pytest.raises(ValueError, match="2 layer"):
        metric.update_state([np.zeros((1, 2))])
    with pytest.raises(ValueError, match="num_layers"):
        ActivationSparsity(num_layers=0)
    with pytest.raises(ValueError, match="layer_names"):
        ActivationSparsity(layer_names=[])
    restored = assert_config_round_trip(ActivationSparsity(layer_names=["x", "y"], name="s"))
    assert restored.layer_names == ["x", "y"]
