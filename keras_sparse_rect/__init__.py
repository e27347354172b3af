"""Deep sparse rectifier networks (Glorot, Bordes & Bengio, AISTATS 2011) for Keras 3.

The numerics (``activations``, ``layers``, ``regularizers``, ``losses``, ``metrics``,
``utils``) are pure ``keras.ops`` and run on every Keras backend. Every submodule
is imported on first use (``keras_sparse_rect.layers`` or ``from keras_sparse_rect
import layers``), so that ``import keras_sparse_rect`` and the configurations in
``keras_sparse_rect.experiments.configs`` load neither Keras nor TensorFlow: an
app can check its flags in a fraction of a second.
"""

import importlib

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
    "regularizers",
    "sparse",
    "stats",
    "tuning",
    "utils",
)

__all__ = [*_SUBMODULES, "__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBMODULES])
