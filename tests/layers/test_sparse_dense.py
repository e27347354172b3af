import keras
import numpy as np
import pytest
import scipy.sparse as sp

from keras_sparse_rect.layers import SparseDense
from keras_sparse_rect.sparse import csr_to_backend, sparse_batches
from tests.helpers import assert_config_round_trip, save_and_reload, to_numpy

TERMS, UNITS = 300, 16


def bag_of_words(rows=40, density=0.03, seed=0):
    x = sp.random(rows, TERMS, density=density, format="csr", random_state=seed, dtype="float32")
    x.data[:] = 1.0
    return x


def twin_models(units=UNITS):
    """A SparseDense model on sparse input and a Dense model on dense input, same weights."""
    sparse_in = keras.Input((TERMS,), sparse=True)
    sparse = keras.Model(sparse_in, SparseDense(units, "rectifier", name="layer")(sparse_in))
    dense_in = keras.Input((TERMS,))
    dense = keras.Model(dense_in, keras.layers.Dense(units, "relu", name="layer")(dense_in))
    dense.set_weights(sparse.get_weights())
    return sparse, dense


def test_sparse_input_matches_dense_layer():
    x = bag_of_words()
    sparse, dense = twin_models()
    expected = to_numpy(dense(x.toarray()))
    np.testing.assert_allclose(to_numpy(sparse(csr_to_backend(x))), expected, atol=1e-5)
    # The same layer also takes dense input.
    np.testing.assert_allclose(to_numpy(sparse(x.toarray())), expected, atol=1e-5)


def test_explicit_zeros_and_weighted_values():
    # Stored zeros (like the JAX padding) add nothing; other values scale their rows.
    x = bag_of_words(rows=6)
    x.data[:] = np.linspace(0.5, 2.0, x.nnz).astype("float32")
    x.data[::3] = 0.0  # explicit zeros stay stored in the CSR arrays
    layer = SparseDense(UNITS, use_bias=False)
    layer.build((None, TERMS))
    expected = x.toarray() @ to_numpy(layer.kernel)
    np.testing.assert_allclose(to_numpy(layer(csr_to_backend(x))), expected, atol=1e-5)


def test_one_sgd_step_equals_dense_training():
    x, y = bag_of_words(rows=10), np.arange(10) % 2
    outputs = []
    for use_sparse in (True, False):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((TERMS,), sparse=use_sparse)
        first = SparseDense(UNITS, "rectifier") if use_sparse else keras.layers.Dense(UNITS, "relu")
        model = keras.Model(inputs, keras.layers.Dense(2, "softmax")(first(inputs)))
        if outputs:
            model.set_weights(outputs[0][0])
        initial = model.get_weights()
        model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
        data = sparse_batches(x, y, batch_size=10) if use_sparse else (x.toarray(), y)
        if use_sparse:
            model.fit(data, epochs=1, verbose=0, shuffle=False)
        else:
            model.fit(*data, batch_size=10, epochs=1, verbose=0, shuffle=False)
        outputs.append((initial, model.get_weights()))
    for a, b in zip(outputs[0][1], outputs[1][1], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(outputs[0][0][0], outputs[0][1][0])  # it did learn


@pytest.mark.tensorflow_only
def test_kernel_gradient_touches_only_active_rows():
    import tensorflow as tf

    x = bag_of_words(rows=4, density=0.01)
    layer = SparseDense(UNITS)
    layer.build((None, TERMS))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(csr_to_backend(x)))
    gradient = tape.gradient(loss, layer.kernel.value)
    assert isinstance(gradient, tf.IndexedSlices)
    assert set(gradient.indices.numpy()) == set(x.indices)


def test_save_and_reload_network_with_sparse_input(tmp_path):
    x = bag_of_words()
    sparse, _ = twin_models()
    restored = save_and_reload(sparse, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored(csr_to_backend(x))), to_numpy(sparse(csr_to_backend(x))), atol=1e-6
    )


def test_config_round_trip():
    layer = SparseDense(7, "tanh", use_bias=False, name="first")
    restored = assert_config_round_trip(layer)
    assert restored.units == 7 and restored.use_bias is False
    assert restored.compute_output_shape((None, TERMS)) == (None, 7)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"units": 0}, "units"),
        ({"units": 2.5}, "units"),
        ({"units": 3, "activation": "sig"}, "activation"),
        ({"units": 3, "use_bias": 1}, "use_bias"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SparseDense(**kwargs)


def test_rejects_inputs_that_are_not_2d():
    with pytest.raises(ValueError, match="2-D"):
        SparseDense(3).build((None, 4, 5))
