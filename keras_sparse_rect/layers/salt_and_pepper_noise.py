"""Salt-and-pepper noise for binary input (section 4.2)."""

import keras
from keras import ops

from keras_sparse_rect._validation import check_finite, check_rate, check_seed
from keras_sparse_rect.api import register
from keras_sparse_rect.random import ReplicaAwareSeedGenerator, uniform


@register
class SaltAndPepperNoise(keras.layers.Layer):
    """Corrupts each input with probability ``rate`` to ``low`` or ``high``, in training.

    Section 4.2 uses it on the binary bag-of-words input of the first layer:
    "masking some inputs by zeros and others by ones". A corrupted input becomes
    ``low`` or ``high`` with equal probability (so about ``rate / 2`` of the
    inputs go to each value). With ``training=False`` the input is returned
    unchanged. Under tf.distribute each replica draws its own noise.

    Args:
        rate: probability of corrupting each input, in [0, 1).
        low: the "pepper" value (default 0).
        high: the "salt" value (default 1), greater than ``low``.
        seed: int seed in [0, 2**32 - 1]; ``None`` draws one at random.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Raises:
        ValueError: ``rate`` is outside [0, 1), ``low`` or ``high`` is not a
            finite number or ``high <= low``, or ``seed`` is not a valid seed.

    Example:

    >>> import keras, numpy as np
    >>> from keras_sparse_rect.layers import SaltAndPepperNoise
    >>> x = np.full((4, 100), 0.5, "float32")
    >>> y = keras.ops.convert_to_numpy(SaltAndPepperNoise(0.5, seed=1)(x, training=True))
    >>> sorted(set(y.ravel().tolist()))  # pepper, untouched, salt
    [0.0, 0.5, 1.0]
    """

    def __init__(self, rate, low=0.0, high=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        low, high = check_finite("low", low), check_finite("high", high)
        if not high > low:
            raise ValueError(
                f"`high` must be greater than `low`; got low={low!r} and high={high!r}."
            )
        self.low, self.high = low, high
        self.seed = check_seed("seed", seed)
        self.seed_generator = ReplicaAwareSeedGenerator(self.seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        # One uniform draw decides both whether and how to corrupt: below
        # rate / 2 -> low, in [rate / 2, rate) -> high, otherwise unchanged.
        draw = uniform(ops.shape(inputs), self.seed_generator)
        low = ops.full_like(inputs, self.low)
        high = ops.full_like(inputs, self.high)
        return ops.where(draw < 0.5 * self.rate, low, ops.where(draw < self.rate, high, inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "low": self.low,
            "high": self.high,
            "seed": self.seed,
        }
