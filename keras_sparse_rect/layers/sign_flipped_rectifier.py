"""The sign-flipped rectifier of section 4.1."""

import keras
import numpy as np
from keras import ops

from keras_sparse_rect._validation import check_min_rank, check_rate, check_seed
from keras_sparse_rect.api import register


@register
class SignFlippedRectifier(keras.layers.Layer):
    """max(0, x) on every unit, with the output of a fixed subset of units negated.

    The rectifier is the neuron of section 3.1: its output is exactly zero for any input
    <= 0, which gives the exact sparsity of section 2.2. Section 4.1: "half of the units
    output values are multiplied by -1. This serves to cancel out the mean activation
    value for each layer." Exactly ``round(flip_fraction * units)`` units (Python's
    ``round``) output ``-max(0, x)``; which ones is drawn once, from ``seed``, when the
    layer is built. The sign pattern is a non-trainable weight named ``signs``, so it is
    saved with the model and a reloaded model computes the same function. Sparsity is
    unchanged: a unit is exactly zero whenever its input is <= 0.

    Args:
        flip_fraction: fraction of units whose output is negated, in [0, 1].
        seed: int seed of the sign pattern, in [0, 2**32 - 1]; ``None`` draws one
            at random.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``,
            ``activity_regularizer``, ...).

    Raises:
        ValueError: ``flip_fraction`` is outside [0, 1] or ``seed`` is not a valid
            seed; from ``build``, an input of rank < 2 or an unknown last
            dimension; from a call, an input whose last dimension differs from
            the built one.

    Example:

    >>> import keras
    >>> from keras_sparse_rect.layers import SignFlippedRectifier
    >>> from keras_sparse_rect.regularizers import ActivityL1
    >>> inputs = keras.Input((784,))
    >>> x = keras.layers.Dense(1000)(inputs)
    >>> h = SignFlippedRectifier(seed=0, activity_regularizer=ActivityL1(1e-3))(x)
    >>> layer = SignFlippedRectifier(seed=0)
    >>> y = keras.ops.convert_to_numpy(layer(keras.ops.full((1, 4), 2.0)))
    >>> sorted(y.ravel().tolist())  # half of the units negated, none of them zero
    [-2.0, -2.0, 2.0, 2.0]
    >>> bool(keras.ops.convert_to_numpy(layer(keras.ops.full((1, 4), -1.0))).any())  # all off
    False
    """

    def __init__(self, flip_fraction=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.flip_fraction = check_rate("flip_fraction", flip_fraction, allow_one=True)
        self.seed = check_seed("seed", seed)
        self.supports_masking = True

    def build(self, input_shape):
        check_min_rank(type(self).__name__, input_shape, 2)
        units = input_shape[-1]
        if units is None:
            raise ValueError(
                "SignFlippedRectifier needs a known last dimension (units); got "
                f"input_shape={tuple(input_shape)}."
            )
        num_flipped = round(self.flip_fraction * units)
        seed = self.seed if self.seed is not None else np.random.randint(2**31 - 1)
        pattern = np.ones(units, dtype="float32")
        pattern[np.random.default_rng(seed).permutation(units)[:num_flipped]] = -1.0
        self.signs = self.add_weight(
            name="signs",
            shape=(units,),
            initializer=keras.initializers.Constant(pattern),
            trainable=False,
        )

    def _check_units(self, shape):
        """Raises if the (static) last dimension of ``shape`` is not the built units.

        Only the static shape is read (``None`` dimensions pass), so this holds
        under ``tf.function``/XLA and ``jax.jit`` tracing alike.
        """
        try:
            shape = tuple(shape)
        except (TypeError, ValueError):  # a TensorShape of unknown rank
            return
        if not self.built or not shape:
            return
        units, last = int(self.signs.shape[0]), shape[-1]
        if last is not None and int(last) != units:
            raise ValueError(
                f"SignFlippedRectifier {self.name!r} was built for units={units}; got an "
                f"input whose last dimension is {int(last)} (input shape {tuple(shape)})."
            )

    def call(self, inputs):
        self._check_units(inputs.shape)
        return ops.relu(inputs) * ops.cast(self.signs, inputs.dtype)

    def compute_output_shape(self, input_shape):
        self._check_units(input_shape)
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "flip_fraction": self.flip_fraction,
            "seed": self.seed,
        }
