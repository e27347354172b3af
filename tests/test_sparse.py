import keras
import numpy as np
import pytest
import scipy.sparse as sp

from keras_sparse_rect.sparse import csr_to_backend, is_sparse, sparse_batches, sparse_parts
from tests.helpers import to_numpy


def matrix(rows=23, cols=50, seed=0):
    x = sp.random(rows, cols, density=0.1, format="csr", random_state=seed, dtype="float32")
    x.data[:] = 1.0
    return x


def batch_to_dense(batch):
    indices, values = (to_numpy(a) for a in sparse_parts(batch))
    dense = np.zeros(tuple(int(s) for s in batch.shape if s is not None) or (0,), "float32")
    if batch.shape[0] is None:  # pragma: no cover - eager batches have a static shape
        raise AssertionError("unknown batch size")
    np.add.at(dense, (indices[:, 0], indices[:, 1]), values)
    return dense


def unpack(element):
    if isinstance(element, tuple):
        return element if len(element) == 2 else (element[0], None)
    return element, None


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_are_sparse_and_cover_every_row_once(shuffle):
    x = matrix()
    y = np.arange(x.shape[0])  # the label of a row is its index
    seen = []
    data = sparse_batches(x, y, batch_size=5, shuffle=shuffle, seed=1)
    for _ in range(2):
        rows = []
        for element in data:
            batch, labels = unpack(element)
            assert is_sparse(batch)
            labels = to_numpy(labels)
            # Each example arrives with its own label.
            np.testing.assert_array_equal(batch_to_dense(batch), x[labels].toarray())
            rows.extend(labels.tolist())
        assert sorted(rows) == list(range(x.shape[0]))
        seen.append(rows)
        if hasattr(data, "on_epoch_end"):  # a PyDataset: Keras calls this after each epoch
            data.on_epoch_end()
    assert (seen[0] != seen[1]) == shuffle  # reshuffled every epoch


def test_unlabeled_batches_and_padding():
    x = matrix()
    elements = list(sparse_batches(x, batch_size=10))
    assert len(elements) == 3
    batch, labels = unpack(elements[-1])
    assert labels is None and batch.shape[0] == 3
    if keras.backend.backend() == "jax":
        # Every batch has the same number of entries, so a jitted step compiles once.
        sizes = {sparse_parts(unpack(e)[0])[0].shape[0] for e in elements}
        assert len(sizes) == 1 and sizes.pop() >= max(x[i : i + 10].nnz for i in (0, 10, 20))


def test_csr_to_backend_round_trip():
    x = matrix(rows=4)
    np.testing.assert_array_equal(batch_to_dense(csr_to_backend(x)), x.toarray())


def test_fit_a_model_on_sparse_batches():
    x, y = matrix(rows=40), np.arange(40) % 2
    inputs = keras.Input((50,), sparse=True)
    model = keras.Model(inputs, keras.layers.Dense(2, "softmax")(inputs))
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(
        sparse_batches(x, y, batch_size=8, shuffle=True, seed=0), shuffle=False, verbose=0
    )
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"x": np.zeros((3, 4))}, "x"), ({"x": matrix(), "batch_size": 0}, "batch_size")],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sparse_batches(**kwargs)


def test_labels_must_match_rows():
    with pytest.raises(ValueError, match="rows"):
        sparse_batches(matrix(), np.zeros(3))
