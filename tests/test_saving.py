"""A model using every custom object saves to .keras and reloads with identical outputs."""

import pathlib

import keras
import numpy as np
import pytest

from keras_sparse_rect import activations, losses
from keras_sparse_rect.layers import (
    MaskingNoise,
    SaltAndPepperNoise,
    SignFlippedRectifier,
    UnitIntervalScaling,
)
from keras_sparse_rect.metrics import ActivationSparsity
from keras_sparse_rect.regularizers import ActivityL1
from tests.helpers import save_and_reload, to_numpy


def _autoencoder(seed):
    inputs = keras.Input((12,))
    x = SaltAndPepperNoise(0.1, seed=seed)(inputs)
    x = MaskingNoise(0.25, seed=seed + 1)(x)
    x = keras.layers.Dense(16, activation=activations.rectifier)(x)
    h = SignFlippedRectifier(seed=seed, activity_regularizer=ActivityL1(1e-3), name="code")(
        keras.layers.Dense(16)(x)
    )
    scaled = UnitIntervalScaling(name="scaled")(h)
    outputs = keras.layers.Dense(12)(scaled)
    model = keras.Model(inputs, outputs)
    model.compile("sgd", loss=losses.SigmoidCrossEntropy(), metrics=[ActivationSparsity()])
    return model


def test_model_with_all_custom_objects_round_trips(tmp_path):
    x = np.random.default_rng(0).random((32, 12)).astype("float32")
    model = _autoencoder(seed=3)
    model.get_layer("scaled").adapt(
        np.abs(to_numpy(keras.Model(model.inputs[0], model.get_layer("code").output)(x)))
    )
    model.fit(x, x, epochs=1, verbose=0, batch_size=8)
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_array_equal(to_numpy(reloaded(x)), to_numpy(model(x)))
    assert isinstance(reloaded.loss, losses.SigmoidCrossEntropy)
    np.testing.assert_allclose(
        reloaded.evaluate(x, x, verbose=0), model.evaluate(x, x, verbose=0), rtol=1e-6
    )


def test_identical_seeds_give_identical_training():
    x = np.random.default_rng(1).random((32, 12)).astype("float32")
    runs = []
    for _ in range(2):
        keras.backend.clear_session()
        keras.utils.set_random_seed(7)
        model = _autoencoder(seed=5)
        model.get_layer("scaled").adapt(
            np.abs(to_numpy(keras.Model(model.inputs[0], model.get_layer("code").output)(x)))
        )
        runs.append(
            model.fit(x, x, epochs=2, verbose=0, batch_size=8, shuffle=False).history["loss"]
        )
    assert runs[0] == runs[1]


def _load_in_fresh_process(path, code):
    import os
    import subprocess
    import sys

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KSR_MODEL=str(path))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_a_saved_model_loads_in_a_fresh_process_without_importing_submodules(tmp_path):
    # A client imports keras, then the library, and calls keras.saving.load_model: the
    # library's classes are registered without importing keras_sparse_rect.layers.
    # Without keras, keras_sparse_rect.load_model registers them itself.
    x = np.random.default_rng(0).random((4, 12)).astype("float32")
    model = _autoencoder(seed=3)
    model.get_layer("scaled").adapt(
        np.abs(to_numpy(keras.Model(model.inputs[0], model.get_layer("code").output)(x)))
    )
    path = tmp_path / "autoencoder.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    expected = to_numpy(model(x))
    check = (
        "import os, numpy as np; path = os.environ['KSR_MODEL'];"
        "x = np.load(os.path.join(os.path.dirname(path), 'x.npy'));"
        "np.save(path + '.out.npy', np.asarray(model(x)))"
    )
    for load in (
        "import keras, keras_sparse_rect, os;"
        "model = keras.saving.load_model(os.environ['KSR_MODEL']);",
        "import sys, os, keras_sparse_rect; assert 'keras' not in sys.modules;"
        "model = keras_sparse_rect.load_model(os.environ['KSR_MODEL']);",
    ):
        done = _load_in_fresh_process(path, load + check)
        assert done.returncode == 0, done.stderr[-2000:]
        np.testing.assert_allclose(np.load(f"{path}.out.npy"), expected, atol=1e-6)


RELEASE_0_1_0 = pathlib.Path(__file__).parent / "fixtures" / "release_0_1_0"


@pytest.mark.parametrize("name", ["deep_network", "layers", "dae", "dae_scaled", "sparse_dae"])
def test_files_saved_by_release_0_1_0_still_load_and_compute_the_same(name):
    # tests/fixtures/release_0_1_0/make_fixtures.py wrote these with the 0.1.0 code.
    expected = np.load(RELEASE_0_1_0 / "expected.npz")
    model = keras.saving.load_model(RELEASE_0_1_0 / f"{name}.keras")
    x = expected["binary"] if name == "sparse_dae" else expected["x"]
    np.testing.assert_allclose(
        to_numpy(model(x, training=False)), expected[name], rtol=1e-5, atol=1e-6
    )
    if name in ("dae", "dae_scaled", "sparse_dae"):
        np.testing.assert_allclose(
            to_numpy(model.reconstruct(x)), expected[f"{name}_reconstruct"], rtol=1e-5, atol=1e-6
        )
