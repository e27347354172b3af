"""Backend tensors and variables as numpy arrays: the one conversion helper."""

import keras
import numpy as np


def to_numpy(x):
    """A numpy copy of ``x`` (a backend tensor, a Keras variable or an array).

    The copy owns its memory, so assigning it to another model's variable never
    shares a buffer with ``x`` (on JAX, shared buffers are freed together).

    Example:

    >>> import keras
    >>> to_numpy(keras.ops.ones((2,))).tolist()
    [1.0, 1.0]
    """
    return np.array(keras.ops.convert_to_numpy(x))
