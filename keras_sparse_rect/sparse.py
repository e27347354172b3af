"""Sparse batches on every backend: from a scipy CSR matrix to the first layer (section 4.2).

Keras has no public API for the parts of a sparse tensor, and each backend has
its own sparse type, so this module is the one place that knows them:

- TensorFlow: ``tf.SparseTensor``; :func:`sparse_batches` returns a
  ``tf.data.Dataset`` that gathers the rows of each (shuffled) batch from the
  CSR arrays in the graph, so nothing is ever densified.
- JAX: ``jax.experimental.sparse.BCOO``; :func:`sparse_batches` returns a
  ``keras.utils.PyDataset`` whose batches all have the same number of stored
  entries (a power of two no smaller than the largest possible batch), because
  a jitted step recompiles for every new number of non-zeros
  (``docs/facts.md``, "Sparse input on JAX"). Padding entries are explicit zeros
  at index (0, 0).
- Other backends: dense numpy batches (correct, not fast).
"""

import math

import keras
import numpy as np

from keras_sparse_rect._validation import check_int

_MIN_PADDED_ENTRIES = 64


def is_sparse(x):
    """True for a ``tf.SparseTensor`` (TensorFlow) or a ``BCOO`` array (JAX)."""
    return type(x).__name__ in ("SparseTensor", "SparseTensorValue", "BCOO")


def is_scipy_sparse(x):
    """True for a scipy.sparse matrix or array."""
    return hasattr(x, "tocsr") and hasattr(x, "nnz")


def sparse_parts(x):
    """Returns ``(indices, values)`` of a 2-D backend sparse batch.

    ``indices`` is ``(entries, 2)`` (row, column); entries need not be sorted or
    unique, and explicit zeros (padding) are allowed.
    """
    if len(x.shape) != 2:
        raise ValueError(f"Expected a 2-D sparse batch; got shape {tuple(x.shape)}.")
    if type(x).__name__ == "BCOO":
        return x.indices, x.data
    return x.indices, x.values


def num_rows(x):
    """The batch size of a backend sparse batch (a tensor on TensorFlow when unknown)."""
    rows = x.shape[0]
    if rows is None:  # TensorFlow graph with an unknown batch size.
        rows = x.dense_shape[0]
    return rows


def make_sparse(indices, values, shape):
    """Builds the backend's sparse type from ``(entries, 2)`` indices and values."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # TensorFlow-only: its sparse type.

        dense_shape = tf.stack([tf.cast(size, tf.int64) for size in shape])
        return tf.SparseTensor(tf.cast(indices, tf.int64), values, dense_shape)
    if backend == "jax":
        from jax.experimental import sparse as jax_sparse  # JAX-only: its sparse type.

        return jax_sparse.BCOO((values, indices.astype("int32")), shape=tuple(shape))
    raise ValueError(f"Sparse tensors are not supported on the {backend!r} backend.")


def _padded_size(entries):
    """The next power of two (at least 64): few distinct shapes, at most 2x padding."""
    return max(_MIN_PADDED_ENTRIES, 1 << max(0, math.ceil(math.log2(max(entries, 1)))))


def csr_to_backend(x, pad=None):
    """A scipy sparse batch as the backend's sparse type (float32 values).

    Args:
        x: a 2-D scipy.sparse matrix.
        pad: on JAX, the number of entries to pad to (>= ``x.nnz``); ``None``:
            the next power of two (at least 64).
    """
    coo = x.tocoo()
    backend = keras.backend.backend()
    indices = np.stack([coo.row, coo.col], axis=1)
    values = coo.data.astype("float32")
    if backend == "tensorflow":
        import tensorflow as tf  # TensorFlow-only: its sparse type.

        order = np.lexsort((coo.col, coo.row))
        return tf.SparseTensor(indices[order].astype("int64"), values[order], coo.shape)
    if backend == "jax":
        from jax.experimental import sparse as jax_sparse  # JAX-only: its sparse type.

        size = _padded_size(coo.nnz) if pad is None else int(pad)
        if size < coo.nnz:
            raise ValueError(f"`pad`={pad} is less than the batch's {coo.nnz} entries.")
        if size > coo.nnz:
            indices = np.concatenate([indices, np.zeros((size - coo.nnz, 2), indices.dtype)])
            values = np.concatenate([values, np.zeros(size - coo.nnz, "float32")])
        return jax_sparse.BCOO((values, indices.astype("int32")), shape=coo.shape)
    return np.asarray(x.toarray(), dtype="float32")


def sparse_batches(x, y=None, batch_size=10, shuffle=False, seed=None):
    """Mini-batches of a scipy sparse matrix (and labels) for ``fit``, ``evaluate``, ``predict``.

    The matrix stays sparse from end to end: on TensorFlow a ``tf.data.Dataset``
    of ``tf.SparseTensor`` batches (rows gathered in the graph from the CSR
    arrays), on JAX a ``PyDataset`` of padded ``BCOO`` batches (see the module
    docstring). With ``shuffle`` the order changes every epoch; pass
    ``shuffle=False`` to ``fit`` itself, since the batches are shuffled here
    (Keras warns that it cannot shuffle a ``tf.data.Dataset``).

    Args:
        x: a 2-D scipy.sparse matrix (rows are examples).
        y: optional labels, one per row.
        batch_size: rows per batch.
        shuffle: reshuffle the rows every epoch.
        seed: int seed of the shuffling.

    Example:

    >>> import scipy.sparse as sp
    >>> from keras_sparse_rect.sparse import sparse_batches
    >>> import numpy as np
    >>> x = sp.random(100, 5000, density=0.006, format="csr", dtype="float32", random_state=0)
    >>> y = np.arange(100) % 2
    >>> batches = sparse_batches(x, y, batch_size=10, shuffle=True, seed=0)
    >>> model.fit(batches, shuffle=False)  # doctest: +SKIP
    """
    if not is_scipy_sparse(x) or len(x.shape) != 2:
        raise ValueError(
            f"`x` must be a 2-D scipy.sparse matrix; got x of type {type(x).__name__}."
        )
    batch_size = check_int("batch_size", batch_size, 1)
    x = x.tocsr().astype("float32")
    x.sort_indices()
    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"`y` has {y.shape[0]} rows but `x` has {x.shape[0]}.")
    if keras.backend.backend() == "tensorflow":
        return _tf_dataset(x, y, batch_size, shuffle, seed)
    return SparseRowBatches(x, y, batch_size, shuffle, seed)


def _tf_dataset(x, y, batch_size, shuffle, seed):
    import tensorflow as tf  # TensorFlow-only: tf.data pipeline of SparseTensor batches.

    rows, width = x.shape
    # Column ids as int32 (half the memory of int64); widened per batch.
    columns = tf.RaggedTensor.from_row_splits(
        tf.constant(x.indices, tf.int32), tf.constant(x.indptr, tf.int64), validate=False
    )
    values = tf.RaggedTensor.from_row_splits(
        tf.constant(x.data, tf.float32), tf.constant(x.indptr, tf.int64), validate=False
    )
    labels = None if y is None else tf.constant(y)

    def gather(index):
        cols = tf.gather(columns, index)
        batch = tf.SparseTensor(
            tf.stack([cols.value_rowids(), tf.cast(cols.flat_values, tf.int64)], axis=1),
            tf.gather(values, index).flat_values,
            tf.stack([tf.size(index, out_type=tf.int64), tf.constant(width, tf.int64)]),
        )
        return batch if labels is None else (batch, tf.gather(labels, index))

    data = tf.data.Dataset.range(rows)
    if shuffle:
        data = data.shuffle(rows, seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)


class SparseRowBatches(keras.utils.PyDataset):
    """Batches of a CSR matrix as padded ``BCOO`` (JAX) or dense arrays (other backends).

    Used by :func:`sparse_batches` on backends other than TensorFlow.
    """

    def __init__(self, x, y=None, batch_size=10, shuffle=False, seed=None):
        super().__init__()
        self.x = x
        self.y = y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(x.shape[0]) if shuffle else None
        # One number of entries for every batch: the largest any batch can have.
        lengths = np.sort(np.diff(x.indptr))
        self.entries = _padded_size(int(lengths[-batch_size:].sum()))

    def __len__(self):
        return math.ceil(self.x.shape[0] / self.batch_size)

    def __getitem__(self, index):
        start = index * self.batch_size
        stop = min(start + self.batch_size, self.x.shape[0])
        rows = self.order[start:stop] if self.order is not None else slice(start, stop)
        batch = csr_to_backend(self.x[rows], pad=self.entries)
        if self.y is None:
            return (batch,)
        return batch, self.y[rows]

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(self.x.shape[0])
