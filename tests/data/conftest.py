"""Fixtures of the data tests: the offline MNIST subset, loaded once per module."""

import pytest

from keras_sparse_rect.data import load_image_dataset


@pytest.fixture(scope="module")
def mnist_subset():
    return load_image_dataset("mnist_subset")
