"""The cached input of the layer being pretrained: built once, in memory or on disk."""

import math
import os
import shutil
import tempfile

import keras
import numpy as np

_CACHE_BATCH = 1024
_BLOCK_ROWS = 4096


def _numpy(variable):
    return np.array(keras.ops.convert_to_numpy(variable))


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


def _raw_batches(data, batch_size, input_rank):
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


class _RepresentationCache:
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


class _ShuffledBatches(keras.utils.PyDataset):
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


def _dead_fraction(dae, data, sample, seed):
    """Fraction of ``dae``'s units that are 0 on every row of ``data`` (or a sample of it).

    The encoder computes the network layer's own activations (its weights are
    copied there), so this is the layer's dead fraction on the unlabeled data.
    """
    rows = data.shape[0]
    if rows > sample:  # sorted, so a memory-mapped cache is read in order
        chosen = np.sort(np.random.default_rng(seed).choice(rows, sample, replace=False))
    else:
        chosen = np.arange(rows)
    alive = np.zeros(dae.units, dtype=bool)
    for start in range(0, chosen.size, _CACHE_BATCH):
        batch = _rows(data, chosen[start : start + _CACHE_BATCH])
        if hasattr(batch, "toarray"):  # scipy.sparse: the encoder takes it dense
            batch = np.asarray(batch.toarray(), dtype="float32")
        code = np.asarray(keras.ops.convert_to_numpy(dae.encode(batch)))
        alive |= np.any(code != 0, axis=0)
    return float(1.0 - alive.mean())


def _rows(data, rows):
    """``data[rows]`` as an in-memory array (numpy, or scipy.sparse kept sparse)."""
    if hasattr(data, "tocsr"):
        return data[rows]
    return np.asarray(data[rows])
