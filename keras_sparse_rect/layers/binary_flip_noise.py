"""Salt-and-pepper noise for sparse binary input, with one rate per direction (section 4.2)."""

import math

import keras
from keras import ops

from keras_sparse_rect._validation import check_rate, check_seed
from keras_sparse_rect.api import register
from keras_sparse_rect.random import ReplicaAwareSeedGenerator, uniform
from keras_sparse_rect.sparse import is_sparse, make_sparse, num_rows, sparse_parts

# Salt candidates per row: mean + this many standard deviations of the binomial.
_SALT_SIGMAS = 6.0


@register
class BinaryFlipNoise(keras.layers.Layer):
    """Turns ones into zeros with ``pepper_rate`` and zeros into ones with ``salt_rate``.

    Section 4.2 corrupts the binary bag of words of the first layer with "salt
    and pepper noise (i.e. masking some inputs by zeros and others by ones)". On
    sparse input the two directions need their own rates, as in Glorot's code:
    with 0.6% of ones, one rate for both would either erase the few ones or
    hardly touch them. Each non-zero input becomes 0 with probability
    ``pepper_rate`` and each zero becomes 1 with probability ``salt_rate``
    (Glorot's best text setting: 0.8 and 0.005). With ``training=False`` the
    input is returned unchanged. Under tf.distribute each replica draws its own
    noise.

    **Sparse input** (``tf.SparseTensor``, JAX ``BCOO``) gives sparse output
    with a fixed number of entries per batch: the input's entries (the erased
    ones kept as explicit zeros) followed by ``salt_slots`` entries per row. A
    row with ``z`` zeros gets ``Binomial(z, salt_rate)`` ones at distinct random
    zero positions, the same law as flipping each zero on its own; the unused
    slots hold explicit zeros. ``salt_slots`` is the binomial's mean plus six
    standard deviations, so truncation is negligible. The output's entries are
    not in canonical order: feed it to :class:`SparseDense`.

    Args:
        pepper_rate: probability that a non-zero input becomes 0, in [0, 1].
        salt_rate: probability that a zero input becomes 1, in [0, 1).
        seed: int seed in [0, 2**32 - 1]; ``None`` draws one at random.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Raises:
        ValueError: a rate is outside its interval or ``seed`` is not a valid seed.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.layers import BinaryFlipNoise
    >>> x = (np.random.rand(4, 5000) < 0.006).astype("float32")
    >>> y = BinaryFlipNoise(pepper_rate=0.8, salt_rate=0.005, seed=1)(x, training=True)
    >>> tuple(y.shape)
    (4, 5000)
    """

    def __init__(self, pepper_rate, salt_rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.pepper_rate = check_rate("pepper_rate", pepper_rate, allow_one=True)
        self.salt_rate = check_rate("salt_rate", salt_rate)
        self.seed = check_seed("seed", seed)
        self.seed_generator = ReplicaAwareSeedGenerator(self.seed)
        self.built = True

    def salt_slots(self, width):
        """Salt entries reserved per row of a sparse batch with ``width`` columns."""
        if self.salt_rate == 0.0:
            return 0
        mean = width * self.salt_rate
        std = math.sqrt(width * self.salt_rate * (1.0 - self.salt_rate))
        return int(min(width, math.ceil(mean + _SALT_SIGMAS * std) + 1))

    def call(self, inputs, training=False):
        if not training or (self.pepper_rate == 0.0 and self.salt_rate == 0.0):
            return inputs
        if is_sparse(inputs):
            return self._sparse_call(inputs)
        inputs = ops.convert_to_tensor(inputs)
        draw = uniform(ops.shape(inputs), self.seed_generator)
        zeros, ones = ops.zeros_like(inputs), ops.ones_like(inputs)
        on = ops.where(draw < self.pepper_rate, zeros, inputs)
        off = ops.where(draw < self.salt_rate, ones, inputs)
        return ops.where(ops.not_equal(inputs, 0), on, off)

    def _sparse_call(self, inputs):
        indices, values = sparse_parts(inputs)
        rows, width = num_rows(inputs), inputs.shape[1]
        draw = uniform(ops.shape(values), self.seed_generator)
        values = ops.where(draw < self.pepper_rate, ops.zeros_like(values), values)
        slots = self.salt_slots(width)
        if slots == 0:
            return make_sparse(indices, values, (rows, width))
        # Occupied positions (the input's non-zeros) never receive salt.
        occupied = ops.scatter(
            indices, ops.cast(ops.not_equal(sparse_parts(inputs)[1], 0), "float32"), (rows, width)
        )
        occupied = ops.cast(occupied > 0, "float32")
        scores = uniform(ops.shape(occupied), self.seed_generator)
        _, columns = ops.top_k(scores - 2.0 * occupied, slots)
        zeros_per_row = width - ops.sum(occupied, axis=1)
        counts = keras.random.binomial(
            ops.shape(zeros_per_row), zeros_per_row, self.salt_rate, seed=self.seed_generator
        )
        slot = ops.arange(slots, dtype="float32")
        salt = ops.cast(slot[None, :] < counts[:, None], values.dtype)
        row_ids = ops.broadcast_to(
            ops.expand_dims(ops.arange(rows, dtype=indices.dtype), 1), ops.shape(columns)
        )
        salt_indices = ops.stack(
            [ops.reshape(row_ids, (-1,)), ops.reshape(ops.cast(columns, indices.dtype), (-1,))],
            axis=1,
        )
        return make_sparse(
            ops.concatenate([indices, salt_indices], axis=0),
            ops.concatenate([values, ops.reshape(salt, (-1,))], axis=0),
            (rows, width),
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "pepper_rate": self.pepper_rate,
            "salt_rate": self.salt_rate,
            "seed": self.seed,
        }
