"""The first layer of the text stack: a denoising autoencoder for sparse binary input (section 4.2).

With reconstruction sampling (Dauphin, Glorot & Bengio, ICML 2011) the decoder
computes only the columns that matter for a batch instead of all 5,000.
"""

import keras
from keras import ops

from keras_sparse_rect._arrays import to_numpy
from keras_sparse_rect._validation import check_bool, check_int
from keras_sparse_rect.api import register
from keras_sparse_rect.layers.binary_flip_noise import BinaryFlipNoise
from keras_sparse_rect.layers.sparse_dense import SparseDense, gather_rows
from keras_sparse_rect.models._autoencoder import AutoencoderBase
from keras_sparse_rect.models._seeds import offset_seed
from keras_sparse_rect.random import ReplicaAwareSeedGenerator
from keras_sparse_rect.regularizers import ActivityL1
from keras_sparse_rect.sparse import (
    is_scipy_sparse,
    is_sparse,
    num_rows,
    sparse_batches,
    sparse_parts,
)


@register
class SparseInputDenoisingAutoencoder(AutoencoderBase):
    """Denoising autoencoder for sparse binary input, with optional reconstruction sampling.

    The first layer of the stacked denoising autoencoders of section 4.2:
    binary bag-of-words input ``x`` -> :class:`BinaryFlipNoise` ("salt and pepper
    noise", each direction with its own rate) -> encoder ``h = f(x W + b)``
    (:class:`SparseDense`: only the kernel rows of active terms are read) ->
    tied decoder ``a = h W^T + b'`` -> sigmoid cross-entropy against the clean
    ``x``, summed over terms and averaged over the batch, plus the L1 penalty on
    ``h`` (:class:`ActivityL1`).

    **Reconstruction sampling** (``reconstruction_sampling=True``, training
    only): for each batch the decoder computes every column that is non-zero in
    some clean example of the batch, plus a uniform random sample of the other
    columns (at least ``sampled_zeros`` of them). A sampled column is weighted
    by ``(V - u) / (k - u)``, the inverse of its probability of being drawn
    (``V`` columns, ``u`` non-zero ones, ``k`` decoded), so the expected cost
    equals the full cost: the estimate is unbiased. Only ``k`` rows of the tied
    kernel are read and (with SGD on TensorFlow) updated. On JAX, where shapes
    must be static, ``k`` is bounded by the batch's number of stored entries
    plus ``sampled_zeros``. ``evaluate`` always computes the full cost.

    **Decoder bias.** :meth:`adapt` (which ``fit`` calls once on a scipy sparse
    input) starts the decoder bias at the log-odds of each term's frequency,
    ``log(f / (1 - f))``: the reconstruction then starts at the terms' marginal
    probabilities, and the hidden units are not spent on pushing thousands of
    absent terms' logits down (from a zero bias they do so by firing for every
    review, and the code comes out dense).

    ``call`` returns the code ``h`` (of the corrupted input in training);
    :meth:`reconstruct` returns the full reconstruction probabilities.
    ``fit`` accepts a scipy sparse matrix (fed through
    :func:`keras_sparse_rect.sparse.sparse_batches`) or a dataset of sparse
    batches; without ``compile`` it uses plain SGD at 0.01.

    Args:
        units: hidden units, >= 1 (the paper: 5000).
        activation: ``"rectifier"``, ``"softplus"`` or ``"tanh"``.
        l1: L1 activation penalty, >= 0 (section 3.1; Glorot's text setting: 1e-4).
        pepper_rate: probability that a non-zero input is erased (Glorot: 0.8).
        salt_rate: probability that a zero input is set to 1 (Glorot: 0.005).
        reconstruction_sampling: decode only sampled columns in training.
        sampled_zeros: the least number of zero columns decoded per batch, >= 1.
        seed: int seed of the weights, the noise and the sampling, in
            [0, 2**32 - 1]; ``None`` for random.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Raises:
        ValueError: naming the first invalid argument and its value; from
            ``fit`` and ``evaluate``, labels, or input that is not numbers or
            holds NaN or infinity.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.models import SparseInputDenoisingAutoencoder
    >>> x = (np.random.default_rng(0).random((8, 50)) < 0.1).astype("float32")
    >>> small = SparseInputDenoisingAutoencoder(16, seed=0)
    >>> tuple(small.encode(x).shape), tuple(small.reconstruct(x).shape)
    ((8, 16), (8, 50))
    >>> dae = SparseInputDenoisingAutoencoder(5000, reconstruction_sampling=True)
    >>> dae.fit(bag_of_words_csr, batch_size=10, epochs=1)  # doctest: +SKIP
    >>> kernel, bias = dae.encoder_weights()  # doctest: +SKIP
    """

    def __init__(
        self,
        units,
        activation="rectifier",
        l1=1e-4,
        pepper_rate=0.8,
        salt_rate=0.005,
        reconstruction_sampling=False,
        sampled_zeros=256,
        seed=None,
        **kwargs,
    ):
        super().__init__(units, activation, l1, seed, **kwargs)
        self.reconstruction_sampling = check_bool(
            "reconstruction_sampling", reconstruction_sampling
        )
        self.sampled_zeros = check_int("sampled_zeros", sampled_zeros, 1)
        policy = self.dtype_policy
        self.corruption = BinaryFlipNoise(
            pepper_rate, salt_rate, seed=self.seed, name="corruption", dtype=policy
        )
        self.encoder = SparseDense(
            self.units,
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed),
            activity_regularizer=ActivityL1(self.l1),
            name="encoder",
            dtype=policy,
        )
        self.sampling_seed = ReplicaAwareSeedGenerator(offset_seed(self.seed, 1))
        self._adapted = False

    @property
    def pepper_rate(self):
        return self.corruption.pepper_rate

    @property
    def salt_rate(self):
        return self.corruption.salt_rate

    def build(self, input_shape):
        terms = self._check_features(input_shape, "terms")
        self.encoder.build(input_shape)
        self.decoder_bias = self.add_weight(
            name="decoder_bias", shape=(terms,), initializer="zeros"
        )

    def call(self, inputs, training=False):
        return self.encoder(self.corruption(inputs, training=training))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    # The reconstruction cost --------------------------------------------------------

    def _dense_target(self, x):
        if is_sparse(x):
            indices, values = sparse_parts(x)
            dense = ops.scatter(indices, ops.cast(values, "float32"), (num_rows(x), x.shape[1]))
        else:
            dense = ops.cast(ops.convert_to_tensor(x), "float32")
        return ops.cast(dense, self.compute_dtype)

    def _full_cost(self, target, h):
        kernel = ops.cast(self.encoder.kernel, h.dtype)
        logits = ops.matmul(h, ops.transpose(kernel)) + ops.cast(self.decoder_bias, h.dtype)
        return ops.sum(ops.softplus(logits) - target * logits, axis=-1)

    def sampled_columns(self, x, target):
        """``(columns, weights)`` decoded for one batch by reconstruction sampling.

        Every column with a non-zero in ``target`` (weight 1), then uniformly
        drawn other columns (weight ``(V - u) / (k - u)``); see the class docstring.
        """
        width = target.shape[-1]
        active = ops.cast(
            ops.max(ops.cast(ops.not_equal(target, 0), "float32"), axis=0) > 0, "float32"
        )
        num_active = ops.sum(active)
        entries = sparse_parts(x)[0].shape[0] if is_sparse(x) else width
        if isinstance(entries, int):  # static shapes (JAX): a bound on the active columns
            k = min(width, entries + self.sampled_zeros)
        else:  # dynamic shapes (TensorFlow): exactly the active columns plus the sample
            k = ops.cast(ops.minimum(float(width), num_active + self.sampled_zeros), "int32")
        scores = keras.random.uniform((width,), seed=self.sampling_seed) + 2.0 * active
        _, columns = ops.top_k(scores, k)
        drawn = ops.cast(ops.shape(columns)[0], "float32") - num_active
        inverse_probability = ops.divide_no_nan(float(width) - num_active, drawn)
        chosen_active = ops.take(active, columns)
        weights = ops.where(chosen_active > 0, 1.0, inverse_probability)
        return columns, weights

    def _sampled_cost(self, x, target, h):
        columns, weights = self.sampled_columns(x, target)
        kernel = ops.cast(gather_rows(self.encoder.kernel, columns), h.dtype)
        bias = ops.cast(ops.take(self.decoder_bias, columns), h.dtype)
        logits = ops.matmul(h, ops.transpose(kernel)) + bias
        sampled_target = ops.take(target, columns, axis=1)
        values = ops.softplus(logits) - sampled_target * logits
        return ops.sum(values * ops.cast(weights, h.dtype), axis=-1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Reconstruction cost of the clean input plus the L1 penalty; ``y`` is ignored."""
        target = self._dense_target(x)
        if training and self.reconstruction_sampling:
            cost = self._sampled_cost(x, target, y_pred)
        else:
            cost = self._full_cost(target, y_pred)
        return self._reconstruction_loss(ops.cast(cost, "float32"), sample_weight)

    # Public helpers ------------------------------------------------------------------

    def reconstruction_cost(self, x, sampling=False):
        """Per-example reconstruction cost of the clean ``x`` (no noise, no L1).

        With ``sampling=True``, the reconstruction-sampling estimate (one draw of
        the sampled columns): its mean over draws is the full cost.
        """
        h = self.encode(x)
        target = self._dense_target(x)
        if sampling:
            return self._sampled_cost(x, target, h)
        return self._full_cost(target, h)

    def adapt(self, x):
        """Sets the decoder bias to the log-odds of each term's frequency in ``x``.

        Args:
            x: a 2-D scipy sparse matrix (or array) of binary inputs.
        """
        import numpy as np

        rows = x.shape[0]
        if not rows:
            raise ValueError("SparseInputDenoisingAutoencoder.adapt got no examples.")
        present = np.asarray((x != 0).sum(axis=0)).reshape(-1).astype("float64")
        frequency = (present + 0.5) / (rows + 1.0)  # smoothed: no infinite log-odds
        if not self.built:
            self.build((None, frequency.shape[0]))
        if frequency.shape[0] != self.decoder_bias.shape[0]:
            raise ValueError(
                f"adapt got {frequency.shape[0]} terms; the autoencoder was built for "
                f"{self.decoder_bias.shape[0]}."
            )
        self.decoder_bias.assign(np.log(frequency / (1.0 - frequency)).astype("float32"))
        self._adapted = True

    def encode(self, x):
        """The clean code ``h`` of ``x`` (no corruption)."""
        return self(x, training=False)

    def reconstruct(self, x):
        """The clean reconstruction ``sigmoid(h W^T + b')`` of every term, ``(batch, terms)``."""
        h = self.encode(x)
        kernel = ops.cast(self.encoder.kernel, h.dtype)
        return ops.sigmoid(ops.matmul(h, ops.transpose(kernel)) + self.decoder_bias)

    def encoder_weights(self):
        """``(kernel, bias)`` of the encoder, as numpy arrays (to initialise a network)."""
        return (
            to_numpy(self.encoder.kernel),
            to_numpy(self.encoder.bias),
        )

    def _ensure_compiled(self):
        if not self.compiled:
            self.compile(
                optimizer=keras.optimizers.SGD(learning_rate=0.01),
                jit_compile=keras.backend.backend() == "jax",
            )

    def fit(self, x=None, y=None, batch_size=None, shuffle=True, seed=None, **kwargs):
        """``keras.Model.fit`` on unlabeled input; a scipy sparse ``x`` is batched sparsely."""
        self._check_input(x, "fit", y)
        self._ensure_compiled()
        if is_scipy_sparse(x):
            if not self._adapted:
                self.adapt(x)
            x = sparse_batches(x, batch_size=batch_size or 32, shuffle=shuffle, seed=seed)
            batch_size, shuffle = None, False  # the batches are already shuffled
        return super().fit(x, batch_size=batch_size, shuffle=shuffle, **kwargs)

    def _evaluation_input(self, x, kwargs):
        if is_scipy_sparse(x):  # the full clean reconstruction cost, batch by batch
            x = sparse_batches(x, batch_size=kwargs.pop("batch_size", None) or 32)
        return x, kwargs

    def load_own_variables(self, store):
        # A loaded model's decoder bias was adapted before it was saved.
        super().load_own_variables(store)
        self._adapted = True

    def get_config(self):
        return {
            **super().get_config(),
            "pepper_rate": self.pepper_rate,
            "salt_rate": self.salt_rate,
            "reconstruction_sampling": self.reconstruction_sampling,
            "sampled_zeros": self.sampled_zeros,
        }
