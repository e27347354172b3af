"""Scaling rectifier activations into [0, 1] (section 3.2, strategy 2)."""

import keras
import numpy as np
from keras import ops

from keras_sparse_rect._validation import check_min_rank
from keras_sparse_rect.api import register


def _iter_batches(data, batch_size):
    """Yields numpy batches of ``data``: an array, or an iterable of batches."""
    if hasattr(data, "shape") and not hasattr(data, "element_spec"):
        array = np.asarray(data) if not hasattr(data, "tocsr") else data
        for start in range(0, array.shape[0], batch_size):
            batch = array[start : start + batch_size]
            yield batch.toarray() if hasattr(batch, "toarray") else np.asarray(batch)
        return
    for batch in data:
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        yield np.asarray(keras.ops.convert_to_numpy(batch))


@register
class UnitIntervalScaling(keras.layers.Layer):
    """Maps rectifier activations into [0, 1]: ``|h| / max|h|`` per unit, clipped.

    Section 3.2, strategy 2: "scale the rectifier activation values coming from
    the previous encoding layer to bound them between 0 and 1, then use a
    sigmoid activation function for the reconstruction layer, along with a
    cross-entropy reconstruction cost" (the paper's choice for text, section 4.2).

    **Scale used.** Each unit is divided by the largest magnitude it reached on
    the training data, stored as the non-trainable weight ``scale`` and set by
    :meth:`adapt`. A per-unit maximum (rather than one global maximum) keeps
    every unit's full [0, 1] range, so no unit's reconstruction target collapses
    towards 0 because another unit has larger activations; the maximum (rather
    than, say, a percentile) guarantees that training targets lie in [0, 1]
    without clipping. Values beyond the training maximum (at test time) are
    clipped to 1. The magnitude ``|h|`` is scaled, so the negated units of a
    :class:`SignFlippedRectifier` (whose sign is fixed per unit) map into [0, 1]
    too. A unit that never fired keeps scale 0 and outputs 0. Before ``adapt``
    the scale is 1 (the layer only clips).

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.layers import UnitIntervalScaling
    >>> h = np.array([[0.0, 2.0], [4.0, 1.0]], "float32")
    >>> layer = UnitIntervalScaling()
    >>> layer.adapt(h)
    >>> layer(h).numpy().tolist()  # doctest: +SKIP
    [[0.0, 1.0], [1.0, 0.5]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        check_min_rank(type(self).__name__, input_shape, 2)
        if input_shape[-1] is None:
            raise ValueError(
                "UnitIntervalScaling needs a known last dimension; got "
                f"input_shape={tuple(input_shape)}."
            )
        self.scale = self.add_weight(
            name="scale", shape=(input_shape[-1],), initializer="ones", trainable=False
        )

    def adapt(self, data, batch_size=1024):
        """Sets ``scale`` to the per-unit maximum of ``|data|``.

        Args:
            data: a 2-D array (numpy, scipy sparse), or an iterable of batches
                (e.g. a ``tf.data.Dataset``; ``(x, y)`` batches use ``x``).
            batch_size: rows per step when ``data`` is an array.
        """
        maximum = None
        for batch in _iter_batches(data, batch_size):
            batch_max = np.max(np.abs(batch.reshape(-1, batch.shape[-1])), axis=0)
            maximum = batch_max if maximum is None else np.maximum(maximum, batch_max)
        if maximum is None:
            raise ValueError("UnitIntervalScaling.adapt got no data (an empty input).")
        if not self.built:
            self.build((None, maximum.shape[0]))
        if maximum.shape[0] != self.scale.shape[0]:
            raise ValueError(
                f"UnitIntervalScaling.adapt got data with {maximum.shape[0]} units; "
                f"the layer was built for {self.scale.shape[0]}."
            )
        self.scale.assign(maximum.astype("float32"))

    def call(self, inputs):
        scale = ops.cast(self.scale, inputs.dtype)
        safe = ops.where(scale > 0, scale, ops.ones_like(scale))
        scaled = ops.where(scale > 0, ops.abs(inputs) / safe, ops.zeros_like(inputs))
        return ops.minimum(scaled, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape
