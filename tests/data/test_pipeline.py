"""The tf.data pipeline: splits as batches, uint8 scaling, argument checks."""

import numpy as np
import pytest

from keras_sparse_rect.data import to_tf_dataset


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
