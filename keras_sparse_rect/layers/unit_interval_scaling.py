"""Scaling rectifier activations into [0, 1] (section 3.2, strategy 2)."""

import keras
import numpy as np
from keras import ops

from keras_sparse_rect._arrays import concrete_value
from keras_sparse_rect._validation import check_min_rank
from keras_sparse_rect.api import register

_NOT_ADAPTED = -1.0


def first_non_finite(array):
    """``(index, value)`` of the first NaN or infinity of ``array`` (C order), or ``None``.

    ``array``: a numpy array or a ``scipy.sparse`` matrix (whose implicit zeros
    are finite). A float64 sum is the quick test: it is finite whenever every
    value is (short of float64 overflow, which falls back to the full scan).
    """
    if hasattr(array, "tocoo"):  # scipy.sparse
        coo = array.tocoo()
        bad = np.flatnonzero(~np.isfinite(coo.data)) if coo.data.dtype.kind == "f" else []
        if not len(bad):
            return None
        rows, cols = coo.row[bad], coo.col[bad]
        first = np.lexsort((cols, rows))[0]
        return (int(rows[first]), int(cols[first])), coo.data[bad[first]]
    array = np.asarray(array)
    if array.dtype.kind != "f" or np.isfinite(np.sum(array, dtype=np.float64)):
        return None
    finite = np.isfinite(array)
    if finite.all():
        return None
    index = tuple(int(i) for i in np.unravel_index(np.argmin(finite), array.shape))
    return index, array[index]


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
    too. A unit that never fired keeps scale 0 and outputs 0.

    **Adapt first.** The layer must be adapted (or loaded, adapted, from a
    saved model or weights file, or given an adapted scale with
    ``set_weights``, as after ``keras.models.clone_model``) before it is called
    on data: calling it before raises ``ValueError`` rather than passing
    unscaled values through. Until then ``scale`` holds -1, which no adapted
    scale can. Building a model with it (symbolic inputs) needs no adapting.

    Raises:
        ValueError: from a call before the layer is adapted; from ``build``, an
            input of rank < 2 or with an unknown last dimension; from
            :meth:`adapt`, see there.

    Example:

    >>> import keras, numpy as np
    >>> from keras_sparse_rect.layers import UnitIntervalScaling
    >>> h = np.array([[0.0, 2.0], [4.0, 1.0]], "float32")
    >>> layer = UnitIntervalScaling()
    >>> layer.adapt(h)
    >>> keras.ops.convert_to_numpy(layer(h)).tolist()
    [[0.0, 1.0], [1.0, 0.5]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._adapted = False

    def build(self, input_shape):
        check_min_rank(type(self).__name__, input_shape, 2)
        if input_shape[-1] is None:
            raise ValueError(
                "UnitIntervalScaling needs a known last dimension; got "
                f"input_shape={tuple(input_shape)}."
            )
        # -1 marks "not adapted": an adapted scale is a maximum of |h|, never negative.
        self.scale = self.add_weight(
            name="scale",
            shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(_NOT_ADAPTED),
            trainable=False,
        )

    @property
    def adapted(self):
        """Whether ``scale`` is set: by :meth:`adapt`, a load, or ``set_weights``.

        Read from the variable itself where its value is concrete (eagerly, and
        inside ``tf.function``), so that a model cloned with
        ``keras.models.clone_model`` and given the weights with ``set_weights``
        runs; inside a JAX trace the last answer read eagerly holds.
        """
        if not self._adapted and self.built:
            value = concrete_value(self.scale)  # None, or empty, where not readable
            self._adapted = (
                value is not None and value.size == self.scale.shape[0] and bool(np.all(value >= 0))
            )
        return self._adapted

    def adapt(self, data, batch_size=1024):
        """Sets ``scale`` to the per-unit maximum of ``|data|``.

        Args:
            data: a 2-D array (numpy, scipy sparse), or an iterable of batches
                (e.g. a ``tf.data.Dataset``; ``(x, y)`` batches use ``x``).
            batch_size: rows per step when ``data`` is an array.

        Raises:
            ValueError: ``data`` is empty, has another number of units than
                the layer was built for, or holds NaN or infinity (the
                message gives the index of the first, counting rows across
                batches).
        """
        maximum, rows = None, 0
        for batch in _iter_batches(data, batch_size):
            batch_max = np.max(np.abs(batch.reshape(-1, batch.shape[-1])), axis=0)
            if not np.isfinite(batch_max).all():
                found = first_non_finite(batch)
                if found is not None:
                    index, value = found
                    index = (rows + index[0], *index[1:])
                    raise ValueError(
                        f"`data` must be finite; UnitIntervalScaling.adapt found {value} at "
                        f"index {index} (the first NaN or infinity)."
                    )
            rows += batch.shape[0] if batch.ndim else 0
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
        self._adapted = True

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self._adapted = False
        self.adapted  # noqa: B018  (read now, eagerly: a later JAX trace cannot)

    def call(self, inputs):
        if not self.adapted:  # read once when tracing, then compiled away
            raise ValueError(
                f"UnitIntervalScaling {self.name!r} is called before adapt: its scale (the "
                "per-unit maximum of |h| on the training data) is not set. Call "
                "adapt(training_data) on it first (DenoisingAutoencoder.adapt or fit does "
                "this for its input_scaling), or load it from a saved model."
            )
        scale = ops.cast(self.scale, inputs.dtype)
        safe = ops.where(scale > 0, scale, ops.ones_like(scale))
        scaled = ops.where(scale > 0, ops.abs(inputs) / safe, ops.zeros_like(inputs))
        return ops.minimum(scaled, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape
