"""Data sets of the paper's experiments (section 4), under one registry of names.

Images (section 4.1): :func:`load_image_dataset` ("mnist_subset", "mnist",
"cifar10", "nistp", "norb", "smallnorb", "idx:DIR", "npz:FILE") returns an
:class:`ImageDataset`; :func:`to_tf_dataset` feeds a split to ``fit`` through
tf.data; :func:`nistp_distortion` builds the NISTP distortion pipeline. Readers
for the original file formats: :func:`read_idx` (MNIST), :func:`read_norb_matrix`
(NORB) and ``user_files.read_npz`` (``numpy.savez``). A missing data set raises
:class:`DatasetNotFoundError` within seconds, with one line saying how to get it;
a file that is there but unusable raises ``ValueError`` naming it.

Splits (:mod:`~keras_sparse_rect.data.splits`): ``stratified_split``,
``labeled_subset`` (nested, class-stratified labeled sets of Figure 3) and
:func:`kfold_splits`.

Reviews (section 4.2): :func:`load_reviews` (CSV, TSV or JSON-lines files) and
:func:`load_rotten_tomatoes` (the offline default) return sparse binary bags of
words (:class:`BagOfWords`).

Where each idea lives: ``images`` (the registry), ``sources`` (built-in
loaders), ``user_files`` (``idx:``/``npz:``), ``pipeline`` (tf.data),
``splits``, ``distortions`` (NISTP), ``idx``/``norb``/``mnist_store`` (file
formats), ``ratings``/``review_files``/``reviews``/``bag_of_words`` (reviews).

Importing this package loads neither Keras nor TensorFlow (an app checks its
flags first): tensorflow-datasets and TensorFlow are imported only by the
functions that need them, and the distortion layers (which are Keras layers)
on first access.
"""

import importlib
from typing import TYPE_CHECKING

from keras_sparse_rect.data.bag_of_words import BagOfWords
from keras_sparse_rect.data.errors import DatasetNotFoundError
from keras_sparse_rect.data.idx import read_idx
from keras_sparse_rect.data.images import (
    IMAGE_DATASETS,
    ImageDataset,
    distort_arrays,
    load_image_dataset,
    to_tf_dataset,
)
from keras_sparse_rect.data.norb import read_norb_matrix
from keras_sparse_rect.data.reviews import BadReviewRow, RatingScale, load_reviews, read_reviews
from keras_sparse_rect.data.rotten_tomatoes import load_rotten_tomatoes, rotten_tomatoes_path
from keras_sparse_rect.data.splits import kfold_splits

if TYPE_CHECKING:  # for type checkers and the API reference; loaded on first access
    from keras_sparse_rect.data.distortions import (
        RandomPixelNoise,
        RandomStrokeThickness,
        RandomWarp,
        nistp_distortion,
    )

#: Names loaded on first access (their module imports Keras).
_DISTORTIONS = ("RandomPixelNoise", "RandomStrokeThickness", "RandomWarp", "nistp_distortion")

__all__ = [
    "IMAGE_DATASETS",
    "BadReviewRow",
    "BagOfWords",
    "DatasetNotFoundError",
    "ImageDataset",
    "RandomPixelNoise",
    "RandomStrokeThickness",
    "RandomWarp",
    "distort_arrays",
    "kfold_splits",
    "load_image_dataset",
    "load_reviews",
    "load_rotten_tomatoes",
    "nistp_distortion",
    "read_idx",
    "RatingScale",
    "read_norb_matrix",
    "read_reviews",
    "rotten_tomatoes_path",
    "to_tf_dataset",
]


def __getattr__(name):
    if name in _DISTORTIONS:
        value = getattr(importlib.import_module(f"{__name__}.distortions"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_DISTORTIONS])
