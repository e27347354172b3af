"""Deep sparse rectifier networks (Glorot, Bordes & Bengio, AISTATS 2011) for Keras 3.

The numerics (``activations``, ``layers``, ``regularizers``, ``losses``, ``metrics``,
``utils``) are pure ``keras.ops`` and run on every Keras backend. Heavier parts
(``data``, ``distribute``, ``tuning``) are imported on demand, so that
``import keras_sparse_rect`` stays cheap.
"""

from keras_sparse_rect import (
    activations,
    callbacks,
    inference,
    layers,
    losses,
    metrics,
    models,
    regularizers,
    utils,
)

__version__ = "0.1.0"

__all__ = [
    "activations",
    "callbacks",
    "inference",
    "layers",
    "losses",
    "metrics",
    "models",
    "regularizers",
    "utils",
    "__version__",
]
