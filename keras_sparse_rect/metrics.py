"""Sparsity of hidden representations (sections 3.1, 4 and Figure 3)."""

import keras
from keras import ops

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
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"`num_layers` must be an int >= 1; got num_layers={num_layers!r}.")
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
