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


def concrete_value(variable):
    """``variable``'s current value as numpy, or ``None`` where a trace hides it.

    Eagerly (and on TensorFlow, inside ``tf.function``, through ``tf.init_scope``)
    the value is read; inside a JAX trace the variable is a tracer and has no
    value yet.

    Example:

    >>> import keras
    >>> concrete_value(keras.Variable([1.0, 2.0])).tolist()
    [1.0, 2.0]
    """
    try:
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf  # TensorFlow only: lift the read out of a tf.function.

            with tf.init_scope():
                value = variable.value
                return None if value is None else to_numpy(value)
        value = variable.value  # None while JAX's fit holds the values itself
        return None if value is None else to_numpy(value)
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        return None
