"""The built-in sources: tensorflow-datasets sets on tfds' mock data, and failing fast offline."""

import socket
import time

import numpy as np
import pytest

from keras_sparse_rect.data import DatasetNotFoundError, _tfds, load_image_dataset


@pytest.mark.parametrize("name", ["mnist", "cifar10", "nistp", "smallnorb"])
def test_missing_tfds_data_fails_fast_in_one_line(tmp_path, monkeypatch, name):
    probes = []
    monkeypatch.setattr(_tfds, "host_reachable", lambda host: probes.append(host) or False)
    import tensorflow_datasets  # noqa: F401  (timed: the failure, not a first import of tfds)

    start = time.perf_counter()
    # mnist would otherwise be read from the offline store (tests/data/test_mnist_store.py).
    options = {"source": "tfds"} if name == "mnist" else {}
    with pytest.raises(DatasetNotFoundError) as error:
        load_image_dataset(name, data_dir=str(tmp_path), **options)
    assert time.perf_counter() - start < 5.0
    message = str(error.value)
    assert "\n" not in message and str(tmp_path) in message and "unreachable" in message
    assert probes == [_tfds.DOWNLOADS[message.split(":")[0].split("/")[0]][0]]
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        load_image_dataset(name, data_dir=str(tmp_path), download=False, **options)
    assert len(probes) == 1  # download=False does not even probe


def test_host_probe_is_bounded():
    start = time.perf_counter()
    assert not _tfds.host_reachable("127.0.0.1", port=1, timeout=0.5)  # refused
    assert not _tfds.host_reachable("host.invalid", timeout=0.5)  # no such name
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        assert not _tfds.host_reachable("127.0.0.1", silent.getsockname()[1], timeout=0.5)
    assert time.perf_counter() - start < 3.0


# --- Data sets that come through tensorflow-datasets, on tfds' mock data. ---


@pytest.fixture
def tfds_mock(monkeypatch):
    """tfds.testing.mock_data, with the download host "reachable" (download is mocked)."""
    import tensorflow_datasets as tfds

    monkeypatch.setattr(_tfds, "host_reachable", lambda host: True)

    def mock(num_examples):
        return tfds.testing.mock_data(num_examples=num_examples)

    return mock


@pytest.mark.tensorflow_only
def test_mnist_through_tfds(tfds_mock):
    with tfds_mock(30):
        data = load_image_dataset("mnist", validation_size=5, source="tfds")
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (25, 5, 30)
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    assert (
        data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() <= data.x_train.max() <= 1.0
    )
    assert data.y_test.dtype == np.int32 and data.y_test.max() < 10


@pytest.mark.tensorflow_only
def test_cifar10_through_tfds(tfds_mock):
    with tfds_mock(40):
        data = load_image_dataset("cifar10")
    assert (len(data.x_train), len(data.x_val) + len(data.x_test)) == (40, 40)
    assert abs(len(data.x_val) - len(data.x_test)) <= 10  # per-class halves
    assert data.input_shape == (32, 32, 3) and data.num_classes == 10
    assert 0.0 <= data.x_val.min() <= data.x_val.max() <= 1.0


@pytest.mark.tensorflow_only
def test_nistp_through_tfds(tfds_mock):
    with tfds_mock(60):
        data = load_image_dataset("nistp", validation_size=20, test_size=10, distortion_seed=1)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (40, 20, 10)
    assert data.input_shape == (32, 32, 1) and data.num_classes == 62
    assert data.x_train.dtype == np.uint8  # clean, distorted on the fly
    assert (data.x_train[:, :2] == 0).all()  # padded from 28 x 28
    assert data.x_val.dtype == np.float32 and 0.0 <= data.x_val.min() <= data.x_val.max() <= 1.0
    assert data.y_train.max() < 62
    images, labels = next(iter(data.tf_dataset("train", batch_size=40, seed=0)))
    assert images.shape == (40, 32, 32, 1) and images.dtype.name == "float32"
    assert sorted(labels.numpy().tolist()) == sorted(data.y_train.tolist())
    with tfds_mock(60):
        again = load_image_dataset("nistp", validation_size=20, test_size=10, distortion_seed=5)
    np.testing.assert_array_equal(again.x_val, data.x_val)  # fixed, whatever the seed


@pytest.mark.tensorflow_only
def test_smallnorb_through_tfds(tfds_mock):
    with tfds_mock(50):
        data = load_image_dataset("smallnorb")
    assert len(data.x_train) + len(data.x_val) == 50 and len(data.x_test) == 50
    assert data.input_shape == (32, 32, 2) and data.num_classes == 5
    assert -1.0 <= data.x_train.min() and data.x_train.max() <= 1.0
