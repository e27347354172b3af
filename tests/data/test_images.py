"""The image data set registry: offline default, generic sources, tfds sets, failures."""

import socket
import time

import numpy as np
import pytest

from keras_sparse_rect.data import (
    IMAGE_DATASETS,
    DatasetNotFoundError,
    ImageDataset,
    _tfds,
    load_image_dataset,
    to_tf_dataset,
)


@pytest.fixture(scope="module")
def mnist_subset():
    return load_image_dataset("mnist_subset")


def test_mnist_subset_real_digits_stratified_split(mnist_subset):
    data = mnist_subset
    assert isinstance(data, ImageDataset)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (3500, 500, 1000)
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    for y, per_class in ((data.y_train, 350), (data.y_val, 50), (data.y_test, 100)):
        assert y.dtype == np.int32
        assert np.bincount(y).tolist() == [per_class] * 10
    x = data.x_train
    assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    # Real digits: dark background, about 13% ink, and a 1 has less ink than an 8.
    assert 0.1 < x.mean() < 0.15 and (x[:, :2] == 0).mean() > 0.99
    ink = [x[data.y_train == d].mean() for d in range(10)]
    assert ink[1] < 0.7 * ink[8]
    assert len(set(data.y_val[:50].tolist())) > 5  # classes mixed, not sorted
    # The three splits are disjoint.
    keys = [{row.tobytes() for row in part} for part in (data.x_train, data.x_val, data.x_test)]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])


@pytest.mark.tensorflow_only
def test_tf_dataset_covers_a_split_once_per_epoch(mnist_subset):
    ds = mnist_subset.tf_dataset("validation", batch_size=128)
    labels = np.concatenate([y.numpy() for _, y in ds])
    np.testing.assert_array_equal(labels, mnist_subset.y_val)  # not shuffled
    train = mnist_subset.tf_dataset("train", batch_size=500, seed=0)
    seen = np.concatenate([y.numpy() for _, y in train])
    assert sorted(seen.tolist()) == sorted(mnist_subset.y_train.tolist())
    assert not np.array_equal(seen, mnist_subset.y_train)  # shuffled


def test_to_tf_dataset_scales_uint8_and_checks_arguments():
    x = np.full((5, 4, 4, 1), 255, np.uint8)
    (images, labels), *_ = to_tf_dataset(x, np.arange(5), 5)
    assert images.dtype.name == "float32" and np.allclose(images.numpy(), 1.0)
    with pytest.raises(ValueError, match="`batch_size`"):
        to_tf_dataset(x, np.arange(5), 0)
    with pytest.raises(ValueError, match="same length"):
        to_tf_dataset(x, np.arange(4), 2)


def test_npz_source(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (12, 8, 8), dtype=np.uint8),
        "y_train": np.arange(12) % 3,
        "x_test": rng.random((4, 8, 8, 1)).astype(np.float32),
        "y_test": np.arange(4) % 3,
    }
    np.savez(tmp_path / "a.npz", **arrays)
    data = load_image_dataset(f"npz:{tmp_path / 'a.npz'}")
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (10, 2, 4)
    assert data.x_train.shape[1:] == (8, 8, 1) and data.x_train.max() <= 1.0
    assert data.x_test.shape[1:] == (8, 8, 1)
    assert data.num_classes == 3
    np.savez(tmp_path / "b.npz", **arrays, x_val=arrays["x_train"][:3], y_val=np.zeros(3, int))
    assert len(load_image_dataset(f"npz:{tmp_path / 'b.npz'}").x_train) == 12


def test_npz_refuses_pickles_and_corrupt_files(tmp_path):
    objects = np.array([{"a": 1}, None], dtype=object)
    np.savez(tmp_path / "p.npz", x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(ValueError, match=r"p\.npz: not a readable \.npz file.*allow_pickle"):
        load_image_dataset(f"npz:{tmp_path / 'p.npz'}")
    (tmp_path / "c.npz").write_bytes(b"PK\x03\x04 this is not a zip file")
    with pytest.raises(ValueError, match=r"c\.npz: not a readable \.npz file"):
        load_image_dataset(f"npz:{tmp_path / 'c.npz'}")
    np.savez(tmp_path / "m.npz", x_train=np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"m\.npz: needs arrays x_train, y_train"):
        load_image_dataset(f"npz:{tmp_path / 'm.npz'}")
    with pytest.raises(DatasetNotFoundError, match="no such file"):
        load_image_dataset(f"npz:{tmp_path / 'absent.npz'}")


def _npz(path, **overrides):
    """A small valid npz data set (3 classes), with some arrays replaced."""
    arrays = {
        "x_train": np.zeros((12, 4, 4), np.float32),
        "y_train": np.arange(12) % 3,
        "x_test": np.zeros((3, 4, 4), np.float32),
        "y_test": np.arange(3),
        **overrides,
    }
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return f"npz:{path}"


def test_npz_that_is_not_a_zip_archive_says_so(tmp_path):
    (tmp_path / "t.npz").write_text("hello, this is text\n")
    with pytest.raises(ValueError, match=r"t\.npz: not a readable \.npz file: it is not a zip"):
        load_image_dataset(f"npz:{tmp_path / 't.npz'}")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"one\.npy: .*it is a single \.npy array"):
        load_image_dataset(f"npz:{tmp_path / 'one.npy'}")
    with pytest.raises(DatasetNotFoundError, match="is a folder"):
        load_image_dataset(f"npz:{tmp_path}")


def test_npz_string_images_name_the_file_the_array_and_its_dtype(tmp_path):
    name = _npz(tmp_path / "s.npz", x_test=np.full((3, 4, 4), "a"))
    with pytest.raises(ValueError, match=r"s\.npz: array x_test has dtype <U1; images must be"):
        load_image_dataset(name)


def test_npz_labels_must_be_0_to_k_minus_1_unless_num_classes_is_given(tmp_path):
    labels = np.arange(12) % 3
    labels[5] = 200000
    name = _npz(tmp_path / "l.npz", y_train=labels)
    with pytest.raises(
        ValueError,
        match=r"l\.npz: array y_train has label 200000 outside 0\.\.3: the 4 distinct labels "
        r"must be the class indices 0\.\.3; give num_classes=N",
    ):
        load_image_dataset(name)
    # Classes 0, 1 and 3 of 4 (none of class 2): allowed when asked for.
    gap = _npz(tmp_path / "g.npz", y_train=np.arange(12) % 2 * 3, y_test=np.array([0, 1, 3]))
    with pytest.raises(ValueError, match=r"g\.npz: array y_train has label 3 outside 0\.\.2"):
        load_image_dataset(gap)
    assert load_image_dataset(gap, num_classes=4).num_classes == 4
    with pytest.raises(ValueError, match=r"array y_train has label 3 .*\[0, 3\) \(num_classes\)"):
        load_image_dataset(gap, num_classes=3)
    with pytest.raises(ValueError, match="`num_classes` must be an int >= 1"):
        load_image_dataset(gap, num_classes=0)
    with pytest.raises(ValueError, match=r"array y_test has negative labels \(-1\)"):
        load_image_dataset(_npz(tmp_path / "n.npz", y_test=np.array([0, -1, 2])))


def test_npz_nan_or_inf_pixels_name_the_array_and_the_first_index(tmp_path):
    x = np.zeros((12, 4, 4), np.float32)
    x[7, 2, 1] = x[9, 0, 0] = np.nan
    with pytest.raises(
        ValueError,
        match=r"nan\.npz: array x_train holds 2 NaN or infinite values, the first \(nan\) at "
        r"index \(7, 2, 1\); images must be finite",
    ):
        load_image_dataset(_npz(tmp_path / "nan.npz", x_train=x))
    x_val = np.zeros((2, 4, 4))
    x_val[1, 3, 3] = -np.inf
    name = _npz(tmp_path / "inf.npz", x_val=x_val, y_val=np.array([0, 1]))
    with pytest.raises(
        ValueError,
        match=r"array x_val holds 1 NaN or infinite value, .*\(-inf\) at index \(1, 3, 3\)",
    ):
        load_image_dataset(name)


def test_npz_with_too_few_examples_to_split_names_the_file_and_count(tmp_path):
    name = _npz(tmp_path / "one.npz", x_train=np.zeros((1, 4, 4)), y_train=np.array([0]))
    with pytest.raises(
        ValueError,
        match=r"one\.npz: array x_train holds 1 example, too few for a training and a "
        r"validation split",
    ):
        load_image_dataset(name)
    empty = dict(x_train=np.zeros((0, 4, 4)), y_train=np.zeros(0, int))
    with_val = dict(x_val=np.zeros((2, 4, 4)), y_val=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"array x_train holds no training examples"):
        load_image_dataset(_npz(tmp_path / "e.npz", **empty, **with_val))


def test_npz_splits_of_other_image_shapes_or_an_empty_test_split_are_refused(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"three\.npz: test images are \(4, 4, 3\) \(array x_test\) but training images "
        r"are \(4, 4\) \(array x_train\)",
    ):
        load_image_dataset(_npz(tmp_path / "three.npz", x_test=np.zeros((3, 4, 4, 3))))
    with_val = dict(x_val=np.zeros((2, 5, 5)), y_val=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"validation images are \(5, 5\) \(array x_val\)"):
        load_image_dataset(_npz(tmp_path / "val.npz", **with_val))
    empty_test = dict(x_test=np.zeros((0, 4, 4)), y_test=np.zeros(0, int))
    with pytest.raises(ValueError, match=r"array x_test holds no test examples"):
        load_image_dataset(_npz(tmp_path / "notest.npz", **empty_test))


def test_unknown_names_and_options():
    with pytest.raises(ValueError, match="`name` must be one of mnist_subset, mnist"):
        load_image_dataset("imagenet")
    with pytest.raises(ValueError, match="`name`"):
        load_image_dataset(3)
    with pytest.raises(ValueError, match="`test_size` is not an option of 'mnist'"):
        load_image_dataset("mnist", test_size=3)


@pytest.mark.parametrize("name", ["mnist", "cifar10", "nistp", "smallnorb"])
def test_missing_tfds_data_fails_fast_in_one_line(tmp_path, monkeypatch, name):
    probes = []
    monkeypatch.setattr(_tfds, "host_reachable", lambda host: probes.append(host) or False)
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


def test_registry_names():
    assert set(IMAGE_DATASETS) == {"mnist_subset", "mnist", "cifar10", "nistp", "norb", "smallnorb"}


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
