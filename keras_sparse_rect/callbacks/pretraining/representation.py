"""The input of the layer being pretrained: checked, computed once, kept in memory or on disk.

Greedy layer-wise pretraining (section 4.1) trains hidden layer ``k`` on the
clean representation computed by the layers below it. That representation is
computed once per layer for every unlabeled example (:func:`cache_representation`)
and read from the cache during the layer's epochs; the layers below are never
re-run. A sparse first layer (section 4.2) reads the scipy.sparse input itself
(:class:`SparseInput`).

>>> import numpy as np
>>> cache = RepresentationCache(max_bytes=2**20)
>>> cache.append(np.ones((3, 2), "float32"))
>>> cache.finish().shape, cache.path is None
((3, 2), True)
"""

import math
import os
import shutil
import tempfile

import keras
import numpy as np

CACHE_BATCH = 1024
_BLOCK_ROWS = 4096


# Checks of the unlabeled data ---------------------------------------------------


def check_unlabeled(unlabeled):
    """``unlabeled`` as given, if it is an array of examples, scipy.sparse or a tf.data.Dataset.

    Raises:
        ValueError: naming ``unlabeled``, if it is not numbers of shape
            (examples, ...), or holds NaN or infinite values (the first's index).
    """
    if hasattr(unlabeled, "element_spec"):  # tf.data.Dataset
        return unlabeled
    if hasattr(unlabeled, "tocsr"):  # scipy.sparse
        return unlabeled
    if isinstance(unlabeled, (list, tuple)):
        try:
            unlabeled = np.asarray(unlabeled, dtype="float32")
        except (TypeError, ValueError):
            raise ValueError(
                "`unlabeled` must be numbers of shape (examples, ...); got a "
                f"{type(unlabeled).__name__} whose items are not numbers (first: "
                f"{unlabeled[0]!r})."
            ) from None
    shape = getattr(unlabeled, "shape", None)
    if shape is None or len(shape) < 2:
        raise ValueError(
            "`unlabeled` must be an array of shape (examples, ...), a scipy.sparse matrix or a "
            f"tf.data.Dataset; got unlabeled={unlabeled!r}."
        )
    dtype = getattr(unlabeled, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "biuf":
        raise ValueError(f"`unlabeled` must hold numbers; got an array of dtype {dtype}.")
    if isinstance(unlabeled, np.ndarray) and np.dtype(unlabeled.dtype).kind == "f":
        bad = np.argwhere(~np.isfinite(unlabeled))
        if bad.size:
            raise ValueError(
                f"`unlabeled` holds {bad.shape[0]} NaN or infinite values; the first is at "
                f"index {tuple(int(i) for i in bad[0])}."
            )
    return unlabeled


def check_width(unlabeled, model):
    """Raises ``ValueError`` unless ``unlabeled``'s example shape is ``model``'s input shape."""
    shape = getattr(unlabeled, "shape", None)
    expected = tuple(model.inputs[0].shape[1:])
    if shape is None or None in expected:
        return
    if tuple(shape[1:]) != expected:
        raise ValueError(
            f"`unlabeled` has examples of shape {tuple(shape[1:])} but model "
            f"{model.name!r} takes inputs of shape {expected}."
        )


# The cached representation ------------------------------------------------------


def _dense_batch(batch):
    if isinstance(batch, (tuple, list)):
        batch = batch[0]
    if hasattr(batch, "toarray"):  # scipy.sparse
        return np.asarray(batch.toarray(), dtype="float32")
    if type(batch).__name__ == "SparseTensor":
        import tensorflow as tf  # only for tf.data input, which is TensorFlow's

        batch = tf.sparse.to_dense(batch)
    if hasattr(batch, "numpy"):  # a tf.Tensor from tf.data, on any Keras backend
        batch = batch.numpy()
    return np.asarray(keras.ops.convert_to_numpy(batch), dtype="float32")


def raw_batches(data, batch_size, input_rank):
    """Yields dense float32 numpy batches of the unlabeled inputs."""
    if hasattr(data, "element_spec"):  # tf.data.Dataset
        spec = data.element_spec
        if isinstance(spec, (tuple, list)):
            spec = spec[0]
        if len(spec.shape) == input_rank - 1:  # unbatched elements
            data = data.batch(batch_size)
        for batch in data:
            yield _dense_batch(batch)
        return
    if hasattr(data, "shape") and hasattr(data, "__getitem__"):
        for start in range(0, data.shape[0], batch_size):
            yield _dense_batch(data[start : start + batch_size])
        return
    for batch in data:
        yield _dense_batch(batch)


class RepresentationCache:
    """Rows appended batch by batch: in memory, or spilled to a file past ``max_bytes``."""

    def __init__(self, max_bytes, signs=None):
        self.max_bytes = max_bytes
        self.signs = signs
        self.chunks = []
        self.nbytes = 0
        self.rows = 0
        self.width = None
        self.low = math.inf
        self.high = -math.inf
        self.directory = None
        self.path = None
        self._file = None

    def append(self, batch):
        batch = np.ascontiguousarray(batch.reshape(batch.shape[0], -1), dtype="float32")
        if batch.shape[0] == 0:
            return
        self.width = batch.shape[1]
        signed = batch * self.signs if self.signs is not None else batch
        self.low = min(self.low, float(signed.min()))
        self.high = max(self.high, float(signed.max()))
        self.rows += batch.shape[0]
        if self._file is None and self.nbytes + batch.nbytes > self.max_bytes:
            self.directory = tempfile.mkdtemp(prefix="keras_sparse_rect_pretraining_")
            self.path = os.path.join(self.directory, "representation.f32")
            self._file = open(self.path, "wb")  # noqa: SIM115 (closed in finish)
            for chunk in self.chunks:
                self._file.write(chunk.tobytes())
            self.chunks = []
        if self._file is not None:
            self._file.write(batch.tobytes())
        else:
            self.chunks.append(batch)
        self.nbytes += batch.nbytes

    def finish(self):
        """The rows: a numpy array, or a read-only memory map of the spilled file."""
        if self.rows == 0:
            raise ValueError("GreedyLayerwisePretraining got no unlabeled examples.")
        if self._file is None:
            return np.concatenate(self.chunks) if len(self.chunks) > 1 else self.chunks[0]
        self._file.close()
        return np.memmap(self.path, dtype="float32", mode="r", shape=(self.rows, self.width))

    def cleanup(self):
        self.chunks = []
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


class ShuffledBatches(keras.utils.PyDataset):
    """Batches of a memory-mapped array, shuffled by blocks of rows each epoch.

    Rows are read in blocks of contiguous rows (in a random order, each block
    shuffled), so that an array larger than memory streams from disk.
    """

    def __init__(self, data, batch_size, seed=None):
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self._shuffled_order()

    def _shuffled_order(self):
        rows = self.data.shape[0]
        starts = self.rng.permutation(np.arange(0, rows, _BLOCK_ROWS))
        return np.concatenate(
            [s + self.rng.permutation(min(_BLOCK_ROWS, rows - s)) for s in starts]
        )

    def __len__(self):
        return math.ceil(self.data.shape[0] / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return np.asarray(self.data[np.sort(rows)])

    def on_epoch_end(self):
        self.order = self._shuffled_order()


def cache_representation(model, dense, unlabeled, max_bytes, input_signs=None):
    """The input of ``dense`` (a layer of ``model``) for every unlabeled example, computed once.

    Args:
        model: the network.
        dense: the ``Dense`` layer about to be pretrained.
        unlabeled: the unlabeled inputs (see :func:`check_unlabeled`).
        max_bytes: the largest representation kept in memory; past it, the rows
            go to a temporary file, read back as a memory map.
        input_signs: the sign pattern of the sign-flipped layer below, or ``None``.

    Returns:
        A :class:`RepresentationCache` (call ``finish()`` for the rows and
        ``cleanup()`` when done).
    """
    inputs = model.inputs[0]
    probe = None if dense.input is inputs else keras.Model(inputs, dense.input)
    cache = RepresentationCache(max_bytes, signs=input_signs)
    for batch in raw_batches(unlabeled, CACHE_BATCH, len(inputs.shape)):
        if probe is not None:
            batch = np.asarray(keras.ops.convert_to_numpy(probe.predict_on_batch(batch)))
        cache.append(batch)
    return cache


def layer_input(model, dense, unlabeled, *, sparse, max_bytes, input_signs=None):
    """The input of ``dense``: the sparse ``unlabeled`` itself, or its cached representation."""
    if sparse:
        return SparseInput(unlabeled)
    return cache_representation(model, dense, unlabeled, max_bytes, input_signs)


def fit_inputs(data, cache, batch_size, seed):
    """``(inputs, batch_size)`` for ``fit``: the rows, or shuffled batches read from disk."""
    if cache.path is None:
        return data, batch_size
    return ShuffledBatches(data, batch_size, seed=seed), None


class SparseInput:
    """The unlabeled sparse input of a sparse first layer, used as it is (no cache)."""

    path = None

    def __init__(self, unlabeled):
        if not hasattr(unlabeled, "tocsr"):
            raise ValueError(
                "The first hidden layer reads a sparse input (SparseDense): `unlabeled` must "
                f"be a scipy.sparse matrix; got {type(unlabeled).__name__}."
            )
        self.data = unlabeled.tocsr()
        self.rows, self.width = self.data.shape

    def finish(self):
        return self.data

    def cleanup(self):
        self.data = None


def rows_of(data, rows):
    """``data[rows]`` as an in-memory array (numpy, or scipy.sparse kept sparse)."""
    if hasattr(data, "tocsr"):
        return data[rows]
    return np.asarray(data[rows])
