"""The paper's layers, one file each (pure ``keras.ops``: every backend)."""

# A saved layer names the package's activations and regularizers in its config (e.g. a
# SignFlippedRectifier's ActivityL1): importing the layers registers those too, so that
# `import keras_sparse_rect.layers` is enough to load a network of the library.
from keras_sparse_rect import activations as _activations  # noqa: F401
from keras_sparse_rect import regularizers as _regularizers  # noqa: F401
from keras_sparse_rect.layers.binary_flip_noise import BinaryFlipNoise
from keras_sparse_rect.layers.masking_noise import MaskingNoise
from keras_sparse_rect.layers.noise import NOISE_KINDS, make_noise
from keras_sparse_rect.layers.salt_and_pepper_noise import SaltAndPepperNoise
from keras_sparse_rect.layers.sign_flipped_rectifier import SignFlippedRectifier
from keras_sparse_rect.layers.sparse_dense import SparseDense
from keras_sparse_rect.layers.unit_interval_scaling import UnitIntervalScaling

__all__ = [
    "NOISE_KINDS",
    "BinaryFlipNoise",
    "MaskingNoise",
    "SaltAndPepperNoise",
    "SignFlippedRectifier",
    "SparseDense",
    "UnitIntervalScaling",
    "make_noise",
]
