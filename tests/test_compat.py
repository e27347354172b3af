"""The private Keras / TensorFlow internals of keras_sparse_rect._compat: present, and reported.

Each check passes on the installed versions, and fails with one message naming the
installed version, the internal and what stops working when the internal is taken away.
"""

import os
import pathlib
import re
import subprocess
import sys
import textwrap
import types
import warnings

import keras
import numpy as np
import pytest

from keras_sparse_rect import _compat

ROOT = pathlib.Path(__file__).resolve().parents[1]
VERSION = f"Keras {keras.__version__}"


def _assert_clear(problem, *words):
    assert problem is not None
    assert VERSION in problem
    for word in words:
        assert word in problem, (word, problem)
    assert "\n" not in problem  # one line


def test_installed_versions_pass_every_check():
    assert _compat.problems() == []
    assert _compat.DATA_LAYER_PROBLEM is None
    assert _compat.DataLayer is _compat.find_data_layer()
    from keras_sparse_rect.data import RandomWarp

    assert issubclass(RandomWarp, _compat.DataLayer)


def test_message_names_versions_internal_and_consequence():
    text = _compat.message("Keras' private thing", "is missing", "X stops working")
    assert text.startswith("keras_sparse_rect: Keras' private thing is missing in the installed ")
    assert VERSION in text and "X stops working" in text and "_compat.py" in text


# --- DataLayer ---------------------------------------------------------------------------------


def test_missing_data_layer_is_reported(monkeypatch):
    monkeypatch.setattr(
        _compat, "DATA_LAYER_LOCATIONS", (("keras.src.no_such_module", "DataLayer"),)
    )
    assert _compat.find_data_layer() is None
    _assert_clear(_compat.check_data_layer(), "DataLayer", "is missing", "NISTP distortion layers")


def test_data_layer_that_is_not_a_layer_is_reported(monkeypatch):
    module = types.ModuleType("fake_data_layer")
    module.DataLayer = object
    monkeypatch.setitem(sys.modules, "fake_data_layer", module)
    monkeypatch.setattr(_compat, "DATA_LAYER_LOCATIONS", (("fake_data_layer", "DataLayer"),))
    _assert_clear(_compat.check_data_layer(), "not a keras.layers.Layer", "NISTP")


def test_missing_seed_generator_hook_is_reported(monkeypatch):
    monkeypatch.delattr(_compat.find_data_layer(), "_get_seed_generator")
    _assert_clear(_compat.check_data_layer(), "_get_seed_generator", "is missing", "NISTP")


def test_missing_dynamic_backend_name_is_reported(monkeypatch):
    from keras.src.utils import backend_utils

    monkeypatch.delattr(backend_utils.DynamicBackend, "name")
    _assert_clear(_compat.check_data_layer(), "DynamicBackend.name", "is missing", "NISTP")


def test_stand_in_data_layer_raises_the_message_when_built():
    problem = _compat.message("Keras' private DataLayer", "is missing", "NISTP layers break")
    stand_in = _compat._unavailable_data_layer(problem)

    class Distortion(stand_in):
        def __init__(self, seed=None, **kwargs):
            super().__init__(**kwargs)

    with pytest.raises(_compat.KerasInternalsError, match="DataLayer is missing") as error:
        Distortion(seed=1)
    assert str(error.value) == problem


def test_without_data_layer_the_data_package_imports_and_the_layers_raise():
    script = textwrap.dedent(
        """
        import keras.src.layers.preprocessing.data_layer as module
        del module.DataLayer
        import keras_sparse_rect.data as data
        try:
            data.RandomWarp(seed=1)
        except RuntimeError as error:
            print(type(error).__name__, error)
        else:
            print("built")
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env
    )
    assert run.returncode == 0, run.stderr[-3000:]
    line = run.stdout.strip().splitlines()[-1]
    assert line.startswith("KerasInternalsError keras_sparse_rect: Keras' private DataLayer")
    assert VERSION in line and "RandomWarp" in line


def test_data_layer_seed_is_the_layer_generator_outside_tf_data():
    from keras_sparse_rect.data import RandomPixelNoise

    layer = RandomPixelNoise(0.1, seed=3)
    assert _compat.data_layer_seed(layer) is layer.generator


# --- Keras variables on TensorFlow -------------------------------------------------------------


@pytest.mark.tensorflow_only
def test_variable_value_is_the_tf_variable():
    import tensorflow as tf

    variable = keras.Variable(np.zeros((3, 2), "float32"))
    assert _compat.check_variable_value(variable) is None
    assert isinstance(_compat.tf_variable(variable), tf.Variable)


@pytest.mark.tensorflow_only
def test_variable_value_that_is_a_tensor_is_reported(monkeypatch):
    import tensorflow as tf

    fake = types.SimpleNamespace(value=tf.zeros((3, 2)), dtype="float32")
    assert _compat.tf_variable(fake) is None
    _assert_clear(_compat.check_variable_value(fake), "`.value`", "has changed", "SparseDense")
    # An autocast copy (another dtype) is a tensor by design: not a change.
    cast = types.SimpleNamespace(value=tf.zeros((3, 2), tf.float16), dtype="float32")
    assert _compat.check_variable_value(cast) is None

    monkeypatch.setattr(_compat, "_checked_variable_value", False)
    with pytest.warns(_compat.KerasInternalsWarning, match="SparseDense"):
        _compat.warn_if_variable_value_changed(fake)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _compat.warn_if_variable_value_changed(fake)  # once per process


@pytest.mark.tensorflow_only
def test_sparse_dense_still_gathers_from_the_variable():
    import tensorflow as tf

    from keras_sparse_rect.layers import SparseDense
    from keras_sparse_rect.layers.sparse_dense import gather_rows

    layer = SparseDense(4)
    layer.build((None, 6))
    with tf.GradientTape() as tape:
        rows = gather_rows(layer.kernel, tf.constant([1, 4]))
    np.testing.assert_array_equal(rows.numpy(), layer.kernel.numpy()[[1, 4]])
    gradient = tape.gradient(rows, layer.kernel.value)
    assert isinstance(gradient, tf.IndexedSlices)


# --- Keras' TensorFlow trainer (the MultiWorkerMirroredStrategy patch) ---------------------------


@pytest.mark.tensorflow_only
def test_trainer_internals_are_there():
    trainer = _compat.tensorflow_trainer()
    assert trainer.__name__ == _compat.TRAINER_MODULE
    assert _compat.check_tensorflow_trainer() is None


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", _compat.TRAINER_FUNCTIONS)
def test_missing_trainer_function_is_reported(monkeypatch, name):
    import tensorflow as tf

    from keras_sparse_rect import _mwms_patch

    trainer = _compat.tensorflow_trainer()
    monkeypatch.delattr(trainer, name)
    with pytest.raises(_compat.KerasInternalsError) as error:
        _compat.tensorflow_trainer()
    _assert_clear(str(error.value), name, f"TensorFlow {tf.__version__}", "multi_worker_mirrored")
    # The patch refuses the same way (and patches nothing).
    monkeypatch.setattr(_mwms_patch, "_APPLIED", False)
    with pytest.raises(_compat.KerasInternalsError, match=re.escape(name)):
        _mwms_patch.apply()
    assert _mwms_patch._APPLIED is False


@pytest.mark.tensorflow_only
def test_missing_trainer_method_is_reported(monkeypatch):
    trainer = _compat.tensorflow_trainer()
    monkeypatch.delattr(trainer.TensorFlowTrainer, "_maybe_symbolic_build")
    _assert_clear(_compat.check_tensorflow_trainer(), "TensorFlowTrainer._maybe_symbolic_build")


@pytest.mark.tensorflow_only
def test_trainer_without_its_class_or_strategy_attribute_is_reported():
    functions = {name: (lambda *args: None) for name in _compat.TRAINER_FUNCTIONS}
    no_class = types.SimpleNamespace(**functions)
    _assert_clear(_compat.check_tensorflow_trainer(no_class), "TensorFlowTrainer", "is missing")

    class TensorFlowTrainer:  # its strategy attribute renamed
        def __init__(self):
            self.strategy = None

        def _maybe_symbolic_build(self):
            pass

        def _symbolic_build(self):
            pass

    renamed = types.SimpleNamespace(**functions, TensorFlowTrainer=TensorFlowTrainer)
    _assert_clear(
        _compat.check_tensorflow_trainer(renamed), "TensorFlowTrainer._distribute_strategy"
    )


# --- What the package imports, and where private API lives -------------------------------------


def test_importing_the_package_on_jax_does_not_import_tensorflow():
    pytest.importorskip("jax")
    script = textwrap.dedent(
        """
        import sys
        import keras_sparse_rect, keras_sparse_rect.data, keras_sparse_rect._compat as c
        import keras_sparse_rect.data.distortions, keras_sparse_rect.distribute
        assert c.problems() == [], c.problems()
        print("tensorflow" in sys.modules)
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "False"


PRIVATE = re.compile(
    r"keras\.src\b|from keras\.src|tensorflow\.python|\._flatten_layers|_keras_history"
    r"|\._get_seed_generator|\.backend\._backend"
)
#: Where private Keras / TensorFlow API may appear: _compat, the patch it checks, and
#: the KerasTuner module (whose internals are checked there).
ALLOWED = {"_compat.py", "_mwms_patch.py", "tuning.py"}


def test_private_keras_api_only_in_compat():
    package = ROOT / "keras_sparse_rect"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.name in ALLOWED or relative.parts[0].startswith("tuning"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if PRIVATE.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
