"""The one noise factory: every representation of a noise setting, and its errors."""

import keras
import pytest

from keras_sparse_rect.layers import (
    BinaryFlipNoise,
    MaskingNoise,
    SaltAndPepperNoise,
    make_noise,
)


def test_rates_build_the_kind_asked_for():
    masking = make_noise(0.25, seed=3)
    assert isinstance(masking, MaskingNoise) and masking.rate == 0.25 and masking.seed == 3
    salt = make_noise(0.1, kind="salt_and_pepper")
    assert isinstance(salt, SaltAndPepperNoise) and salt.rate == 0.1
    assert make_noise(0.0) is None and make_noise(None) is None


def test_a_layer_or_its_config_gives_a_fresh_copy():
    layer = BinaryFlipNoise(0.8, 0.005, seed=1)
    copy = make_noise(layer)
    assert isinstance(copy, BinaryFlipNoise) and copy is not layer
    assert (copy.pepper_rate, copy.salt_rate, copy.seed) == (0.8, 0.005, 1)
    again = make_noise(keras.saving.serialize_keras_object(layer))
    assert isinstance(again, BinaryFlipNoise) and again.pepper_rate == 0.8


@pytest.mark.parametrize(
    "noise, kind, message",
    [
        (1.5, "masking", "`noise` must be a number in"),
        (True, "masking", "`noise` must be None"),
        ("0.25", "masking", "`noise` must be None"),
        ({"class_name": "NoSuchLayer", "config": {}}, "masking", "`noise` is a dict"),
        (0.1, "gaussian", "`kind` must be one of"),
    ],
)
def test_bad_settings_name_the_argument(noise, kind, message):
    with pytest.raises(ValueError, match=message):
        make_noise(noise, kind=kind)
