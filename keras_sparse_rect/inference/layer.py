"""The Keras layer of sparse inference: a whole trained rectifier stack in one layer.

:class:`SparseRectifierStack` holds the kernels (sign patterns folded in), the biases and the
table of gather capacities per batch size, so a sparse model saves to ``.keras``, loads without
``custom_objects`` and exports (``model.export``) like any Keras model (paper, Section 3.1:
rectifier networks are computationally efficient because their representations are sparse).
"""

import math

import keras
import numpy as np

from keras_sparse_rect._validation import (
    check_bool,
    check_choice,
    check_int,
    check_int_sequence,
    check_rate,
    per_layer,
)
from keras_sparse_rect.api import register
from keras_sparse_rect.inference.kernels import sparse_forward
from keras_sparse_rect.inference.steps import ACTIVATIONS

#: Batch sizes of the capacity table: a batch of ``b`` uses the entry of the smallest
#: tabulated size >= ``b`` (its union of active units is at least as large); beyond the last,
#: every layer is dense.
TABLE_BATCH_SIZES = tuple(2**i for i in range(11))

#: Default ``dense_fraction``: a layer whose capacity exceeds this fraction of its inputs runs
#: dense. Measured with ``bench/sparse_inference.py`` on 2 cores: a 1000 x 1000 layer's gather
#: path costs about as much as its dense product when it gathers ~40-60% of the rows (XLA's
#: gather moves rows at about a third of the speed of the dense matrix-vector product).
DENSE_FRACTION = 0.5

#: A layer with fewer output units runs dense: its kernel (e.g. 1000 x 10 for the softmax)
#: is too small for finding the active inputs to pay (measured: the 1000 -> 10 output layer
#: gathered was slower than the whole network dense).
MIN_UNITS = 64


def check_batch_sizes(batch_sizes):
    """Returns ``batch_sizes`` (one int or several, each >= 1) as a tuple of ints.

    Raises:
        ValueError: naming ``batch_sizes`` and its value.
    """
    return check_int_sequence("batch_sizes", batch_sizes, minimum=1)


@register
class SparseRectifierStack(keras.layers.Layer):
    """A whole Dense + rectifier stack that multiplies only the rows of non-zero inputs.

    Build it with :func:`~keras_sparse_rect.inference.sparse_inference_model` from a trained
    model (it copies the kernels, with sign patterns folded in, and measures the capacities
    on calibration data). Its output equals the original model's (max abs difference < 1e-5
    in float32). Inference only: the weights are not trainable. Paper, Section 3.1.

    Args:
        units: the sizes ``(d_in, d_1, ..., d_out)`` of the stack (at least two ints >= 1).
        activations: one name of :data:`~keras_sparse_rect.inference.steps.ACTIVATIONS` per
            step (or one name for every step: the per-layer rule of ``_validation.per_layer``).
        capacities: one row of per-step capacities for each size of ``batch_sizes``; a row is
            one capacity per step or a single capacity for every step (ints >= 1).
        batch_sizes: the increasing batch sizes of ``capacities``.
        dense_fraction: a step whose capacity exceeds this fraction of its inputs runs dense,
            in [0, 1] (0: all dense; 1: gathered whenever the capacity is below ``d_in``).
        output_sign_flip: the last step is followed by a sign flip (weight ``output_scale``).
        **kwargs: base layer arguments.

    Raises:
        ValueError: naming the first invalid argument and its value; from ``build``, if the
            input does not have ``units[0]`` features per example.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.inference import SparseRectifierStack
    >>> layer = SparseRectifierStack([100, 64, 3], ["relu", "softmax"], [[16, 16], [48, 48]],
    ...                              batch_sizes=[1, 8])
    >>> layer.plan(1), layer.plan(8), layer.plan(9)  # capacities per step (None: dense)
    ([16, None], [48, None], [None, None])
    >>> tuple(layer(np.ones((2, 100), "float32")).shape)
    (2, 3)
    """

    def __init__(
        self,
        units,
        activations,
        capacities,
        batch_sizes=TABLE_BATCH_SIZES,
        dense_fraction=DENSE_FRACTION,
        output_sign_flip=False,
        **kwargs,
    ):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.units = check_int_sequence("units", units, minimum=1)
        if len(self.units) < 2:
            raise ValueError(
                f"`units` must hold at least two sizes (inputs and outputs); got units={units!r}."
            )
        steps = len(self.units) - 1
        self.activations = per_layer(
            "activations", activations, steps, lambda name, a: check_choice(name, a, ACTIVATIONS)
        )
        self.batch_sizes = check_batch_sizes(batch_sizes)
        if list(self.batch_sizes) != sorted(set(self.batch_sizes)):
            raise ValueError(f"`batch_sizes` must increase; got batch_sizes={batch_sizes!r}.")
        if not isinstance(capacities, (list, tuple)) or len(capacities) != len(self.batch_sizes):
            raise ValueError(
                f"`capacities` must hold one list per batch size ({len(self.batch_sizes)}); "
                f"got capacities={capacities!r}."
            )
        self.capacities = tuple(
            check_int_sequence(f"capacities[{i}]", row, minimum=1, count=steps)
            for i, row in enumerate(capacities)
        )
        self.dense_fraction = check_rate("dense_fraction", dense_fraction, allow_one=True)
        self.output_sign_flip = check_bool("output_sign_flip", output_sign_flip)

    def build(self, input_shape):
        features = math.prod(input_shape[1:]) if None not in input_shape[1:] else None
        if features != self.units[0]:
            raise ValueError(
                f"SparseRectifierStack expects inputs of {self.units[0]} features per example; "
                f"got input_shape={tuple(input_shape)}."
            )
        self.kernels, self.biases = [], []
        for i, (d_in, d_out) in enumerate(
            zip(self.units[:-1], self.units[1:], strict=False), start=1
        ):
            self.kernels.append(
                self.add_weight(name=f"kernel_{i}", shape=(d_in, d_out), trainable=False)
            )
            self.biases.append(self.add_weight(name=f"bias_{i}", shape=(d_out,), trainable=False))
        self.output_scale = None
        if self.output_sign_flip:
            self.output_scale = self.add_weight(
                name="output_scale", shape=(self.units[-1],), initializer="ones", trainable=False
            )

    def plan(self, batch_size):
        """Per step: the gather's capacity at this batch size, or None where it runs dense.

        ``batch_size=None`` (unknown, e.g. an exported model) uses the batch-1 capacities;
        a larger batch then takes the dense fallback wherever its active units exceed them.

        Args:
            batch_size: an int >= 1, or None.

        Raises:
            ValueError: if ``batch_size`` is not None or an int >= 1.
        """
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, 1)
        index = 0 if batch_size is None else np.searchsorted(self.batch_sizes, batch_size)
        if index >= len(self.batch_sizes):
            return [None] * len(self.activations)
        return [
            capacity
            if capacity <= self.dense_fraction * d_in and capacity < d_in and d_out >= MIN_UNITS
            else None
            for capacity, d_in, d_out in zip(
                self.capacities[index], self.units[:-1], self.units[1:], strict=False
            )
        ]

    def runs_dense(self, batch_size):
        """Whether the plan at ``batch_size`` is the dense program (no step gathers).

        Args:
            batch_size: an int >= 1, or None (as :meth:`plan`).

        Raises:
            ValueError: if ``batch_size`` is not None or an int >= 1.

        Example:

        >>> from keras_sparse_rect.inference import SparseRectifierStack
        >>> layer = SparseRectifierStack([100, 64, 3], ["relu", "softmax"], [[16, 16]], [1])
        >>> layer.runs_dense(1), layer.runs_dense(2)
        (False, True)
        """
        return all(capacity is None for capacity in self.plan(batch_size))

    def forward(self, inputs, plan=None):
        """``(outputs, fallbacks)`` of :func:`~keras_sparse_rect.inference.sparse_forward`.

        ``plan`` defaults to the layer's plan at the batch size of ``inputs``.
        """
        if plan is None:
            plan = self.plan(inputs.shape[0])
        return sparse_forward(
            inputs, self.kernels, self.biases, self.activations, plan, self.output_scale
        )

    def call(self, inputs):
        return self.forward(inputs)[0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "units": list(self.units),
            "activations": list(self.activations),
            "capacities": [list(row) for row in self.capacities],
            "batch_sizes": list(self.batch_sizes),
            "dense_fraction": self.dense_fraction,
            "output_sign_flip": self.output_sign_flip,
        }


def stack_layer(model):
    """The :class:`SparseRectifierStack` of ``model`` (or ``model`` itself, if it is one).

    Raises:
        ValueError: if ``model`` is neither such a layer nor a model that holds one.
    """
    if isinstance(model, SparseRectifierStack):
        return model
    if isinstance(model, keras.Model):
        for layer in model.layers:
            if isinstance(layer, SparseRectifierStack):
                return layer
    raise ValueError(
        "`model` must be a model from sparse_inference_model or a SparseRectifierStack; got "
        f"model={model!r}."
    )
