"""Sparsity of hidden representations (sections 3.1, 4 and Figure 3)."""

import keras
from keras import ops

from keras_sparse_rect._validation import check_int
from keras_sparse_rect.api import register


def _as_list(values):
    if isinstance(values, dict):
        return list(values.values())
    if isinstance(values, (list, tuple)):
        return list(values)
    return [values]


@register
class ActivationSparsity(keras.metrics.Metric):
    """Fraction of exact zeros in hidden activations, per layer and averaged.

    The paper reports the "average sparsity" of a network as the fraction of
    hidden units that output exactly 0, averaged over examples and layers
    (Figure 3, Table 2). The metric accumulates, per layer, the number of zeros
    and of values seen, so its result is the exact fraction over every update.

    ``update_state`` takes the activations of ``num_layers`` hidden layers: one
    tensor, or a list/tuple/dict of tensors (one per layer, in order). It can be
    called with Keras' ``(y_true, y_pred)`` signature, in which case ``y_pred``
    holds the activations, so it works in ``compile(metrics=...)`` of a model
    whose output is a hidden representation (an encoder, or
    :func:`keras_sparse_rect.utils.hidden_activation_model`). For a classifier
    with several hidden layers use it from a callback:
    :class:`keras_sparse_rect.callbacks.SparsityMonitor` does so.

    ``result()`` is a dict: ``{name: average over layers,
    f"{name}/{layer}": per layer}``; averaging is over layers (each layer counts
    equally, as when the paper averages over layers).

    Args:
        layer_names: names of the hidden layers (sets ``num_layers``).
        num_layers: number of hidden layers when no names are given (default 1).

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.metrics import ActivationSparsity
    >>> metric = ActivationSparsity(layer_names=["h1", "h2"])
    >>> metric.update_state([np.array([[0.0, 1.0]]), np.array([[0.0, 0.0]])])
    >>> {k: float(v) for k, v in metric.result().items()}
    {'sparsity': 0.75, 'sparsity/h1': 0.5, 'sparsity/h2': 1.0}
    """

    def __init__(self, layer_names=None, num_layers=None, name="sparsity", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if layer_names is not None:
            layer_names = [str(n) for n in layer_names]
            if not layer_names:
                raise ValueError("`layer_names` must name at least one layer; got layer_names=[].")
            if num_layers is not None and num_layers != len(layer_names):
                raise ValueError(
                    f"`num_layers`={num_layers!r} disagrees with the {len(layer_names)} "
                    "names in `layer_names`."
                )
            num_layers = len(layer_names)
        if num_layers is None:
            num_layers = 1
        num_layers = check_int("num_layers", num_layers, 1)
        self.num_layers = num_layers
        self.layer_names = layer_names or [f"hidden_{i + 1}" for i in range(num_layers)]
        self.zeros = self.add_variable(
            shape=(num_layers,), initializer="zeros", dtype="float32", name="zeros"
        )
        self.counts = self.add_variable(
            shape=(num_layers,), initializer="zeros", dtype="float32", name="counts"
        )

    def update_state(self, y_true, y_pred=None, sample_weight=None):
        activations = _as_list(y_true if y_pred is None else y_pred)
        if len(activations) != self.num_layers:
            raise ValueError(
                f"ActivationSparsity expects activations of {self.num_layers} layer(s); "
                f"got {len(activations)}."
            )
        zeros, counts = [], []
        for h in activations:
            h = ops.convert_to_tensor(h)
            zeros.append(ops.sum(ops.cast(ops.equal(h, 0), "float32")))
            counts.append(ops.cast(ops.size(h), "float32"))
        self.zeros.assign(self.zeros + ops.stack(zeros))
        self.counts.assign(self.counts + ops.stack(counts))

    def result(self):
        per_layer = ops.divide_no_nan(self.zeros, self.counts)
        results = {self.name: ops.mean(per_layer)}
        for index, layer in enumerate(self.layer_names):
            results[f"{self.name}/{layer}"] = per_layer[index]
        return results

    def reset_state(self):
        self.zeros.assign(ops.zeros((self.num_layers,), "float32"))
        self.counts.assign(ops.zeros((self.num_layers,), "float32"))

    def get_config(self):
        return {
            **super().get_config(),
            "layer_names": self.layer_names,
            "num_layers": self.num_layers,
        }


def expected_rating(probabilities, values):
    """The expected rating under a softmax output: ``sum_k p_k * values[k]`` (section 4.2).

    "Predicted ratings are defined by the expected star value computed using
    multiclass (multinomial, softmax) logistic regression output probabilities."

    Args:
        probabilities: ``(batch, classes)`` class probabilities.
        values: the rating of each class, e.g. ``[1, 2, 3, 4, 5]`` stars.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.metrics import expected_rating
    >>> p = np.array([[0.5, 0.0, 0.0, 0.0, 0.5]], "float32")
    >>> float(expected_rating(p, [1, 2, 3, 4, 5])[0])
    3.0
    """
    probabilities = ops.convert_to_tensor(probabilities)
    values = ops.cast(ops.convert_to_tensor(_check_rating_values(values)), probabilities.dtype)
    return ops.sum(probabilities * values, axis=-1)


def _check_rating_values(values):
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        values = None
    if not values or len(values) < 2 or not all(abs(v) < float("inf") for v in values):
        raise ValueError(
            "`values` must be a sequence of at least 2 finite numbers (the rating of each "
            f"class); got values={values!r}."
        )
    return values


@register
class ExpectedRatingRMSE(keras.metrics.Metric):
    """Root mean squared error of the expected rating (section 4.2, Table 2).

    ``y_true`` holds class indices (``0 .. len(values) - 1``); ``y_pred`` holds
    softmax probabilities. The prediction is :func:`expected_rating` and the
    truth is ``values[y_true]``; the result is ``sqrt(mean((pred - truth)^2))``
    over every update (weighted by ``sample_weight`` if given).

    Args:
        values: the rating of each class (e.g. ``[1, 2, 3, 4, 5]`` stars, or
            ``[0, 1]`` for two labels).

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.metrics import ExpectedRatingRMSE
    >>> metric = ExpectedRatingRMSE([1, 2, 3])
    >>> metric.update_state([0, 2], np.array([[1, 0, 0], [0, 0.5, 0.5]], "float32"))
    >>> round(float(metric.result()), 4)  # sqrt((0 + 0.25) / 2)
    0.3536
    """

    def __init__(self, values, name="rmse", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.values = _check_rating_values(values)
        self.squared_error = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="squared_error"
        )
        self.weight = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="weight"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
        values = ops.convert_to_tensor(self.values, dtype="float32")
        classes = ops.cast(ops.reshape(ops.convert_to_tensor(y_true), (-1,)), "int32")
        error = ops.square(expected_rating(y_pred, self.values) - ops.take(values, classes))
        if sample_weight is None:
            weights = ops.ones_like(error)
        else:
            weights = ops.cast(ops.reshape(ops.convert_to_tensor(sample_weight), (-1,)), "float32")
        self.squared_error.assign(self.squared_error + ops.sum(error * weights))
        self.weight.assign(self.weight + ops.sum(weights))

    def result(self):
        return ops.sqrt(ops.divide_no_nan(self.squared_error, self.weight))

    def reset_state(self):
        self.squared_error.assign(0.0)
        self.weight.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "values": self.values}
