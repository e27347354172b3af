"""The binary bag of words of section 4.2, built by TextVectorization and kept sparse."""

import numpy as np

from keras_sparse_rect._validation import check_choice, check_int

_METHODS = ("auto", "multi_hot", "int")


class BagOfWords:
    """Binary presence/absence of the ``num_terms`` most frequent terms, as a sparse matrix.

    Section 4.2: reviews are "transformed into binary vectors encoding the
    presence/absence of terms", keeping "the 5000 most frequent terms". The
    vocabulary, standardization (lower case, punctuation stripped) and splitting
    (whitespace) are those of ``keras.layers.TextVectorization``, run in
    ``tf.data`` (TensorFlow is a dependency of this library, whatever the Keras
    backend). The result is a ``scipy.sparse`` CSR matrix, never a dense one:

    - ``method="multi_hot"`` (the default on the TensorFlow backend):
      ``TextVectorization(output_mode="multi_hot", sparse=True)``, whose
      ``tf.SparseTensor`` batches are copied into the CSR arrays;
    - ``method="int"`` (the default on other backends, where Keras allows
      ``sparse=True`` only on TensorFlow): ``output_mode="int"`` token ids, the
      distinct ids of each review becoming its non-zeros. Same matrix.

    Column ``j`` is ``vocabulary[j]``; terms outside the vocabulary are dropped
    (TextVectorization's out-of-vocabulary bucket is not a column).

    Args:
        num_terms: the most frequent terms kept (the paper: 5000), >= 1.
        vocabulary: a fixed vocabulary instead of :meth:`adapt`.
        method: ``"auto"``, ``"multi_hot"`` or ``"int"`` (see above).
        batch_size: reviews per vectorization batch.

    Example:

    >>> from keras_sparse_rect.data.bag_of_words import BagOfWords
    >>> bow = BagOfWords(num_terms=3).adapt(["good food", "good service", "bad food, good"])
    >>> bow.vocabulary
    ['good', 'food', 'service']
    >>> bow.transform(["Good, good food!"]).toarray().tolist()
    [[1.0, 1.0, 0.0]]
    """

    def __init__(self, num_terms=5000, vocabulary=None, method="auto", batch_size=1024):
        check_int("num_terms", num_terms, 1)
        check_choice("method", method, _METHODS)
        check_int("batch_size", batch_size, 1)
        if method == "auto":
            import keras

            method = "multi_hot" if keras.backend.backend() == "tensorflow" else "int"
        self.num_terms = int(num_terms)
        self.method = method
        self.batch_size = batch_size
        self._layer = None
        if vocabulary is not None:
            vocabulary = [str(term) for term in vocabulary]
            if not vocabulary or len(set(vocabulary)) != len(vocabulary):
                raise ValueError("`vocabulary` must be a non-empty list of distinct terms.")
            self._layer = self._make_layer(vocabulary[: self.num_terms])

    @property
    def _reserved(self):
        # multi_hot: index 0 is the OOV bucket; int: 0 is padding, 1 is OOV.
        return 1 if self.method == "multi_hot" else 2

    def _make_layer(self, vocabulary=None):
        import keras

        return keras.layers.TextVectorization(
            max_tokens=self.num_terms + self._reserved,
            output_mode=self.method,
            sparse=self.method == "multi_hot",
            vocabulary=vocabulary,
        )

    def adapt(self, texts):
        """Learns the vocabulary: the ``num_terms`` most frequent terms of ``texts``."""
        import tensorflow as tf  # TextVectorization runs in tf.data on every backend.

        texts = _as_string_list(texts)
        if not texts:
            raise ValueError("BagOfWords.adapt got no texts.")
        self._layer = self._make_layer()
        self._layer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(self.batch_size))
        return self

    @property
    def vocabulary(self):
        """The terms, most frequent first: column ``j`` is ``vocabulary[j]``."""
        self._check_adapted()
        return [str(term) for term in self._layer.get_vocabulary()[self._reserved :]]

    def _check_adapted(self):
        if self._layer is None:
            raise ValueError("BagOfWords has no vocabulary: call adapt(texts) first.")

    def transform(self, texts):
        """The binary bag of words of ``texts``: CSR, float32, shape ``(len(texts), terms)``."""
        import scipy.sparse as sp
        import tensorflow as tf  # TextVectorization runs in tf.data on every backend.

        self._check_adapted()
        texts = _as_string_list(texts)
        width = len(self.vocabulary)
        columns, counts = [], []
        if texts:
            data = tf.data.Dataset.from_tensor_slices(texts).batch(self.batch_size)
            for batch in data.map(self._layer).prefetch(2):
                rows, cols = self._batch_entries(batch)
                size = int(batch.dense_shape[0]) if self.method == "multi_hot" else batch.shape[0]
                columns.append(cols.astype("int32"))
                counts.append(np.bincount(rows, minlength=size))
        indptr = np.zeros(len(texts) + 1, dtype="int64")
        if counts:
            np.cumsum(np.concatenate(counts), out=indptr[1:])
        indices = np.concatenate(columns) if columns else np.zeros(0, "int32")
        data = np.ones(indices.shape[0], dtype="float32")
        return sp.csr_matrix((data, indices, indptr), shape=(len(texts), width))

    def _batch_entries(self, batch):
        """Sorted (row, column) of the distinct in-vocabulary terms of one batch."""
        if self.method == "multi_hot":
            indices = batch.indices.numpy()  # canonical order: by row, then column
            keep = indices[:, 1] >= self._reserved
            return indices[keep, 0], indices[keep, 1] - self._reserved
        ids = np.asarray(batch)
        rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
        ids = ids.reshape(-1)
        keep = ids >= self._reserved
        keys = np.unique(rows[keep] * (self.num_terms + self._reserved) + ids[keep])
        rows, ids = np.divmod(keys, self.num_terms + self._reserved)
        return rows, ids - self._reserved

    def fit_transform(self, texts):
        """:meth:`adapt`, then :meth:`transform`."""
        return self.adapt(texts).transform(texts)


def _as_string_list(texts):
    if isinstance(texts, str):
        raise ValueError("`texts` must be a list of strings, not one string.")
    return [str(t) for t in texts]
