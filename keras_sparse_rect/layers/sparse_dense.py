"""A first layer for sparse bag-of-words input that touches only the active terms (section 4.2)."""

import keras
from keras import ops

from keras_sparse_rect import _compat, activations
from keras_sparse_rect._validation import check_bool, check_int, check_min_rank
from keras_sparse_rect.api import register
from keras_sparse_rect.sparse import is_sparse, num_rows, sparse_parts


def gather_rows(kernel, indices):
    """``kernel[indices]``, reading only those rows of a variable.

    On TensorFlow the gather is done on the ``tf.Variable`` itself
    (``ResourceGather``): ``ops.take`` would first read the whole variable into a
    tensor, and the next sparse update would then copy the whole buffer
    (copy-on-write), which costs more than the dense product at batch 10. The
    gradient is an ``IndexedSlices`` either way. Other backends use ``ops.take``.
    That a Keras variable's ``.value`` is the ``tf.Variable`` itself is a Keras
    internal (:func:`keras_sparse_rect._compat.tf_variable`, checked when a
    ``SparseDense`` is built); without it, or under mixed-precision autocasting,
    this falls back to ``ops.take``.
    """
    if keras.backend.backend() == "tensorflow":
        variable = _compat.tf_variable(kernel)
        if variable is not None:
            import tensorflow as tf  # TensorFlow-only: gather from the resource variable.

            return tf.gather(variable, indices)
    return ops.take(kernel, indices, axis=0)


def sparse_matmul(x, kernel):
    """``x @ kernel`` for a sparse 2-D ``x``, by gathering the kernel rows of its entries.

    Only the rows of ``kernel`` that ``x`` uses are read; on TensorFlow the
    gradient with respect to ``kernel`` is an ``IndexedSlices``, so plain SGD
    updates only those rows.
    """
    indices, values = sparse_parts(x)
    gathered = gather_rows(kernel, indices[:, 1])
    gathered = gathered * ops.expand_dims(ops.cast(values, kernel.dtype), 1)
    return ops.segment_sum(gathered, indices[:, 0], num_segments=num_rows(x))


@register
class SparseDense(keras.layers.Layer):
    """``activation(x @ kernel + bias)`` that reads only the kernel rows of active inputs.

    Section 4.2 feeds 5,000-term binary bag-of-words vectors with about 0.6% of
    non-zeros to the first layer. For sparse input (``keras.Input(sparse=True)``:
    a ``tf.SparseTensor`` on TensorFlow, a ``BCOO`` on JAX) this layer gathers
    the kernel rows of the active terms and sums them per example
    (embedding-lookup style), instead of a dense product. On TensorFlow the
    kernel's gradient is then an ``IndexedSlices`` and plain SGD updates only
    the rows of the terms present in the batch: much faster than Keras' stock
    ``Dense`` at the paper's batch size of 10, whose gradient and update stay
    dense (``docs/facts.md``, "Sparse input on TensorFlow"). Dense input is
    multiplied as usual, so the same layer serves both; outputs agree with
    ``keras.layers.Dense``.

    Args:
        units: number of output units (int >= 1).
        activation: ``None`` (linear), a name of :mod:`keras_sparse_rect.activations`
            (``"rectifier"``, ``"softplus"``, ``"tanh"``), ``"softmax"``, or a callable.
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: Keras initializers.
        kernel_regularizer, bias_regularizer: Keras regularizers (note: a
            kernel regularizer makes the gradient dense again).
        **kwargs: base layer arguments (``name``, ``activity_regularizer``, ...).

    Raises:
        ValueError: ``units`` is not an int >= 1, ``use_bias`` not a bool, or
            ``activation`` not a known name; from ``build``, an input that is
            not 2-D with a known number of features.

    Example:

    >>> import keras
    >>> from keras_sparse_rect.layers import SparseDense
    >>> from keras_sparse_rect.regularizers import ActivityL1
    >>> inputs = keras.Input((5000,), sparse=True)
    >>> h = SparseDense(1000, "rectifier", activity_regularizer=ActivityL1(1e-4))(inputs)
    >>> tuple(h.shape)
    (None, 1000)
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units, 1)
        self.activation_name = activation
        self.activation = _get_activation(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def build(self, input_shape):
        check_min_rank(type(self).__name__, input_shape, 2)
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "SparseDense expects 2-D inputs (batch, features) with a known number of "
                f"features; got input_shape={tuple(input_shape)}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        if keras.backend.backend() == "tensorflow":
            _compat.warn_if_variable_value_changed(self.kernel)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def call(self, inputs):
        if is_sparse(inputs):
            outputs = sparse_matmul(inputs, self.kernel)
        else:
            outputs = ops.matmul(ops.cast(inputs, self.kernel.dtype), self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        activation = self.activation_name
        if callable(activation):
            activation = keras.saving.serialize_keras_object(activation)
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activation,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("activation"), dict):
            config["activation"] = keras.saving.deserialize_keras_object(config["activation"])
        for key in ("kernel_regularizer", "bias_regularizer"):
            if config.get(key) is not None:
                config[key] = keras.regularizers.deserialize(config[key])
        return cls(**config)


def _get_activation(identifier):
    if identifier is None:
        return None
    if identifier == "softmax":
        return ops.softmax
    if identifier == "linear":
        return None
    return activations.get(identifier)
