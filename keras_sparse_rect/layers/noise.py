"""One factory for the corruption of a denoising autoencoder (sections 3.2, 4.1 and 4.2)."""

import numbers

import keras

from keras_sparse_rect import names
from keras_sparse_rect._validation import check_choice, check_rate
from keras_sparse_rect.layers.masking_noise import MaskingNoise
from keras_sparse_rect.layers.salt_and_pepper_noise import SaltAndPepperNoise

#: Kinds of noise :func:`make_noise` builds from a rate, by name (``names.NOISE_KINDS``).
NOISE_KINDS = dict(zip(names.NOISE_KINDS, (MaskingNoise, SaltAndPepperNoise), strict=True))


def make_noise(noise, seed=None, kind="masking", name="corruption"):
    """A fresh corruption layer from any of the library's noise settings, or ``None``.

    Every setting of noise (a flag, a config field, a tuner's value, a
    ``DenoisingAutoencoder`` or ``GreedyLayerwisePretraining`` argument) goes
    through this one function:

    - ``None`` or a rate of 0: no corruption (``None``);
    - a rate in (0, 1): a layer of ``kind``: ``"masking"`` (section 4.1:
      each input set to 0 with that probability) or ``"salt_and_pepper"``
      (section 4.2, binary inputs: to 0 or 1);
    - a noise layer (``MaskingNoise``, ``SaltAndPepperNoise``,
      ``BinaryFlipNoise`` or any Keras layer): a fresh copy made from its config,
      so that one setting can serve several autoencoders;
    - a layer's serialized config (a dict, as ``keras.saving.serialize_keras_object``
      writes it): the layer it describes.

    Args:
        noise: the setting, as above.
        seed: seed of a layer built from a rate (a layer keeps its own).
        kind: what a rate means: one of :data:`NOISE_KINDS`.
        name: name of a layer built from a rate.

    Returns:
        A ``keras.layers.Layer`` or ``None``.

    Example:

    >>> from keras_sparse_rect.layers import make_noise
    >>> make_noise(0.25).rate
    0.25
    >>> make_noise(0.1, kind="salt_and_pepper").__class__.__name__
    'SaltAndPepperNoise'
    >>> make_noise(0.0) is None
    True
    """
    check_choice("kind", kind, NOISE_KINDS)
    if noise is None:
        return None
    if isinstance(noise, dict):
        try:
            noise = keras.saving.deserialize_keras_object(noise)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"`noise` is a dict that is not a serialized Keras layer ({error}); got "
                f"noise={noise!r}."
            ) from None
        if not isinstance(noise, keras.layers.Layer):
            raise ValueError(f"`noise` must describe a Keras layer; got {noise!r}.")
        return noise
    if isinstance(noise, keras.layers.Layer):
        return type(noise).from_config(noise.get_config())
    if isinstance(noise, numbers.Real) and not isinstance(noise, bool):
        rate = check_rate("noise", noise)
        return NOISE_KINDS[kind](rate, seed=seed, name=name) if rate > 0 else None
    raise ValueError(
        "`noise` must be None, a rate in [0, 1), a noise layer (e.g. MaskingNoise, "
        f"SaltAndPepperNoise, BinaryFlipNoise) or its config; got noise={noise!r}."
    )
