"""The image data set registry: names, options, the offline default."""

import numpy as np
import pytest

from keras_sparse_rect.data import IMAGE_DATASETS, ImageDataset, load_image_dataset


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


def test_unknown_names_and_options():
    with pytest.raises(ValueError, match="`name` must be one of mnist_subset, mnist"):
        load_image_dataset("imagenet")
    with pytest.raises(ValueError, match="`name`"):
        load_image_dataset(3)
    with pytest.raises(ValueError, match="`test_size` is not an option of 'mnist'"):
        load_image_dataset("mnist", test_size=3)


def test_registry_names():
    assert set(IMAGE_DATASETS) == {"mnist_subset", "mnist", "cifar10", "nistp", "norb", "smallnorb"}
