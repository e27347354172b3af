import math

import numpy as np
import pytest

from keras_sparse_rect import activations
from tests.helpers import to_numpy

X = np.array([-2.0, -0.5, 0.0, 0.5, 3.0], "float32")


def test_named_activations():
    np.testing.assert_allclose(to_numpy(activations.get("rectifier")(X)), np.maximum(X, 0))
    np.testing.assert_allclose(
        to_numpy(activations.get("softplus")(X)), np.log1p(np.exp(X)), rtol=1e-6
    )
    np.testing.assert_allclose(to_numpy(activations.get("tanh")(X)), np.tanh(X), rtol=1e-6)
    assert activations.get("relu") is activations.rectifier
    assert activations.get(abs) is abs


def test_unknown_name():
    with pytest.raises(ValueError, match="sigmoidal"):
        activations.get("sigmoidal")


def test_registered_activation_survives_saving(tmp_path):
    import keras

    from tests.helpers import save_and_reload

    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(3, activation=activations.rectifier)]
    )
    reloaded = save_and_reload(model, tmp_path)
    assert reloaded.layers[-1].activation is activations.rectifier
    np.testing.assert_array_equal(to_numpy(reloaded(X[None])), to_numpy(model(X[None])))


def _lif_by_hand(i, t_ref=0.002, tau=0.01, r=10.0, e=-65.0, v_r=-65.0, v_th=-50.0):
    drive = e + r * i
    if drive <= v_th:
        return 0.0
    return 1.0 / (tau * math.log((drive - v_r) / (drive - v_th)) + t_ref)


def test_lif_matches_the_formula():
    currents = np.array([0.0, 1.0, 1.5, 1.6, 2.0, 5.0, 50.0], "float32")
    got = to_numpy(activations.lif(currents))
    np.testing.assert_allclose(got, [_lif_by_hand(float(i)) for i in currents], rtol=1e-5)
    assert got[0] == 0.0 and got[1] == 0.0  # below threshold: silent
    assert got[-1] < 1.0 / 0.002  # saturates below 1 / t_ref
    assert np.all(np.diff(got) >= 0)  # monotone


def test_lif_parameters_and_validation():
    fast = to_numpy(activations.lif(np.array([3.0], "float32"), t_ref=0.0))
    assert fast[0] == pytest.approx(_lif_by_hand(3.0, t_ref=0.0), rel=1e-5)
    with pytest.raises(ValueError, match="v_threshold"):
        activations.lif(X, v_rest=-50.0, v_threshold=-60.0)
    with pytest.raises(ValueError, match="tau"):
        activations.lif(X, tau=0.0)
    with pytest.raises(ValueError, match="t_ref"):
        activations.lif(X, t_ref=-1.0)
