"""One layer of a stack of denoising autoencoders (sections 3.2 and 4)."""

import math

import keras
import numpy as np
from keras import ops

from keras_sparse_rect import activations, losses, names
from keras_sparse_rect._arrays import to_numpy
from keras_sparse_rect._validation import check_bool, check_choice
from keras_sparse_rect.api import register
from keras_sparse_rect.layers import SignFlippedRectifier, UnitIntervalScaling, make_noise
from keras_sparse_rect.models._autoencoder import AutoencoderBase
from keras_sparse_rect.models._seeds import offset_seed
from keras_sparse_rect.models.training import compile_for_paper
from keras_sparse_rect.regularizers import ActivityL1

#: The reconstruction strategies, by name (section 3.2 and 4.1).
RECONSTRUCTIONS = names.RECONSTRUCTIONS


def _check_target_range(target_range):
    try:
        low, high = (float(v) for v in target_range)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ValueError(
            "`target_range` must be (low, high) with finite low < high; got "
            f"target_range={target_range!r}."
        )
    return low, high


def _check_signs(input_signs):
    if input_signs is None:
        return None
    signs = np.asarray(input_signs, dtype="float32")
    if signs.ndim != 1 or signs.size == 0 or not np.all(np.abs(signs) == 1.0):
        raise ValueError(
            "`input_signs` must be None or a 1-D sequence of +1 and -1; got "
            f"input_signs={input_signs!r}."
        )
    return signs


@register
class DenoisingAutoencoder(AutoencoderBase):
    """One layer of a stacked denoising autoencoder (Vincent et al., 2008; section 3.2).

    ``x -> corruption -> encoder h = f(x W + b) -> decoder logits a = h W' + b'``,
    trained to reconstruct the clean ``x``. The encoder is a ``Dense`` layer
    (``encoder``) and its non-linearity (``encoder_activation``: a
    :class:`SignFlippedRectifier`, or a rectifier, softplus or tanh), with the
    paper's L1 activation penalty (:class:`ActivityL1`). The decoder's weights are
    tied, ``W' = W^T``, with their own bias (as in Glorot's code), or untied.

    ``reconstruction`` picks one of the strategies of section 3.2:

    - ``"softplus_quadratic"``: softplus decoder, quadratic cost (strategy 1, the
      paper's choice for images and for rectifier and softplus networks in 4.1);
    - ``"scaled_sigmoid_cross_entropy"``: the input is first scaled into [0, 1]
      by a :class:`UnitIntervalScaling` layer (``input_scaling``, set by
      :meth:`adapt`, which ``fit`` calls once by itself), then sigmoid decoder,
      cross-entropy (strategy 2, the paper's choice for text, section 4.2);
    - ``"sigmoid_cross_entropy"``: sigmoid decoder and cross-entropy on inputs in
      ``target_range``: (0, 1) for binary input or pixels; (-1, 1) for the
      activations of a tanh layer (the tanh cross-entropy of section 4.1).

    Costs are summed over input units and averaged over the batch. ``fit(x)``
    trains on unlabeled inputs alone (no ``y``); without ``compile`` it uses
    :func:`compile_for_paper` (SGD at the constant learning rate 0.001). Its logs hold ``loss``
    (reconstruction plus L1 penalty) and ``reconstruction``, the reconstruction
    cost alone: of the corrupted input during training, of the clean input in
    ``evaluate``. ``call`` returns the decoder's pre-activation (logits); use
    :meth:`reconstruct` and :meth:`encode` for the reconstruction and the code.

    ``input_signs`` (+1/-1 per input unit) is the sign pattern of a
    :class:`SignFlippedRectifier` layer below: as in Glorot's code the decoder's
    output units get the same signs, so a softplus decoder can reconstruct the
    negated units (the cost is computed on ``input_signs * x``).

    **Signs and tied weights.** A sign pattern is a fixed reparametrisation:
    the encoder weighs ``|x_i|`` by ``s_i W_ij`` and unit ``j`` fires
    ``max(0, .)`` before its own sign is applied for the layer above. With
    ``sign_consistent=True`` (the default) the tied decoder reads that unsigned
    code and uses the same effective weights, ``a_i = s_i sum_j max(0, .)_j
    W_ij``, so the autoencoder is an ordinary tied autoencoder of ``|x|``.
    ``sign_consistent=False`` is Glorot's DeepANN: the signed code through
    ``W^T``, where for every pair with ``s_i != t_j`` (half of them) the
    decoder's gradient pushes ``W_ij`` against the encoder's; on full MNIST
    this left 41-99% of the second layer dead (docs/guide/pretraining.md).

    Args:
        units: number of hidden units, >= 1.
        activation: ``"rectifier"``, ``"softplus"`` or ``"tanh"``.
        sign_flip: for rectifiers, negate half of the units (section 4.1).
        l1: coefficient of the L1 activation penalty, >= 0 (section 3.1; section
            4.1 uses 0.001).
        noise: the corruption: a masking rate in [0, 1) (section 4.1 masks each
            input with probability 0.25), a noise layer such as
            ``SaltAndPepperNoise(0.1)`` (binary input, section 4.2), or ``None``.
        reconstruction: one of :data:`RECONSTRUCTIONS`.
        tied: tie the decoder's weights to the encoder's (``W' = W^T``).
        target_range: range of the input for ``"sigmoid_cross_entropy"``.
        input_signs: optional sign pattern of the input units (see above).
        seed: int seed of the weights, sign pattern and noise, in
            [0, 2**32 - 1]; ``None`` for random.
        sign_consistent: decode the unsigned code with the encoder's effective
            weights (see above); ``False`` reproduces DeepANN's decoder.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Raises:
        ValueError: naming the first invalid argument and its value; from
            ``fit``, ``evaluate`` and :meth:`adapt`, labels, or input that is not
            numbers or holds NaN or infinity.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.models import DenoisingAutoencoder
    >>> x = np.random.default_rng(0).random((8, 20)).astype("float32")
    >>> dae = DenoisingAutoencoder(16, noise=0.25, reconstruction="softplus_quadratic", seed=0)
    >>> tuple(dae.encode(x).shape), tuple(dae.reconstruct(x).shape)
    ((8, 16), (8, 20))
    >>> dae.fit(x_unlabeled, epochs=10, batch_size=10)  # doctest: +SKIP
    """

    def __init__(
        self,
        units,
        activation="rectifier",
        sign_flip=True,
        l1=1e-3,
        noise=0.25,
        reconstruction="softplus_quadratic",
        tied=True,
        target_range=(0.0, 1.0),
        input_signs=None,
        seed=None,
        sign_consistent=True,
        **kwargs,
    ):
        super().__init__(units, activation, l1, seed, **kwargs)
        self.sign_flip = check_bool("sign_flip", sign_flip)
        self.reconstruction = check_choice("reconstruction", reconstruction, RECONSTRUCTIONS)
        self.tied = check_bool("tied", tied)
        self.target_range = _check_target_range(target_range)
        self.input_signs = _check_signs(input_signs)
        self.sign_consistent = check_bool("sign_consistent", sign_consistent)
        policy = self.dtype_policy

        self.input_scaling = (
            UnitIntervalScaling(name="input_scaling", dtype=policy)
            if reconstruction == "scaled_sigmoid_cross_entropy"
            else None
        )
        self.corruption = make_noise(noise, self.seed)
        self.encoder = keras.layers.Dense(
            self.units,
            kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed),
            bias_initializer="zeros",
            name="encoder",
            dtype=policy,
        )
        if activation == "rectifier" and sign_flip:
            self.encoder_activation = SignFlippedRectifier(
                seed=self.seed,
                activity_regularizer=ActivityL1(self.l1),
                name="encoder_activation",
                dtype=policy,
            )
        else:
            self.encoder_activation = keras.layers.Activation(
                activations.get(activation),
                activity_regularizer=ActivityL1(self.l1),
                name="encoder_activation",
                dtype=policy,
            )

    def build(self, input_shape):
        features = self._check_features(input_shape)
        if self.input_signs is not None and self.input_signs.shape[0] != features:
            raise ValueError(
                f"`input_signs` has {self.input_signs.shape[0]} entries but the input has "
                f"{features} features."
            )
        if self.input_scaling is not None and not self.input_scaling.built:
            self.input_scaling.build(input_shape)
        self.encoder.build(input_shape)
        self.encoder_activation.build((input_shape[0], self.units))
        self.decoder_bias = self.add_weight(
            name="decoder_bias", shape=(features,), initializer="zeros"
        )
        if not self.tied:
            self.decoder_kernel = self.add_weight(
                name="decoder_kernel",
                shape=(self.units, features),
                initializer=keras.initializers.GlorotUniform(seed=offset_seed(self.seed, 1)),
            )

    # The forward pass -----------------------------------------------------------

    def _scaled(self, x):
        x = ops.convert_to_tensor(x)
        if "float" not in str(x.dtype):
            x = ops.cast(x, self.compute_dtype)
        return self.input_scaling(x) if self.input_scaling is not None else x

    def _code(self, x):
        return self.encoder_activation(self.encoder(x))

    def _decode(self, h):
        if self.sign_consistent and isinstance(self.encoder_activation, SignFlippedRectifier):
            # The unsigned code max(0, xW + b): the flip is for the layer above.
            h = h * ops.cast(self.encoder_activation.signs, h.dtype)
        kernel = ops.transpose(self.encoder.kernel) if self.tied else self.decoder_kernel
        logits = ops.matmul(h, ops.cast(kernel, h.dtype))
        if self.sign_consistent and self.tied and self._signed_input():
            # The encoder weighs |x_i| by s_i W_ij; the tied decoder must use the same.
            logits = logits * self._signs(logits.dtype)
        return logits + ops.cast(self.decoder_bias, h.dtype)

    def _signed_input(self):
        """Whether the encoder sees the signed input (not the scaled |x|)."""
        return self.input_signs is not None and self.input_scaling is None

    def call(self, inputs, training=False):
        x = self._scaled(inputs)
        if self.corruption is not None:
            x = self.corruption(x, training=training)
        return self._decode(self._code(x))

    def compute_output_shape(self, input_shape):
        return input_shape

    # The reconstruction cost ------------------------------------------------------

    def _signs(self, dtype):
        return ops.cast(ops.convert_to_tensor(self.input_signs), dtype)

    def _target(self, x):
        target = self._scaled(x)
        if self._signed_input():
            target = target * self._signs(target.dtype)
        return target

    def _cost(self, target, logits):
        """Per-example reconstruction cost (summed over input units)."""
        if self.reconstruction == "softplus_quadratic":
            return losses.softplus_quadratic(target, logits)
        if self.reconstruction == "sigmoid_cross_entropy" and self.target_range != (0.0, 1.0):
            return losses.tanh_cross_entropy(target, logits, target_range=self.target_range)
        return losses.sigmoid_cross_entropy(target, logits)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Reconstruction cost of the clean input plus the L1 penalty; ``y`` is ignored."""
        target = ops.cast(self._target(x), "float32")
        cost = self._cost(target, ops.cast(y_pred, "float32"))
        return self._reconstruction_loss(cost, sample_weight)

    # Public helpers ---------------------------------------------------------------

    def adapt(self, data, batch_size=1024):
        """Sets the input scaling of ``"scaled_sigmoid_cross_entropy"`` from ``data``.

        Each input unit is divided by the largest magnitude it reaches in
        ``data`` (:class:`UnitIntervalScaling`). Other strategies have nothing to
        adapt. ``fit`` calls this once, on its training data, if you have not.

        A numpy or ``scipy.sparse`` ``data`` holding NaN or infinity raises
        ``ValueError`` with the index of the first one; other inputs (a
        ``tf.data.Dataset``, a generator) are not checked here.
        """
        self._check_input(data, "adapt", name="data")
        if self.input_scaling is not None:
            self.input_scaling.adapt(data, batch_size=batch_size)

    def encode(self, x):
        """The clean code ``h`` of ``x`` (no corruption)."""
        x = ops.convert_to_tensor(x)
        if not self.built:  # else the encoder would build alone, then again with the model
            self.build(tuple(x.shape))
        return self._code(self._scaled(x))

    def reconstruct(self, x):
        """The clean reconstruction of ``x``, in the space of the cost's target.

        Softplus or sigmoid of the logits (times ``input_signs``, if given); for
        ``target_range=(low, high)`` the sigmoid is mapped onto that range, which
        is ``tanh`` for (-1, 1); for the scaled strategy, a value in [0, 1] per
        scaled input unit.
        """
        logits = self(x, training=False)
        if self.reconstruction == "softplus_quadratic":
            output = ops.softplus(logits)
        elif self.reconstruction == "sigmoid_cross_entropy" and self.target_range != (0.0, 1.0):
            low, high = self.target_range
            output = low + (high - low) * ops.sigmoid(2.0 * logits)
        else:
            output = ops.sigmoid(logits)
        if self._signed_input():
            output = output * self._signs(output.dtype)
        return output

    def encoder_weights(self):
        """``(kernel, bias)`` of a ``Dense`` layer computing the encoder from raw input.

        These are the encoder's own weights, except for
        ``"scaled_sigmoid_cross_entropy"``, whose encoder sees
        ``min(|x| / scale, 1)``: there row ``i`` of the kernel is multiplied by
        ``input_signs[i] / scale[i]`` (0 where ``scale`` is 0), which computes the
        same pre-activation from the raw input wherever ``input_signs * x`` is
        >= 0 and no larger than the scale adapted on the training data.
        """
        kernel = to_numpy(self.encoder.kernel)
        bias = to_numpy(self.encoder.bias)
        if self.input_scaling is not None:
            scale = to_numpy(self.input_scaling.scale)
            factor = np.where(scale > 0, 1.0 / np.where(scale > 0, scale, 1.0), 0.0)
            if self.input_signs is not None:
                factor = factor * self.input_signs
            kernel = kernel * factor[:, None].astype(kernel.dtype)
        return kernel, bias

    def _ensure_compiled(self):
        if not self.compiled:
            compile_for_paper(self, learning_rate=0.001, loss=None, metrics=None)

    def fit(self, x=None, y=None, **kwargs):
        """``keras.Model.fit`` on unlabeled ``x`` (``(x, y)`` dataset batches use x).

        A numpy or ``scipy.sparse`` ``x`` holding NaN or infinity raises
        ``ValueError`` with the index of the first one, before any training.
        Nothing is checked for a ``tf.data.Dataset``, a generator or a
        ``keras.utils.PyDataset``: a NaN there shows up as a NaN loss.
        """
        self._check_input(x, "fit", y)
        if self.input_scaling is not None and not self.input_scaling.adapted:
            self.adapt(x)
        self._ensure_compiled()
        return super().fit(x, **kwargs)

    def get_config(self):
        noise = self.corruption
        return {
            **super().get_config(),
            "sign_flip": self.sign_flip,
            "noise": None if noise is None else keras.saving.serialize_keras_object(noise),
            "reconstruction": self.reconstruction,
            "tied": self.tied,
            "target_range": list(self.target_range),
            "input_signs": None if self.input_signs is None else self.input_signs.tolist(),
            "sign_consistent": self.sign_consistent,
        }
