"""NISTP: randomized distortions of handwritten characters (section 4.1).

The paper's NISTP is NIST Special Database 19 with generated distortions
(Bengio et al., 2011: slant, thickness, affine transformations, elastic
deformation, occlusion, noise, ...). Here they are four seeded preprocessing
layers, chained by :func:`nistp_distortion` into a ``keras.layers.Pipeline``:

1. :class:`RandomStrokeThickness`: thicker or thinner strokes (a fraction of a
   3 x 3 grey-level dilation or erosion).
2. :class:`RandomWarp`: slant, rotation, scale and translation composed with an
   elastic deformation (Simard et al., 2003), sampled in one bilinear pass.
3. ``keras.layers.RandomErasing``: occlusion by a blank rectangle.
4. :class:`RandomPixelNoise`: Gaussian pixel noise of a random strength.

Images are channels-last, values in [0, 1], white strokes on black (as MNIST and
EMNIST). The layers are safe inside ``tf.data.Dataset.map`` on every Keras
backend: like Keras' own image preprocessing layers they subclass Keras'
``DataLayer``, which runs them with TensorFlow ops inside tf.data. That base
class is not public Keras API: it comes from :mod:`keras_sparse_rect._compat`,
which checks it against the installed Keras (if it is missing, building one of
these layers raises ``KerasInternalsError`` naming the version). Each layer
draws from its own ``SeedGenerator``: applied batch after batch in a fixed order
(as :func:`keras_sparse_rect.data.to_tf_dataset` does) the same seed gives the
same distortions.
"""

import math

import keras
import numpy as np

from keras_sparse_rect import _compat
from keras_sparse_rect._validation import check_int, check_non_negative, check_rate, check_seed
from keras_sparse_rect.api import register


class _RandomImageLayer(_compat.DataLayer):
    """Shared plumbing: seed, batching of single images, identity when not training."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed("seed", seed)
        self.generator = keras.random.SeedGenerator(self.seed)
        self.built = True

    def call(self, inputs, training=True):
        if not training:
            return inputs
        images = self.backend.cast(inputs, self.compute_dtype)
        unbatched = len(images.shape) == 3
        if unbatched:
            images = self.backend.numpy.expand_dims(images, 0)
        if len(images.shape) != 4:
            raise ValueError(
                f"{type(self).__name__} expects images (batch, height, width, "
                f"channels) or (height, width, channels); got shape {images.shape}."
            )
        seed = _compat.data_layer_seed(self)
        outputs = self._distort(images, seed)
        return outputs[0] if unbatched else outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register
class RandomStrokeThickness(_RandomImageLayer):
    """Makes each character's strokes randomly thicker or thinner.

    Each image gets ``t`` uniform in ``[-change, change]``; ``t > 0`` moves the
    image a fraction ``t`` of the way to its 3 x 3 grey-level dilation (thicker
    strokes), ``t < 0`` a fraction ``-t`` to its erosion (thinner). The NISTP
    "thickness" distortion (section 4.1; Bengio et al., 2011).

    Args:
        change: largest fraction of a one-pixel dilation/erosion, in [0, 1].
        seed: int seed; ``None`` draws one at random.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data import RandomStrokeThickness
    >>> y = RandomStrokeThickness(0.7, seed=1)(np.zeros((2, 32, 32, 1), "float32"))
    """

    def __init__(self, change=0.7, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.change = check_rate("change", change, allow_one=True)

    def _distort(self, images, seed):
        b = self.backend
        t = b.random.uniform((b.shape(images)[0], 1, 1, 1), -self.change, self.change, seed=seed)
        # One max-pool serves both: erosion(x) = -dilation(-x).
        sign = b.numpy.where(t >= 0, 1.0, -1.0)
        target = sign * b.nn.max_pool(sign * images, 3, strides=1, padding="same")
        return images + b.numpy.abs(t) * (target - images)

    def get_config(self):
        return {**super().get_config(), "change": self.change}


@register
class RandomWarp(_RandomImageLayer):
    """Slant, rotation, scale, translation and elastic deformation in one resampling.

    Each output pixel ``p`` is read, with bilinear interpolation (0 outside the
    image), at ``c + S(p - c) / z - t + d(p)``: ``c`` the image centre, ``S`` a
    rotation by up to ``rotation`` degrees times a horizontal shear (slant) of
    up to ``slant``, ``z`` a zoom in ``[1 - scale, 1 + scale]``, ``t`` a shift of
    up to ``translation`` times the image size, and ``d`` an elastic
    displacement field, smooth as Simard et al.'s (2003) blurred noise but
    cheaper: independent Gaussian values on a coarse ``elastic_grid`` x
    ``elastic_grid`` grid, interpolated with Gaussian bumps one grid spacing
    wide so that each pixel moves by ``elastic`` pixels (standard deviation) in
    each direction. Sampling once
    instead of once per distortion keeps strokes sharp and halves the cost. The
    NISTP slant, affine and elastic distortions (section 4.1).

    Args:
        slant: largest horizontal shear coefficient (>= 0).
        rotation: largest rotation in degrees (>= 0).
        scale: largest relative zoom, in [0, 1).
        translation: largest shift as a fraction of the image size, in [0, 1).
        elastic: standard deviation of the elastic displacement in pixels (>= 0).
        elastic_grid: side of the coarse displacement grid (int >= 2).
        seed: int seed; ``None`` draws one at random.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data import RandomWarp
    >>> y = RandomWarp(slant=0.3, seed=1)(np.zeros((2, 32, 32, 1), "float32"))
    """

    def __init__(
        self,
        slant=0.3,
        rotation=10.0,
        scale=0.15,
        translation=0.08,
        elastic=1.0,
        elastic_grid=4,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.slant = check_non_negative("slant", slant)
        self.rotation = check_non_negative("rotation", rotation)
        self.scale = check_rate("scale", scale)
        self.translation = check_rate("translation", translation)
        self.elastic = check_non_negative("elastic", elastic)
        self.elastic_grid = check_int("elastic_grid", elastic_grid, 2)

    def _distort(self, images, seed):
        b = self.backend
        n, height, width = b.shape(images)[0], images.shape[1], images.shape[2]
        draw = b.random.uniform((n, 5), -1.0, 1.0, seed=seed)
        shear = self.slant * draw[:, 0]
        angle = (self.rotation * math.pi / 180.0) * draw[:, 1]
        zoom = 1.0 + self.scale * draw[:, 2]
        cos, sin = b.numpy.cos(angle) / zoom, b.numpy.sin(angle) / zoom
        # Rows of [S | c - t] for x and y; S = rotation @ [[1, shear], [0, 1]] / zoom.
        affine = b.numpy.stack(
            [
                cos,
                cos * shear - sin,
                (width - 1) / 2.0 - self.translation * width * draw[:, 3],
                sin,
                sin * shear + cos,
                (height - 1) / 2.0 - self.translation * height * draw[:, 4],
            ],
            axis=1,
        )
        parts = [b.numpy.reshape(affine, (n, 2, 3))]
        if self.elastic > 0:
            grid = self.elastic_grid
            coarse = b.random.normal((n, 2, grid * grid), self.elastic, seed=seed)
            parts = [parts[0], coarse]
        # (n, 2, k) @ (k, pixels): every coordinate of every image in one product.
        basis = b.convert_to_tensor(self._basis(height, width, self.elastic > 0))
        coordinates = b.numpy.matmul(b.numpy.concatenate(parts, axis=2), basis)
        x = b.numpy.reshape(coordinates[:, 0], (n, height, width))
        y = b.numpy.reshape(coordinates[:, 1], (n, height, width))
        return _bilinear_sample(b, images, x, y)

    def _basis(self, height, width, elastic):
        """Rows u, v (pixel offsets from the centre c), 1, and the elastic bumps."""
        rows, cols = np.meshgrid(
            np.arange(height, dtype=np.float32),
            np.arange(width, dtype=np.float32),
            indexing="ij",
        )
        u, v = cols - (width - 1) / 2.0, rows - (height - 1) / 2.0
        basis = [u.ravel(), v.ravel(), np.ones(height * width, np.float32)]
        if elastic:
            up_rows = _smooth_upsampling(self.elastic_grid, height)
            up_cols = _smooth_upsampling(self.elastic_grid, width)
            basis += list(np.einsum("hg,wk->gkhw", up_rows, up_cols).reshape(-1, height * width))
        return np.stack(basis).astype(np.float32)

    def get_config(self):
        return {
            **super().get_config(),
            "slant": self.slant,
            "rotation": self.rotation,
            "scale": self.scale,
            "translation": self.translation,
            "elastic": self.elastic,
            "elastic_grid": self.elastic_grid,
        }


def _smooth_upsampling(grid, size):
    """(size, grid) weights: Gaussian bumps one grid spacing wide, rows of unit norm.

    Applied to independent N(0, 1) grid values it gives a smooth field whose
    value at every pixel is again N(0, 1).
    """
    centres = np.linspace(0.0, size - 1.0, grid)
    spacing = (size - 1.0) / (grid - 1)
    pixels = np.arange(size, dtype=np.float64)[:, None]
    weights = np.exp(-0.5 * ((pixels - centres[None, :]) / spacing) ** 2)
    return (weights / np.linalg.norm(weights, axis=1, keepdims=True)).astype("float32")


def _bilinear_sample(b, images, x, y):
    """``images[i]`` read at float coordinates ``(y[i], x[i])``; 0 outside."""
    n, height, width, channels = (
        b.shape(images)[0],
        images.shape[1],
        images.shape[2],
        images.shape[3],
    )
    # A border of 2 zero pixels: corners outside the image are clipped into it
    # and read 0, with no masks.
    padded = b.numpy.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    row = width + 4
    flat = b.numpy.reshape(padded, (-1, channels))
    x0, y0 = b.numpy.floor(x), b.numpy.floor(y)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]
    x0 = b.numpy.clip(b.cast(x0, "int32"), -2, width) + 2
    y0 = b.numpy.clip(b.cast(y0, "int32"), -2, height) + 2
    first = b.numpy.arange(n, dtype="int32")[:, None, None] * ((height + 4) * row)
    index = b.numpy.reshape(first + y0 * row + x0, (-1,))

    def corner(offset):
        values = b.numpy.take(flat, index + offset, axis=0)
        return b.numpy.reshape(values, (n, height, width, channels))

    top = corner(0) + wx * (corner(1) - corner(0))
    bottom = corner(row) + wx * (corner(row + 1) - corner(row))
    return top + wy * (bottom - top)


@register
class RandomPixelNoise(_RandomImageLayer):
    """Adds Gaussian pixel noise of a random strength, then clips to [0, 1].

    Each image gets a noise standard deviation uniform in ``[0, stddev]``. The
    NISTP noise distortion (section 4.1).

    Args:
        stddev: largest noise standard deviation (>= 0), in pixel-value units.
        seed: int seed; ``None`` draws one at random.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data import RandomPixelNoise
    >>> y = RandomPixelNoise(0.1, seed=1)(np.zeros((2, 32, 32, 1), "float32"))
    """

    def __init__(self, stddev=0.1, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = check_non_negative("stddev", stddev)

    def _distort(self, images, seed):
        b = self.backend
        sigma = b.random.uniform((b.shape(images)[0], 1, 1, 1), 0.0, self.stddev, seed=seed)
        noise = b.random.normal(b.shape(images), seed=seed)
        return b.numpy.clip(images + sigma * noise, 0.0, 1.0)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


def nistp_distortion(
    seed=None,
    *,
    thickness=0.7,
    slant=0.3,
    rotation=10.0,
    scale=0.15,
    translation=0.08,
    elastic=1.0,
    occlusion=0.2,
    noise=0.1,
):
    """The NISTP distortion pipeline: thickness, warp, occlusion, noise.

    Returns a ``keras.layers.Pipeline`` of :class:`RandomStrokeThickness`,
    :class:`RandomWarp`, ``keras.layers.RandomErasing`` (a blank rectangle of
    2% - 15% of the image, with probability ``occlusion``) and
    :class:`RandomPixelNoise`, seeded ``seed``, ``seed + 1``, ... Call it on
    batches of [0, 1] images with ``training=True``; a strength of 0 turns a
    distortion off. Section 4.1 (NISTP; Bengio et al., 2011).

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data import nistp_distortion
    >>> distort = nistp_distortion(seed=0)
    >>> y = distort(np.zeros((8, 32, 32, 1), "float32"), training=True)
    """
    seed = check_seed("seed", seed)
    occlusion = check_rate("occlusion", occlusion, allow_one=True)

    def seed_of(i):
        return None if seed is None else seed + i

    return keras.layers.Pipeline(
        [
            RandomStrokeThickness(thickness, seed=seed_of(0)),
            RandomWarp(slant, rotation, scale, translation, elastic, seed=seed_of(1)),
            keras.layers.RandomErasing(
                factor=(occlusion, occlusion),
                scale=(0.02, 0.15),
                fill_value=0.0,
                value_range=(0, 1),
                seed=seed_of(2),
            ),
            RandomPixelNoise(noise, seed=seed_of(3)),
        ],
        name="nistp_distortion",
    )
