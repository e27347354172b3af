"""Masking noise (Vincent et al., 2008), the corruption of section 4.1."""

import keras
from keras import ops

from keras_sparse_rect._validation import check_rate, check_seed
from keras_sparse_rect.api import register
from keras_sparse_rect.random import ReplicaAwareSeedGenerator, uniform


@register
class MaskingNoise(keras.layers.Layer):
    """Sets each input to 0 with probability ``rate``, in training only.

    Unlike ``keras.layers.Dropout`` the surviving inputs are not rescaled: the
    denoising autoencoder must reconstruct the clean input from a masked copy
    (section 4.1 masks each pixel with probability 0.25). With
    ``training=False`` the input is returned unchanged. Under tf.distribute
    each replica draws its own mask.

    Args:
        rate: probability of masking each input, in [0, 1).
        seed: int seed in [0, 2**32 - 1]; ``None`` draws one at random.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``, ...).

    Raises:
        ValueError: ``rate`` is outside [0, 1) or ``seed`` is not a valid seed.

    Example:

    >>> import keras, numpy as np
    >>> from keras_sparse_rect.layers import MaskingNoise
    >>> noise = MaskingNoise(0.25, seed=1)
    >>> y = keras.ops.convert_to_numpy(noise(np.ones((2, 8), "float32"), training=True))
    >>> sorted(set(y.ravel().tolist()) | {0.0})  # masked to 0, the rest untouched
    [0.0, 1.0]
    >>> keras.ops.convert_to_numpy(noise(np.ones((1, 3), "float32"))).tolist()  # inference
    [[1.0, 1.0, 1.0]]
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = check_seed("seed", seed)
        self.seed_generator = ReplicaAwareSeedGenerator(self.seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        draw = uniform(ops.shape(inputs), self.seed_generator)
        return ops.where(draw < self.rate, ops.zeros_like(inputs), inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
