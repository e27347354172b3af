"""What the library's two denoising autoencoders share (sections 3.2, 4.1 and 4.2).

:class:`~keras_sparse_rect.models.DenoisingAutoencoder` and
:class:`~keras_sparse_rect.models.SparseInputDenoisingAutoencoder` are trained
on unlabeled input to reconstruct it (the unsupervised pretraining of section
4.1): both check that input the same way, compute ``loss`` as the mean
reconstruction cost plus the L1 activation penalty, report the cost alone as
``reconstruction``, and compile themselves when ``fit`` or ``evaluate`` is called
before ``compile``.
"""

import keras
import numpy as np
from keras import ops

from keras_sparse_rect import names
from keras_sparse_rect._validation import check_choice, check_int, check_non_negative, check_seed
from keras_sparse_rect.layers.unit_interval_scaling import first_non_finite

_NUMERIC_KINDS = "biuf"


def scale_for_replicas(loss):
    """Divides by the number of replicas under tf.distribute, as Keras' losses do.

    Replicas' gradients are summed, so each replica's loss is scaled by
    ``1 / num_replicas`` for the update to be that of the global batch mean
    (``keras.losses.Loss`` does the same; Keras unscales the logged ``loss``).
    """
    if keras.backend.backend() != "tensorflow":
        return loss
    import tensorflow as tf  # TensorFlow only: tf.distribute.

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss * (1.0 / replicas)


def _dtype_kind(x):
    """numpy's kind letter of ``x``'s element type, or ``None`` where it has none to read."""
    if isinstance(x, (str, bytes)):
        return "U"
    if isinstance(x, (list, tuple)):
        try:
            kind = np.asarray(x).dtype.kind
        except ValueError:  # ragged: batches, perhaps
            return None
        return None if kind == "O" else kind  # "O": e.g. (x, y) batches, left to Keras
    dtype = getattr(x, "dtype", None)
    if dtype is None or hasattr(x, "element_spec"):  # a dataset, generator or PyDataset
        return None
    if isinstance(dtype, np.dtype):
        return dtype.kind
    try:
        return np.dtype(keras.backend.standardize_dtype(dtype)).kind
    except (TypeError, ValueError):  # "string", "str32", object: not numbers
        return "O"


class AutoencoderBase(keras.Model):
    """Base of the denoising autoencoders: the settings, checks and costs they share.

    Args:
        units: number of hidden units, >= 1.
        activation: one of :data:`keras_sparse_rect.names.ACTIVATIONS`.
        l1: coefficient of the L1 activation penalty, >= 0 (section 3.1 / 4.1).
        seed: int seed, or ``None`` for random.
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``, ...).

    Raises:
        ValueError: naming the first invalid argument and its value.
    """

    def __init__(self, units, activation, l1, seed, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units, 1)
        self.activation = check_choice("activation", activation, names.ACTIVATIONS)
        self.l1 = check_non_negative("l1", l1)
        self.seed = check_seed("seed", seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")

    def _check_features(self, input_shape, what="features"):
        """The number of input features; raises unless the input is ``(batch, features)``."""
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch, {what}) with a known "
                f"number of {what}; got input_shape={tuple(input_shape)}."
            )
        return int(input_shape[-1])

    def _check_input(self, x, method, y=None, name="x"):
        """Raises unless ``x`` is unlabeled numeric input without NaN or infinity.

        Only what can be read without iterating is checked: numpy arrays, lists,
        tensors and ``scipy.sparse`` matrices; a dataset or generator passes.
        """
        owner = f"{type(self).__name__}.{method}"
        if y is not None:
            raise ValueError(
                f"{owner} takes unlabeled inputs only (the target is the clean input); got y "
                f"of type {type(y).__name__}."
            )
        kind = _dtype_kind(x)
        if kind is not None and kind not in _NUMERIC_KINDS:
            what = {"U": "strings", "S": "bytes", "O": "objects"}.get(kind, f"{kind!r} values")
            got = repr(x) if isinstance(x, (str, bytes)) else f"{type(x).__name__} of {what}"
            raise ValueError(
                f"`{name}` must be numbers: a float array of shape (examples, features) (ints and "
                f"bools are cast); {owner} got {got}."
            )
        if isinstance(x, np.ndarray) or hasattr(x, "tocoo"):
            found = first_non_finite(x)
            if found is not None:
                index, value = found
                raise ValueError(
                    f"`{name}` must be finite; {owner} found {value} at index {index} (the first "
                    "NaN or infinity)."
                )

    def _reconstruction_loss(self, cost, sample_weight=None):
        """``loss``: the mean per-example ``cost`` plus the L1 penalties, for the replicas."""
        if sample_weight is None:
            reconstruction = ops.mean(cost)
        else:
            weights = ops.cast(ops.reshape(sample_weight, (-1,)), cost.dtype)
            reconstruction = ops.divide_no_nan(ops.sum(cost * weights), ops.sum(weights))
        self.reconstruction_tracker.update_state(cost, sample_weight=sample_weight)
        total = reconstruction
        for penalty in self.losses:
            total = total + ops.cast(ops.sum(penalty), reconstruction.dtype)
        return scale_for_replicas(total)

    def _ensure_compiled(self):
        raise NotImplementedError

    def _evaluation_input(self, x, kwargs):
        """``(x, kwargs)`` as Keras' ``evaluate`` takes them (a hook for sparse input)."""
        return x, kwargs

    def evaluate(self, x=None, y=None, **kwargs):
        """``keras.Model.evaluate``: the clean reconstruction cost of ``x`` (``y`` is ignored)."""
        self._check_input(x, "evaluate")
        self._ensure_compiled()
        x, kwargs = self._evaluation_input(x, kwargs)
        return super().evaluate(x, y, **kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "l1": self.l1,
            "seed": self.seed,
        }
