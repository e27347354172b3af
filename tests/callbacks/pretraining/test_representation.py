"""The unlabeled data's checks and the cached representation of each layer's input."""

import os

import numpy as np
import pytest

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
from keras_sparse_rect.callbacks.pretraining import representation
from keras_sparse_rect.callbacks.pretraining.representation import (
    RepresentationCache,
    cache_representation,
)
from keras_sparse_rect.models import (
    build_deep_network,
    compile_for_paper,
)
from tests.callbacks.pretraining.common import digits, small_network


def test_images_are_flattened_and_large_representations_stream_from_disk(monkeypatch):
    x, _ = digits()
    model = build_deep_network((28, 28), 10, hidden_units=(16, 16), seed=0)
    compile_for_paper(model, learning_rate=0.05)
    spilled = []
    cache_representation = representation.cache_representation

    def spy(*args):
        cache = cache_representation(*args)
        spilled.append(cache.path)
        return cache

    monkeypatch.setattr(representation, "cache_representation", spy)
    pretraining = GreedyLayerwisePretraining(
        x[:500].reshape(-1, 28, 28), epochs=2, max_cache_bytes=20_000, seed=0
    )
    pretraining.set_model(model)
    pretraining.on_train_begin()
    assert all(path is not None for path in spilled)  # 500 x 784 floats > 20 kB: on disk
    assert not any(os.path.exists(path) for path in spilled)  # removed afterwards
    for layer in (1, 2):
        curve = pretraining.history[f"pretrain/layer_{layer}/reconstruction"]
        assert curve[-1] < curve[0]


def test_unlabeled_tf_data_gives_the_same_representation_as_an_array():
    # tf.data input works on every backend (TensorFlow is a dependency).
    import tensorflow as tf

    x, y = digits()
    model = small_network(units=(16, 16))
    dense = model.get_layer("hidden_2_dense")
    expected = cache_representation(model, dense, x[:300], 2**30).finish()
    for dataset in (
        tf.data.Dataset.from_tensor_slices((x[:300], y[:300])),  # unbatched (x, y)
        tf.data.Dataset.from_tensor_slices(x[:300]).batch(64),
    ):
        np.testing.assert_allclose(
            cache_representation(model, dense, dataset, 2**30).finish(), expected, atol=1e-6
        )
    pretraining = GreedyLayerwisePretraining(
        tf.data.Dataset.from_tensor_slices(x[:300]).batch(32), epochs=1
    )
    model.fit(x[:20], y[:20], batch_size=10, epochs=1, verbose=0, callbacks=[pretraining])
    assert pretraining.completed_layers == 2


@pytest.mark.parametrize(
    "unlabeled, needle",
    [
        (np.zeros((20, 100), "float32"), r"`unlabeled` has examples of shape \(100,\)"),
        (["a", "b"], "`unlabeled` must be numbers"),
        (np.array([["a"] * 784] * 2), "`unlabeled` must hold numbers"),
    ],
)
def test_bad_unlabeled_data_names_the_argument(unlabeled, needle):
    with pytest.raises(ValueError, match=needle):
        GreedyLayerwisePretraining(unlabeled, epochs=1).pretrain(small_network(units=(8,)))


def test_nan_in_the_unlabeled_data_is_refused_with_its_position():
    x = digits()[0][:50].copy()
    x[7, 300] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite.*index \(7, 300\)"):
        GreedyLayerwisePretraining(x, epochs=1)


def test_the_cache_spills_past_max_bytes_and_its_file_goes_with_cleanup():
    rows = np.arange(12, dtype="float32").reshape(6, 2)
    in_memory = RepresentationCache(max_bytes=10**6)
    spilling = RepresentationCache(max_bytes=20, signs=np.array([1.0, -1.0], "float32"))
    for cache in (in_memory, spilling):
        cache.append(rows[:4])
        cache.append(rows[4:])
    np.testing.assert_array_equal(in_memory.finish(), rows)
    assert in_memory.path is None
    np.testing.assert_array_equal(np.asarray(spilling.finish()), rows)
    assert os.path.exists(spilling.path)
    assert (spilling.low, spilling.high) == (-11.0, 10.0)  # with the sign pattern applied
    spilling.cleanup()
    assert not os.path.exists(spilling.path)
