"""One contract every public layer and autoencoder of the library passes.

Modelled on keras-hub's ``run_layer_test`` (``keras_hub/src/tests/test_case.py``),
which a library should own rather than import Keras' private ``keras.src.testing``.
A :class:`LayerCase` says how to make the object and what to feed it; each check
below is one property, and ``tests/layers/test_contract.py`` runs every check on
every case, so a regression shows as the one property it breaks:

- ``build``: ``build(shape)`` creates the expected weights;
- ``symbolic``: a ``KerasTensor`` call agrees with ``compute_output_shape`` and
  with the eager output's shape and dtype;
- ``eager``: an eager inference call is finite and repeatable;
- ``training``: ``training=True`` changes the output exactly where the case
  says (noise), and inference leaves noise layers' input untouched;
- ``fit``: one ``fit`` step (compiled with XLA on TensorFlow and JAX) runs and
  gives a finite loss;
- ``config``: ``get_config``/``from_config`` and a JSON round trip through
  ``keras.saving.serialize_keras_object``;
- ``saving``: a ``.keras`` round trip computes the same outputs;
- ``clone``: ``keras.models.clone_model`` plus ``set_weights`` computes the same
  outputs;
- ``mixed_precision``: under ``mixed_float16`` the output is float16 and the
  weights float32.

A layer that needs state before it runs (``UnitIntervalScaling`` must be
adapted) gets it from the case's ``setup`` hook, which every check calls on
every fresh instance before feeding it data.
"""

import dataclasses
import json
from collections.abc import Callable

import keras
import numpy as np

from keras_sparse_rect._arrays import to_numpy


@dataclasses.dataclass
class LayerCase:
    """How to make one layer (or model) and what the contract expects of it.

    Attributes:
        name: the case's test id.
        make: ``make(**kwargs) -> layer``; the contract passes ``dtype`` for the
            mixed-precision check.
        data: the input batch (float32 numpy).
        setup: ``setup(layer, data)`` after ``make``, before data flows (e.g. adapt).
        trainable_weights, non_trainable_weights: the counts after ``build``.
        training_changes_output: ``training=True`` gives another output (noise).
        inference_is_identity: ``training=False`` returns the input unchanged.
        is_model: a ``keras.Model`` with its own ``fit`` (an autoencoder): it is
            fitted, saved and cloned itself, not wrapped in a functional model.
        xfail: ``{check name: reason}`` for known bugs, named in the reason.
    """

    name: str
    make: Callable[..., keras.layers.Layer]
    data: np.ndarray
    setup: Callable | None = None
    trainable_weights: int | None = None
    non_trainable_weights: int | None = None
    training_changes_output: bool = False
    inference_is_identity: bool = False
    is_model: bool = False
    xfail: dict = dataclasses.field(default_factory=dict)

    def fresh(self, **kwargs):
        """A new instance, built and set up on ``data``."""
        layer = self.make(**kwargs)
        layer.build(self.data.shape)
        if self.setup is not None:
            self.setup(layer, self.data)
        return layer


def _wrap(case, layer):
    """A functional model around ``layer``, so that it can be saved and cloned."""
    inputs = keras.Input(case.data.shape[1:], name="inputs")
    return keras.Model(inputs, layer(inputs), name=f"{case.name}_model")


def _subject(case):
    """``(model, layer)``: the object to save or clone, and the layer under test."""
    layer = case.fresh()
    return (layer if case.is_model else _wrap(case, layer)), layer


def _outputs(model, data):
    return to_numpy(model(data, training=False))


def check_build(case):
    layer = case.make()
    layer.build(case.data.shape)
    assert layer.built
    if case.trainable_weights is not None:
        assert len(layer.trainable_weights) == case.trainable_weights
    if case.non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == case.non_trainable_weights


def check_symbolic(case):
    layer = case.fresh()
    symbolic = layer(keras.KerasTensor(case.data.shape, dtype="float32"))
    assert tuple(symbolic.shape) == tuple(layer.compute_output_shape(case.data.shape))
    assert keras.backend.standardize_dtype(symbolic.dtype) == layer.compute_dtype
    eager = layer(case.data, training=False)
    assert tuple(eager.shape) == tuple(symbolic.shape)
    assert keras.backend.standardize_dtype(eager.dtype) == layer.compute_dtype


def check_eager(case):
    layer = case.fresh()
    first, second = _outputs(layer, case.data), _outputs(layer, case.data)
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)


def check_training(case):
    layer = case.fresh()
    inference = _outputs(layer, case.data)
    training = to_numpy(layer(case.data, training=True))
    assert training.shape == inference.shape
    if case.training_changes_output:
        assert not np.array_equal(training, inference)
    else:
        np.testing.assert_allclose(training, inference, rtol=1e-6, atol=1e-6)
    if case.inference_is_identity:
        np.testing.assert_array_equal(inference, case.data)


def check_fit(case):
    model, _ = _subject(case)
    jit = keras.backend.backend() in ("tensorflow", "jax")
    data = case.data
    if case.is_model:
        model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=jit)
        history = model.fit(data, batch_size=len(data), epochs=1, verbose=0)
    else:
        head = keras.layers.Dense(1, name="head")(keras.layers.Flatten()(model.outputs[0]))
        model = keras.Model(model.inputs, head)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=jit)
        target = np.zeros((len(data), 1), "float32")
        history = model.fit(data, target, batch_size=len(data), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def check_config(case):
    layer = case.make()
    config = layer.get_config()
    text = json.dumps(config, sort_keys=True)
    revived = type(layer).from_config(config)
    assert json.dumps(revived.get_config(), sort_keys=True) == text
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(layer)
    assert json.dumps(restored.get_config(), sort_keys=True) == text


def check_saving(case, tmp_path):
    model, _ = _subject(case)
    path = tmp_path / f"{case.name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(_outputs(reloaded, case.data), _outputs(model, case.data))


def check_clone(case):
    model, _ = _subject(case)
    clone = keras.models.clone_model(model)
    if not clone.built:  # a subclassed model is cloned from its config, unbuilt
        clone.build(case.data.shape)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(_outputs(clone, case.data), _outputs(model, case.data))


def check_mixed_precision(case):
    layer = case.fresh(dtype="mixed_float16")
    assert layer.compute_dtype == "float16" and layer.variable_dtype == "float32"
    output = layer(case.data, training=False)
    assert keras.backend.standardize_dtype(output.dtype) == "float16"
    spec = layer.compute_output_spec(keras.KerasTensor(case.data.shape, dtype="float32"))
    assert keras.backend.standardize_dtype(spec.dtype) == "float16"
    for weight in layer.weights:
        assert keras.backend.standardize_dtype(weight.dtype) in ("float32", "int32", "int64")
    assert np.isfinite(to_numpy(output).astype("float32")).all()


#: The contract, by check name (``saving`` also takes ``tmp_path``).
CHECKS = {
    "build": check_build,
    "symbolic": check_symbolic,
    "eager": check_eager,
    "training": check_training,
    "fit": check_fit,
    "config": check_config,
    "saving": check_saving,
    "clone": check_clone,
    "mixed_precision": check_mixed_precision,
}


def run_layer_contract(case, tmp_path):
    """Runs every check of the contract on ``case`` (all in one go)."""
    for name, check in CHECKS.items():
        check(case, tmp_path) if name == "saving" else check(case)
