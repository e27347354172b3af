"""Reconstruction costs of denoising autoencoders (section 3.2).

Each cost is summed over the input units of an example (as in Glorot's code) and
averaged over the batch by the usual Keras reduction.

- :class:`SoftplusQuadratic`: a softplus reconstruction layer with a quadratic
  cost (strategy 1, the paper's choice for images).
- :class:`SigmoidCrossEntropy`: a sigmoid reconstruction layer with a
  cross-entropy cost (strategy 2 on scaled rectifier activations, the paper's
  choice for text; also for binary input).
- :class:`TanhCrossEntropy`: the cross-entropy used for tanh autoencoders
  (section 4.1): targets and ``tanh`` outputs mapped linearly into [0, 1].

With ``from_logits=True`` (the default) ``y_pred`` is the decoder's
pre-activation, so the costs are computed stably (``softplus(a) - t * a``
for the cross-entropies) instead of through ``log(sigmoid(a))``.

Example:

>>> import keras
>>> from keras_sparse_rect import losses
>>> decoder = keras.layers.Dense(784)  # linear: outputs logits
>>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(1000), decoder])
>>> model.compile("sgd", loss=losses.SoftplusQuadratic())
"""

import keras
from keras import ops

from keras_sparse_rect._validation import check_bool
from keras_sparse_rect.api import register


def _sum_over_units(values):
    if len(values.shape) <= 1:
        return values
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)


def _check_target_range(target_range):
    try:
        low, high = (float(v) for v in target_range)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not high > low:
        raise ValueError(
            "`target_range` must be (low, high) with high > low; got "
            f"target_range={target_range!r}."
        )
    return low, high


def _prepare(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    dtype = y_pred.dtype if "float" in str(y_pred.dtype) else "float32"
    return ops.cast(y_true, dtype), ops.cast(y_pred, dtype)


@register
def softplus_quadratic(y_true, y_pred, from_logits=True):
    """Per-example ``sum (x - softplus(a))^2`` (or ``sum (x - y_pred)^2``)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    reconstruction = ops.softplus(y_pred) if from_logits else y_pred
    return _sum_over_units(ops.square(y_true - reconstruction))


@register
def sigmoid_cross_entropy(y_true, y_pred, from_logits=True):
    """Per-example ``-sum t log p + (1 - t) log(1 - p)`` with ``p = sigmoid(a)``.

    Targets must lie in [0, 1] (binary input, or :class:`UnitIntervalScaling`).
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if from_logits:
        # -[t log s(a) + (1-t) log(1-s(a))] = softplus(a) - t a, exact and stable.
        values = ops.softplus(y_pred) - y_true * y_pred
    else:
        p = ops.clip(y_pred, keras.config.epsilon(), 1.0 - keras.config.epsilon())
        values = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return _sum_over_units(values)


@register
def tanh_cross_entropy(y_true, y_pred, from_logits=True, target_range=(-1.0, 1.0)):
    """Cross-entropy of a tanh autoencoder.

    The tanh output is mapped to ``p = (1 + tanh(a)) / 2 = sigmoid(2a)`` and the
    target ``x`` in ``target_range`` to ``t = (x - low) / (high - low)``; then the
    binary cross-entropy of ``t`` under ``p`` (Glorot's code). Use
    ``target_range=(0, 1)`` for pixels in [0, 1] and the default (-1, 1) for
    tanh hidden activations or data scaled to [-1, 1] such as NORB.
    """
    low, high = _check_target_range(target_range)
    y_true, y_pred = _prepare(y_true, y_pred)
    target = (y_true - low) / (high - low)
    if from_logits:
        return sigmoid_cross_entropy(target, 2.0 * y_pred, from_logits=True)
    return sigmoid_cross_entropy(target, (1.0 + y_pred) / 2.0, from_logits=False)


class _ReconstructionLoss(keras.losses.Loss):
    """A ``keras.losses.Loss`` around one of the functions above."""

    fn = None

    def __init__(self, from_logits=True, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name or self.default_name, reduction=reduction, dtype=dtype)
        self.from_logits = check_bool("from_logits", from_logits)

    def call(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, from_logits=self.from_logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


@register
class SoftplusQuadratic(_ReconstructionLoss):
    """Quadratic cost on a softplus decoder (section 3.2, strategy 1)."""

    default_name = "softplus_quadratic"
    fn = staticmethod(softplus_quadratic)


@register
class SigmoidCrossEntropy(_ReconstructionLoss):
    """Cross-entropy on a sigmoid decoder, stable from logits (section 3.2, strategy 2)."""

    default_name = "sigmoid_cross_entropy"
    fn = staticmethod(sigmoid_cross_entropy)


@register
class TanhCrossEntropy(_ReconstructionLoss):
    """Cross-entropy for tanh autoencoders (section 4.1); see :func:`tanh_cross_entropy`."""

    default_name = "tanh_cross_entropy"

    def __init__(self, from_logits=True, target_range=(-1.0, 1.0), **kwargs):
        super().__init__(from_logits=from_logits, **kwargs)
        self.target_range = _check_target_range(target_range)

    def call(self, y_true, y_pred):
        return tanh_cross_entropy(
            y_true, y_pred, from_logits=self.from_logits, target_range=self.target_range
        )

    def get_config(self):
        return {**super().get_config(), "target_range": list(self.target_range)}
