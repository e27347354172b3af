"""Fixtures of the tuning tests: real digits and real reviews, both tiny."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def digits(tiny_mnist):
    """Training and validation images of the tiny_mnist fixture (real digits), flattened."""
    with np.load(tiny_mnist.removeprefix("npz:")) as data:
        return {
            name: data[name].reshape(len(data[name]), -1) if name.startswith("x") else data[name]
            for name in ("x_train", "y_train", "x_val", "y_val")
        }


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """300 real Rotten Tomatoes snippets as a bag of 300 terms (skips without the corpus)."""
    from keras_sparse_rect.data import load_reviews
    from tests.review_data import write_sample

    path = write_sample(tmp_path_factory.mktemp("reviews") / "rt.csv", rows=300)
    return load_reviews(
        path, "text", "category", "rotten,fresh", ignore_ratings=("plot",), num_terms=300
    )
