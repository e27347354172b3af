"""The NISTP distortion pipeline: seeded, label-preserving, each distortion doing its job.

These run on every backend: inside tf.data the layers switch to TensorFlow ops.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from keras_sparse_rect.data import (
    RandomPixelNoise,
    RandomStrokeThickness,
    RandomWarp,
    nistp_distortion,
    to_tf_dataset,
)
from keras_sparse_rect.data.distortions import _bilinear_sample, _smooth_upsampling
from tests.helpers import assert_config_round_trip, to_numpy

ROOT = Path(__file__).resolve().parents[2]


def _characters(n=64, seed=0):
    """Bars and boxes on black, a stand-in for handwritten characters."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 32, 32, 1), np.float32)
    for i in range(n):
        top, left = rng.integers(6, 12, 2)
        x[i, top : top + 14, left : left + 3] = 1.0
        x[i, top : top + 3, left : left + 10] = 1.0
    return x, (np.arange(n) % 62).astype(np.int32)


def _stream(distortion, x, y, seed=3):
    ds = to_tf_dataset(x, y, 16, shuffle=True, seed=seed, distortion=distortion)
    batches = [(b.numpy(), labels.numpy()) for b, labels in ds]
    return np.concatenate([b for b, _ in batches]), np.concatenate([t for _, t in batches])


def test_same_seed_same_distortions_other_seed_others():
    x, y = _characters(300)  # two chunks of up to 256 images: two streams
    a, labels_a = _stream(nistp_distortion(seed=7), x, y)
    b, labels_b = _stream(nistp_distortion(seed=7), x, y)
    c, _ = _stream(nistp_distortion(seed=8), x, y)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(labels_a, labels_b)
    assert np.abs(a - c).mean() > 0.02
    assert a.shape == x.shape and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0


def test_labels_follow_their_images():
    x, y = _characters()
    # Encode each label in the image itself: a pixel far from the strokes that
    # only the pixel noise touches, so the label can be read back afterwards.
    x[:, 0, 0, 0] = y / 100.0
    clean, clean_labels = _stream(None, x, y)
    noisy, noisy_labels = _stream(RandomPixelNoise(0.01, seed=1), x, y)
    np.testing.assert_array_equal(noisy_labels, clean_labels)
    np.testing.assert_allclose(noisy[:, 0, 0, 0], clean_labels / 100.0, atol=0.05)
    distorted, labels = _stream(nistp_distortion(seed=1), x, y)
    np.testing.assert_array_equal(labels, clean_labels)
    assert np.abs(distorted - clean).mean() > 0.02  # it did distort


def test_each_epoch_is_distorted_anew():
    x, y = _characters(16)
    ds = to_tf_dataset(x, y, 16, distortion=nistp_distortion(seed=2))
    first, second = (next(iter(ds))[0].numpy() for _ in range(2))
    assert np.abs(first - second).mean() > 0.01


def test_not_training_is_identity():
    x, _ = _characters(4)
    for layer in (RandomStrokeThickness(seed=1), RandomWarp(seed=1), RandomPixelNoise(seed=1)):
        np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)


def test_stroke_thickness_lies_between_erosion_and_dilation():
    x, _ = _characters(32)
    thick = to_numpy(RandomStrokeThickness(1.0, seed=0)(x))
    dilated = ndimage.grey_dilation(x, size=(1, 3, 3, 1))
    eroded = ndimage.grey_erosion(x, size=(1, 3, 3, 1))
    assert (thick <= dilated + 1e-6).all() and (thick >= eroded - 1e-6).all()
    ink = thick.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert ink.min() < 0.8 and ink.max() > 1.3  # some thinner, some thicker


def test_pixel_noise_strength():
    x = np.full((256, 32, 32, 1), 0.5, np.float32)
    y = to_numpy(RandomPixelNoise(0.1, seed=0)(x))
    # sigma ~ U(0, 0.1) per image: E[sigma^2] = 0.1^2 / 3.
    np.testing.assert_allclose(np.sqrt(((y - x) ** 2).mean()), 0.1 / np.sqrt(3), rtol=0.1)


def test_warp_without_strength_is_identity():
    x, _ = _characters(4)
    layer = RandomWarp(slant=0, rotation=0, scale=0, translation=0, elastic=0, seed=0)
    np.testing.assert_allclose(to_numpy(layer(x)), x, atol=1e-6)


def test_warp_moves_ink_but_keeps_most_of_it():
    x, _ = _characters(64)
    y = to_numpy(RandomWarp(seed=0)(x))
    assert np.abs(y - x).mean() > 0.02
    ratio = y.sum() / x.sum()
    assert 0.8 < ratio < 1.25  # zoom changes the area a little, nothing is lost


def test_bilinear_sampling_matches_scipy():
    rng = np.random.default_rng(0)
    images = rng.random((3, 9, 11, 2)).astype(np.float32)
    rows = rng.uniform(-2, 11, (3, 9, 11)).astype(np.float32)
    cols = rng.uniform(-2, 13, (3, 9, 11)).astype(np.float32)
    backend = RandomWarp(seed=0).backend  # the ops namespace the layers use
    got = to_numpy(_bilinear_sample(backend, images, cols, rows))
    for i in range(3):
        for c in range(2):
            want = ndimage.map_coordinates(
                np.pad(images[i, ..., c], 1), [rows[i] + 1, cols[i] + 1], order=1
            )
            np.testing.assert_allclose(got[i, ..., c], want, atol=1e-5)


def test_elastic_field_has_unit_variance_per_pixel():
    weights = _smooth_upsampling(4, 32)
    np.testing.assert_allclose((weights**2).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: RandomStrokeThickness(change=1.5), "change"),
        (lambda: RandomWarp(slant=-0.1), "slant"),
        (lambda: RandomWarp(scale=1.0), "scale"),
        (lambda: RandomWarp(elastic_grid=1), "elastic_grid"),
        (lambda: RandomPixelNoise(stddev=float("nan")), "stddev"),
        (lambda: RandomPixelNoise(seed=-1), "seed"),
        (lambda: nistp_distortion(occlusion=2.0), "occlusion"),
    ],
)
def test_invalid_arguments(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        make()


@pytest.mark.parametrize(
    "layer",
    [
        RandomStrokeThickness(0.5, seed=1),
        RandomWarp(0.2, 5.0, seed=2),
        RandomPixelNoise(0.2, seed=3),
    ],
)
def test_config_round_trip(layer):
    assert_config_round_trip(layer)


@pytest.mark.parametrize("streams, seed", [(1, 0), (3, None)])
def test_small_batches_cover_the_data_once_per_epoch(streams, seed):
    x, _ = _characters(1000)
    y = np.arange(1000, dtype=np.int32)
    ds = to_tf_dataset(
        x,
        y,
        30,
        shuffle=True,
        seed=seed,
        distortion=RandomPixelNoise(0.1, seed=0),
        distortion_streams=streams,
    )
    batches = [labels.numpy() for _, labels in ds]
    assert [len(b) for b in batches] == [30] * 33 + [10]
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    dropped = to_tf_dataset(x, y, 30, distortion=RandomPixelNoise(0.1), drop_remainder=True)
    assert sum(len(labels) for _, labels in dropped) == 990


def test_streams_are_independent_copies():
    x, y = _characters(16)
    x = np.repeat(x[:1], 1024, axis=0)  # one image: differences come from the noise
    ds = to_tf_dataset(x, np.zeros(1024, np.int32), 256, distortion=RandomPixelNoise(0.2, seed=0))
    chunks = [images.numpy() for images, _ in ds]
    assert len(chunks) == 4
    for i in range(4):
        for j in range(i):
            assert np.abs(chunks[i] - chunks[j]).mean() > 0.01  # no two streams alike


@pytest.mark.once("jax")  # a fresh process; the backend does not matter
def test_the_package_loads_keras_only_for_the_distortions_and_registers_them():
    # An app checks its data flags before Keras loads; a saved model finds the layers.
    code = (
        "import sys, keras_sparse_rect.data as data\n"
        "light = 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
        "warp = data.RandomWarp\n"
        "import keras\n"
        "print(light, warp is keras.saving.get_registered_object('keras_sparse_rect>RandomWarp'))\n"
    )
    fresh = (
        "import keras, keras_sparse_rect\n"
        "print(all(keras.saving.get_registered_object(f'keras_sparse_rect>{name}') for name in\n"
        "    ('RandomWarp', 'RandomPixelNoise', 'RandomStrokeThickness')))\n"
    )
    for source, expected in ((code, ["True", "True"]), (fresh, ["True"])):
        run = subprocess.run(
            [sys.executable, "-c", source], capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert run.stdout.split() == expected, run.stderr[-2000:]
