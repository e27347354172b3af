"""Deep sparse rectifier networks (Glorot, Bordes & Bengio, AISTATS 2011) for Keras 3.

The numerics (``activations``, ``layers``, ``regularizers``, ``losses``, ``metrics``,
``utils``) are pure ``keras.ops`` and run on every Keras backend. Every submodule
is imported on first use (``keras_sparse_rect.layers`` or ``from keras_sparse_rect
import layers``), so that ``import keras_sparse_rect`` and the configurations in
``keras_sparse_rect.experiments.configs`` load neither Keras nor TensorFlow: an
app can check its flags in a fraction of a second.

Saved models (``.keras``) name the library's classes, which Keras finds only once
they are registered. ``import keras_sparse_rect`` registers them itself when Keras
is already imported (``import keras`` first, as isort orders it); otherwise call
:func:`register_all`, or load with :func:`load_model`:

>>> import keras_sparse_rect
>>> model = keras_sparse_rect.load_model("runs/image_experiment/model.keras")  # doctest: +SKIP
"""

import importlib
import sys

__version__ = "0.1.0"

#: The public submodules, loaded on first access.
_SUBMODULES = (
    "activations",
    "callbacks",
    "data",
    "distribute",
    "experiments",
    "inference",
    "layers",
    "losses",
    "metrics",
    "models",
    "names",
    "regularizers",
    "sparse",
    "stats",
    "tuning",
    "utils",
)

#: The submodules that register serializable objects (layers, activations, losses, ...).
_REGISTERING = (
    "activations",
    "regularizers",
    "losses",
    "metrics",
    "layers",
    "models",
    "inference",
    "data.distortions",
)

__all__ = [*_SUBMODULES, "__version__", "load_model", "register_all"]


def register_all():
    """Registers every serializable object of the library with Keras.

    Imports the submodules that define them (about 0.1 s once Keras is loaded),
    so that ``keras.saving.load_model`` finds, without ``custom_objects``, every
    class and function a ``.keras`` file of this library names. Idempotent.
    """
    for name in _REGISTERING:
        importlib.import_module(f"{__name__}.{name}")


def load_model(filepath, **kwargs):
    """``keras.saving.load_model`` after :func:`register_all`.

    Args:
        filepath: the ``.keras`` (or legacy ``.h5``) file.
        **kwargs: passed to ``keras.saving.load_model`` (``custom_objects``,
            ``compile``, ``safe_mode``).

    Example:

    >>> model = keras_sparse_rect.load_model("model.keras")  # doctest: +SKIP
    """
    register_all()
    import keras

    return keras.saving.load_model(filepath, **kwargs)


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBMODULES])


# With Keras already loaded, registering costs little and lets a plain
# keras.saving.load_model read this library's files; without it, Keras stays unloaded.
if "keras" in sys.modules:
    register_all()
