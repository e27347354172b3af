"""Registration of serializable objects, in one place.

Every public layer, loss, metric, regularizer and activation goes through
:func:`register`, so that ``.keras`` files that use them load back without
``custom_objects``.
"""

import keras

PACKAGE = "keras_sparse_rect"


def register(obj):
    """Registers ``obj`` with Keras under the ``keras_sparse_rect>`` prefix."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(obj)
