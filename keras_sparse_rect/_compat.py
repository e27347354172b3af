"""Every private Keras / TensorFlow internal that keras_sparse_rect relies on, checked.

The library uses public Keras 3 API wherever a public name does the job. Where
none does, the internal is reached here and nowhere else in the package (the
KerasTuner internals of :mod:`keras_sparse_rect.tuning` excepted), and checked
against the installed versions. A check that fails says, in one message, which
Keras (and TensorFlow) version is installed, which internal is missing or
changed, and what stops working.

Checked on Keras 3.15.1 and TensorFlow 2.21:

- **DataLayer** (``keras.src.layers.preprocessing.data_layer.DataLayer``;
  ``tf_data_layer.TFDataLayer`` in older Keras 3), its ``_get_seed_generator``
  and the ``name`` of its ``DynamicBackend``: the base class of the NISTP
  distortion layers (:mod:`keras_sparse_rect.data.distortions`). Checked at
  import of this module; if the check fails, building a distortion layer raises
  :class:`KerasInternalsError` (the rest of ``keras_sparse_rect.data`` still
  imports).
- **A Keras variable's ``.value`` is the ``tf.Variable`` itself on TensorFlow**:
  :func:`keras_sparse_rect.layers.sparse_dense.gather_rows` gathers kernel rows
  from it (``ResourceGather``). Checked when the first ``SparseDense`` is built
  on TensorFlow; if it fails, a :class:`KerasInternalsWarning` (same outputs,
  slower sparse steps).
- **Keras' TensorFlow trainer** (``reduce_per_replica``,
  ``_collective_all_reduce_multi_worker``, ``_is_per_replica_instance``,
  ``TensorFlowTrainer._maybe_symbolic_build`` / ``_symbolic_build`` /
  ``_distribute_strategy``): what :mod:`keras_sparse_rect._mwms_patch` replaces
  and calls to make ``fit`` work under ``MultiWorkerMirroredStrategy``. Checked
  when the patch is applied (it imports TensorFlow); if it fails,
  :class:`KerasInternalsError`.

The ``MultiWorkerMirroredStrategy`` patch stays in its own module,
:mod:`keras_sparse_rect._mwms_patch`: it *changes* Keras' behaviour (it replaces
two trainer functions, with its own reasoning and its own two-worker test in
``tests/test_distribute.py``), where this module only reaches and checks
internals. The patch gets the trainer module from :func:`tensorflow_trainer`,
so its check and message are the ones here.

Public API used instead of internals that the package once reached:
``model.layers``, recursed through nested models, instead of
``model._flatten_layers()`` (:func:`keras_sparse_rect.utils.dense_layers`); the
layer whose ``.output`` is a tensor instead of the tensor's ``_keras_history``
(:func:`keras_sparse_rect.utils.hidden_tensors`); ``keras.tree`` instead of
``keras.src.tree``; ``DynamicBackend.name`` instead of its ``_backend``.

Nothing here imports TensorFlow at import time: the DataLayer checks only read
modules that ``import keras`` has already loaded (Keras' own image preprocessing
layers subclass ``DataLayer``), and the TensorFlow checks run on first use, on
the TensorFlow backend.
"""

import importlib
import sys
import warnings

import keras


class KerasInternalsError(RuntimeError):
    """A private Keras / TensorFlow internal that keras_sparse_rect needs is missing or changed."""


class KerasInternalsWarning(UserWarning):
    """An internal changed in a way that keeps results but loses speed."""


def versions():
    """``"Keras 3.15.1"``, plus ``", TensorFlow 2.21.0"`` when TensorFlow is already imported."""
    text = f"Keras {keras.__version__}"
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "__version__"):
        text += f", TensorFlow {tf.__version__}"
    return text


def message(internal, problem, consequence):
    """The one-line report of a failed check (installed versions, internal, what stops working)."""
    return (
        f"keras_sparse_rect: {internal} {problem} in the installed {versions()}: "
        f"{consequence}. (Checked in keras_sparse_rect/_compat.py; see docs/facts.md, "
        "'Private Keras internals'.)"
    )


# --- DataLayer: the base class of the NISTP distortion layers -------------------------------
#
# Why private: a layer that must run inside ``tf.data.Dataset.map`` on the JAX
# (or PyTorch) backend has to switch to TensorFlow ops while tf.data traces it.
# Keras' own image preprocessing layers (RandomErasing, RandomRotation, ...) do
# that by subclassing DataLayer, which swaps ``self.backend`` (a DynamicBackend)
# to "tensorflow" inside a TF graph. Keras 3.15 exports no public base class or
# hook for it (``keras.layers.Pipeline`` chains such layers but does not make
# one). DataLayer's docstring tells subclasses to draw their seeds with
# ``self._get_seed_generator(backend_name)``: on JAX inside tf.data that returns
# a second SeedGenerator whose state is a TensorFlow variable, which nothing
# public (``keras.random.SeedGenerator`` keeps its state in the main backend)
# provides.

#: Where DataLayer has lived: (module, class name), newest first.
DATA_LAYER_LOCATIONS = (
    ("keras.src.layers.preprocessing.data_layer", "DataLayer"),
    ("keras.src.layers.preprocessing.tf_data_layer", "TFDataLayer"),
)
_DYNAMIC_BACKEND = ("keras.src.utils.backend_utils", "DynamicBackend")
_DISTORTIONS = (
    "the NISTP distortion layers (keras_sparse_rect.data.RandomStrokeThickness, "
    "RandomWarp, RandomPixelNoise, nistp_distortion) cannot be used"
)


def _find(module_name, name):
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None


def find_data_layer():
    """Keras' DataLayer class, or ``None`` when no known location has it."""
    for module_name, name in DATA_LAYER_LOCATIONS:
        cls = _find(module_name, name)
        if cls is not None:
            return cls
    return None


def check_data_layer():
    """``None`` when DataLayer has what the distortion layers use; else the message."""
    cls = find_data_layer()
    if cls is None:
        where = " or ".join(f"{m}.{n}" for m, n in DATA_LAYER_LOCATIONS)
        return message(f"Keras' private DataLayer ({where})", "is missing", _DISTORTIONS)
    if not isinstance(cls, type) or not issubclass(cls, keras.layers.Layer):
        return message(f"Keras' private {cls!r}", "is not a keras.layers.Layer", _DISTORTIONS)
    if not callable(getattr(cls, "_get_seed_generator", None)):
        return message(
            f"Keras' private {cls.__name__}._get_seed_generator", "is missing", _DISTORTIONS
        )
    dynamic = _find(*_DYNAMIC_BACKEND)
    if dynamic is None or not isinstance(getattr(dynamic, "name", None), property):
        return message(
            "Keras' private DynamicBackend.name (keras.src.utils.backend_utils, the "
            "`self.backend` of a DataLayer)",
            "is missing",
            _DISTORTIONS,
        )
    return None


def _unavailable_data_layer(problem):
    class UnavailableDataLayer(keras.layers.Layer):
        """Stands in for Keras' DataLayer when it is missing: building a subclass raises."""

        def __init__(self, *args, **kwargs):
            raise KerasInternalsError(problem)

    return UnavailableDataLayer


#: ``None`` when the installed Keras passes :func:`check_data_layer`, else its message.
DATA_LAYER_PROBLEM = check_data_layer()
#: The base class of the distortion layers: Keras' DataLayer, or (when the check
#: failed) a stand-in whose construction raises :class:`KerasInternalsError` with
#: :data:`DATA_LAYER_PROBLEM`, so that ``import keras_sparse_rect.data`` still works.
DataLayer = (
    find_data_layer() if DATA_LAYER_PROBLEM is None else _unavailable_data_layer(DATA_LAYER_PROBLEM)
)


def data_layer_seed(layer):
    """The seed generator ``layer`` (a DataLayer) draws from on the backend it runs on now.

    Inside tf.data on the JAX backend that is a TensorFlow-state copy of
    ``layer.generator``; everywhere else ``layer.generator`` itself.
    """
    return layer._get_seed_generator(layer.backend.name)


# --- Keras variables on TensorFlow: the tf.Variable behind ``.value`` ------------------------
#
# Why private: ``keras.Variable.value`` is public, but that on TensorFlow it *is*
# the ``tf.Variable`` (not a tensor read from it) is an implementation detail.
# ``tf.gather`` on the tf.Variable is a ResourceGather that reads only the
# gathered rows; on a tensor it first reads the whole kernel. Keras has no
# public sparse read of a variable.

_checked_variable_value = False


def tf_variable(variable):
    """The ``tf.Variable`` behind a Keras variable on TensorFlow, else ``None``.

    ``None`` also under mixed-precision autocasting or a stateless scope, where
    ``.value`` is a tensor; callers then read the tensor.
    """
    import tensorflow as tf  # TensorFlow backend only: its variable type.

    value = getattr(variable, "value", None)
    return value if isinstance(value, tf.Variable) else None


def check_variable_value(variable):
    """``None`` when ``variable.value`` is a ``tf.Variable`` (TensorFlow); else the message.

    Only a same-dtype tensor counts as a change: an autocast value (another
    dtype) is expected to be a tensor.
    """
    import tensorflow as tf  # TensorFlow backend only: its variable type.

    value = getattr(variable, "value", None)
    if isinstance(value, tf.Variable):
        return None
    dtype = getattr(getattr(value, "dtype", None), "name", None)
    if (
        value is not None
        and dtype is not None
        and dtype != keras.backend.standardize_dtype(variable.dtype)
    ):
        return None  # autocast: a cast copy, by design
    return message(
        "a Keras variable's `.value` (the tf.Variable itself on TensorFlow; got "
        f"{type(value).__name__})",
        "has changed",
        "SparseDense gathers kernel rows from a tensor copy of the whole kernel instead of "
        "the variable (outputs unchanged; sparse SGD steps slower)",
    )


def warn_if_variable_value_changed(variable):
    """Runs :func:`check_variable_value` once per process; warns if it fails."""
    global _checked_variable_value
    if _checked_variable_value:
        return
    _checked_variable_value = True
    problem = check_variable_value(variable)
    if problem is not None:
        warnings.warn(problem, KerasInternalsWarning, stacklevel=3)


# --- Keras' TensorFlow trainer: what the MultiWorkerMirroredStrategy patch replaces -----------
#
# Why private: Keras 3.15's fit fails under MultiWorkerMirroredStrategy
# (keras-team/keras#20585, tensorflow#72388) inside these trainer functions;
# there is no public hook to change how fit builds the model from a distributed
# batch or reduces metric results. See keras_sparse_rect/_mwms_patch.py.

TRAINER_MODULE = "keras.src.backend.tensorflow.trainer"
TRAINER_FUNCTIONS = (
    "reduce_per_replica",
    "_collective_all_reduce_multi_worker",
    "_is_per_replica_instance",
)
TRAINER_METHODS = ("_maybe_symbolic_build", "_symbolic_build")
_MWMS = (
    "the MultiWorkerMirroredStrategy patch cannot be applied, so fit under "
    "strategy='multi_worker_mirrored' would fail (keras-team/keras#20585)"
)


def check_tensorflow_trainer(trainer=None):
    """``None`` when the trainer has what the patch needs; else the message. Imports TensorFlow."""
    import tensorflow  # noqa: F401  (the trainer module needs it; versions() then names it)

    if trainer is None:
        try:
            trainer = importlib.import_module(TRAINER_MODULE)
        except ImportError as error:
            return message(f"Keras' private {TRAINER_MODULE}", f"is missing ({error})", _MWMS)
    missing = [name for name in TRAINER_FUNCTIONS if not callable(getattr(trainer, name, None))]
    cls = getattr(trainer, "TensorFlowTrainer", None)
    if cls is None:
        missing.append("TensorFlowTrainer")
    else:
        missing += [
            f"TensorFlowTrainer.{name}"
            for name in TRAINER_METHODS
            if not callable(getattr(cls, name, None))
        ]
        # An instance attribute, set in __init__: read the property that returns it.
        try:
            import inspect

            source = inspect.getsource(cls)
        except (OSError, TypeError):  # no sources installed: cannot tell, trust it
            source = "self._distribute_strategy"
        if "self._distribute_strategy" not in source:
            missing.append("TensorFlowTrainer._distribute_strategy")
    if missing:
        return message(
            f"Keras' private {TRAINER_MODULE} ({', '.join(missing)})", "is missing", _MWMS
        )
    return None


def tensorflow_trainer():
    """Keras' TensorFlow trainer module, checked; raises :class:`KerasInternalsError` if not fit."""
    problem = check_tensorflow_trainer()
    if problem is not None:
        raise KerasInternalsError(problem)
    return importlib.import_module(TRAINER_MODULE)


def problems():
    """The messages of every failed check; empty when everything the package needs is there.

    The trainer check runs only when TensorFlow is the backend or already
    imported, the variable check only on the TensorFlow backend.
    """
    found = [DATA_LAYER_PROBLEM]
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        found.append(check_tensorflow_trainer())
    if keras.backend.backend() == "tensorflow":
        found.append(check_variable_value(keras.Variable([0.0])))
    return [problem for problem in found if problem is not None]
