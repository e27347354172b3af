"""The paper's L1 activity penalty, with the same value on every Keras 3 version."""

import keras
from keras import ops

from keras_sparse_rect._validation import check_non_negative
from keras_sparse_rect.api import register


def _keras_divides_activity_loss_by_batch():
    # keras/src/layers/layer.py, "Normalize by batch size": added in Keras 3.14.
    major, minor = (int(part) for part in keras.__version__.split(".")[:2])
    return (major, minor) >= (3, 14)


_DIVIDED_BY_BATCH = _keras_divides_activity_loss_by_batch()


@register
class ActivityL1(keras.regularizers.Regularizer):
    """L1 penalty on activations: ``l1 * mean over the batch of sum over units |h|``.

    Sections 3.1 and 4.1: "an L1 penalty on the activations with a coefficient of
    0.001 was used during pre-training and fine-tuning" to promote sparsity and
    bound the rectifier's activations. The value is that of Glorot's code: the
    sum over units of ``|h|``, averaged over the examples of the batch.

    Use it as a layer's ``activity_regularizer``. Since Keras 3.14 a layer divides
    its activity regularizer's value by the batch size before adding it to the
    model's losses (Keras 3.13 and older did not). ``__call__`` returns what that
    hook expects, so that **the loss the layer adds is** :meth:`penalty` **on every
    Keras 3 version**. Call :meth:`penalty` for the paper's number itself.

    Args:
        l1: the coefficient, >= 0 (the paper uses 0.001).

    Example:

    >>> import keras
    >>> from keras_sparse_rect.layers import SignFlippedRectifier
    >>> from keras_sparse_rect.regularizers import ActivityL1
    >>> layer = SignFlippedRectifier(seed=0, activity_regularizer=ActivityL1(1e-3))
    """

    def __init__(self, l1=0.001):
        self.l1 = check_non_negative("l1", l1)

    def penalty(self, x):
        """The paper's value: ``l1 * mean_batch(sum_units |x|)``."""
        x = ops.convert_to_tensor(x)
        if len(x.shape) == 0:
            return self.l1 * ops.abs(x)
        per_example = ops.sum(ops.reshape(ops.abs(x), (ops.shape(x)[0], -1)), axis=1)
        return self.l1 * ops.mean(per_example)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        if _DIVIDED_BY_BATCH and len(x.shape) > 0:
            # Keras will divide by the batch size: hand it the batch total.
            return self.l1 * ops.sum(ops.abs(x))
        return self.penalty(x)

    def get_config(self):
        return {"l1": self.l1}
