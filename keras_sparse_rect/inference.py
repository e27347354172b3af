"""Sparse-activation inference: a forward pass that skips the inputs that are exactly zero.

Section 3.1 of the paper argues that rectifier networks are computationally efficient because
their representations are truly sparse (about 83% of a trained 3 x 1000 network's hidden units
output exactly 0 for a given input, and about 80% of MNIST pixels are 0). A ``Dense`` layer
multiplies every zero. Here each layer multiplies only the kernel rows of its non-zero inputs:

- the rows of the units that are non-zero in at least one example of the batch are gathered
  (the "aggregated sparsity" of the literature; at batch 1 these are the example's own active
  units), and only they are multiplied;
- the gather has a fixed **capacity** per layer and batch size (so that XLA compiles it once),
  chosen from the activity measured on calibration data; a batch whose active units exceed it
  takes the layer's dense product instead (``ops.cond``), so the output is always exact;
- a layer whose capacity at a batch size would cover more than ``dense_fraction`` of its inputs
  runs dense at that batch size (at batch 128 the union covers almost every unit).

The sign pattern of :class:`~keras_sparse_rect.layers.SignFlippedRectifier` is folded into the
next layer's kernel rows (``(relu(z) * s) @ W == relu(z) @ (s[:, None] * W)``), so a unit counts
as active when its output is non-zero, negative or positive.

Backends: the numerics are ``keras.ops`` (``top_k``, ``take``, ``cond``). :func:`compile_forward`
compiles them with ``tf.function(jit_compile=True)`` on TensorFlow and ``jax.jit`` on JAX; on any
other backend (PyTorch) it returns the same ``keras.ops`` function uncompiled (untested here:
PyTorch is not installed in this project's environment). At batch 1 JAX reads the active rows
in a fused loop (1.9 - 3.3 x the dense compiled forward per call on 2 CPU cores with
:func:`use_synchronous_dispatch`, which also halves the call's latency: the sparse forward
takes ~0.1 ms, the dense one 0.2 - 0.45 ms depending on the day); TensorFlow gathers them
instead and measured no gain (0.76 - 0.95 x, see :data:`ROW_LOOP_BACKENDS` and the README's
"Sparse inference"), so :func:`choose_by_timing` keeps the dense program there. The Keras layer
:class:`SparseRectifierStack` saves to ``.keras`` and exports (``model.export``) with the batch
dimension unknown; there it uses the batch-1 capacities, with the dense fallback for larger
batches. Whether gathering pays is the serving machine's answer: :func:`choose_by_timing`
times both forwards there and keeps the gathered plan only where it is faster.

Example:

>>> from keras_sparse_rect import inference
>>> sparse_model = inference.sparse_inference_model(model, x_calibration)  # doctest: +SKIP
>>> inference.choose_by_timing(sparse_model, x[:256], batch_sizes=(1, 10))  # doctest: +SKIP
>>> forward = inference.compile_forward(sparse_model)  # doctest: +SKIP
>>> probabilities = forward(x[:1])  # doctest: +SKIP
"""

import math
import numbers
import statistics
import time

import keras
import numpy as np
from keras import ops

from keras_sparse_rect._validation import check_int, check_non_negative, check_rate
from keras_sparse_rect.api import register
from keras_sparse_rect.layers import (
    BinaryFlipNoise,
    MaskingNoise,
    SaltAndPepperNoise,
    SignFlippedRectifier,
    SparseDense,
)

#: Batch sizes of the capacity table: a batch of ``b`` uses the entry of the smallest
#: tabulated size >= ``b`` (its union of active units is at least as large); beyond the last,
#: every layer is dense.
TABLE_BATCH_SIZES = tuple(2**i for i in range(11))

#: Output activations a step may end with; hidden steps are ``relu`` (or ``linear``).
ACTIVATIONS = ("linear", "relu", "softmax", "sigmoid")

#: Default ``dense_fraction``: a layer whose capacity exceeds this fraction of its inputs runs
#: dense. Measured with ``bench/sparse_inference.py`` on 2 cores: a 1000 x 1000 layer's gather
#: path costs about as much as its dense product when it gathers ~40-60% of the rows (XLA's
#: gather moves rows at about a third of the speed of the dense matrix-vector product).
DENSE_FRACTION = 0.5

#: A layer with fewer output units runs dense: its kernel (e.g. 1000 x 10 for the softmax)
#: is too small for finding the active inputs to pay (measured: the 1000 -> 10 output layer
#: gathered was slower than the whole network dense).
MIN_UNITS = 64

#: Default ``coverage``: the quantile of calibration counts that the capacity must hold.
COVERAGE = 0.99

#: Rows read per iteration of the batch-1 row loop (capacities are multiples of 8).
UNROLL = 8

#: Backends on which batch 1 uses the row loop (:func:`_row_loop`). On TensorFlow a
#: ``tf.function(jit_compile=True)`` call holding the loop took ~4 ms per example on 2 cores
#: (the same loop inside a compiled ``map_fn`` over many examples took 0.16 ms), so there
#: batch 1 gathers the rows and multiplies them instead.
ROW_LOOP_BACKENDS = ("jax",)

#: Default ``headroom``: capacity = (1 + headroom) x the largest union seen in calibration.
HEADROOM = 0.1

_IDENTITY_AT_INFERENCE = (
    keras.layers.InputLayer,
    keras.layers.Dropout,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    MaskingNoise,
    SaltAndPepperNoise,
    BinaryFlipNoise,
)


def _activation_name(fn):
    """The name of a Dense/Activation layer's activation among :data:`ACTIVATIONS`, or None."""
    if fn is None:
        return "linear"
    name = getattr(fn, "__name__", None)
    if name == "rectifier":
        return "relu"
    return name if name in ACTIVATIONS else None


def extract_steps(model):
    """The affine steps of a ``Dense`` + rectifier stack, as numpy arrays.

    Walks the layers of a single-input, single-chain functional or Sequential model:
    ``Flatten``/``Reshape`` before the first ``Dense``; ``Dense`` or
    :class:`~keras_sparse_rect.layers.SparseDense` (dense input); a rectifier (``Dense``
    activation ``"relu"``/``rectifier``, ``Activation``, ``ReLU()``) or a
    :class:`~keras_sparse_rect.layers.SignFlippedRectifier` after each; ``softmax``,
    ``sigmoid`` or linear output; layers that are the identity at inference (dropout, the
    library's noise layers, activity regularization) are skipped.

    Returns:
        ``(steps, output_scale)``: ``steps`` a list of dicts with ``kernel``
        (``(d_in, d_out)``, the previous layer's signs folded into its rows), ``bias`` and
        ``activation``; ``output_scale`` the signs of a final sign-flipped layer, or None.

    Raises:
        ValueError: naming the first layer that is not part of such a stack.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model; got model={model!r}.")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"`model` must have one input and one output; model {model.name!r} has "
            f"{len(model.inputs)} and {len(model.outputs)}."
        )
    steps, scale, previous = [], None, None
    for layer in model.layers:
        if previous is not None and not isinstance(model, keras.Sequential):
            if layer.input is not previous.output:
                raise ValueError(
                    f"Layer {layer.name!r} ({type(layer).__name__}) does not take the previous "
                    f"layer's output: sparse inference needs a single chain of layers."
                )
        previous = layer
        kind = type(layer).__name__
        if isinstance(layer, _IDENTITY_AT_INFERENCE):
            continue
        if isinstance(layer, (keras.layers.Flatten, keras.layers.Reshape)) and not steps:
            continue
        if isinstance(layer, (keras.layers.Dense, SparseDense)):
            activation = _activation_name(layer.activation)
            if activation is None:
                raise ValueError(
                    f"Layer {layer.name!r} ({kind}) has activation {layer.activation!r}; sparse "
                    f"inference supports {list(ACTIVATIONS)}."
                )
            if getattr(layer, "lora_enabled", False) or layer.kernel.dtype != "float32":
                raise ValueError(
                    f"Layer {layer.name!r} ({kind}) must have a plain float32 kernel; got "
                    f"dtype {layer.kernel.dtype}."
                )
            kernel = np.asarray(ops.convert_to_numpy(layer.kernel), dtype="float32")
            if steps and kernel.shape[0] != steps[-1]["kernel"].shape[1]:
                raise ValueError(
                    f"Layer {layer.name!r} ({kind}) expects {kernel.shape[0]} inputs; the "
                    f"previous layer has {steps[-1]['kernel'].shape[1]} units."
                )
            if steps and steps[-1]["activation"] in ("softmax", "sigmoid"):
                raise ValueError(
                    f"Layer {layer.name!r} ({kind}) follows a {steps[-1]['activation']} layer; "
                    "only rectifier or linear layers may feed another Dense."
                )
            if scale is not None:
                kernel = kernel * scale[:, None]
                scale = None
            bias = (
                np.asarray(ops.convert_to_numpy(layer.bias), dtype="float32")
                if layer.bias is not None
                else np.zeros(kernel.shape[1], "float32")
            )
            steps.append({"kernel": kernel, "bias": bias, "activation": activation})
            continue
        activation = None
        if isinstance(layer, SignFlippedRectifier):
            activation = "relu"
        elif isinstance(layer, keras.layers.Activation):
            activation = _activation_name(layer.activation)
        elif isinstance(layer, keras.layers.ReLU):
            plain = layer.max_value is None and not layer.negative_slope and not layer.threshold
            activation = "relu" if plain else None
        if activation is None:
            raise ValueError(
                f"Layer {layer.name!r} ({kind}) is not part of a Dense + rectifier stack; sparse "
                "inference supports Dense, SparseDense, rectifiers, SignFlippedRectifier, "
                "softmax/sigmoid outputs, Flatten before the first Dense, and dropout/noise."
            )
        if not steps:
            raise ValueError(
                f"Layer {layer.name!r} ({kind}) comes before the first Dense layer; sparse "
                "inference needs a Dense layer first."
            )
        last = steps[-1]
        if scale is not None or last["activation"] not in ("linear", activation):
            raise ValueError(
                f"Layer {layer.name!r} ({kind}) applies {activation} after "
                f"{'signs' if scale is not None else last['activation']}; sparse inference "
                "supports one rectifier (or output activation) per Dense layer."
            )
        last["activation"] = activation
        if isinstance(layer, SignFlippedRectifier):
            scale = np.asarray(ops.convert_to_numpy(layer.signs), dtype="float32")
    if not steps:
        raise ValueError(f"Model {model.name!r} has no Dense layer.")
    return steps, scale


def _forward_numpy(steps, x):
    """The dense forward in numpy; also returns each step's input (for the activity)."""
    h = np.asarray(x, dtype="float32").reshape(len(x), -1)
    inputs = []
    for step in steps:
        inputs.append(h)
        h = h @ step["kernel"] + step["bias"]
        if step["activation"] == "relu":
            h = np.maximum(h, 0.0)
    return inputs


def _round_up(value, multiple):
    return int(math.ceil(value / multiple) * multiple)


def capacity_table(
    active_masks, batch_sizes=TABLE_BATCH_SIZES, headroom=HEADROOM, coverage=COVERAGE, seed=0
):
    """Capacities of each layer's gather at each batch size, from measured activity.

    Args:
        active_masks: one boolean array ``(examples, d_in)`` per layer: which inputs are
            non-zero for each calibration example.
        batch_sizes: the batch sizes to tabulate.
        headroom: capacity = ceil((1 + headroom) * the ``coverage`` quantile of the unions
            seen), rounded up to a multiple of 8, at most ``d_in``.
        coverage: quantile of the calibration batches' active counts that must fit, in
            (0, 1]; the others take the dense fallback.
        seed: seed of the random batches drawn from the calibration examples.

    Returns:
        A list (one per batch size) of lists (one per layer) of ints.
    """
    rng = np.random.default_rng(seed)
    table = []
    for batch_size in batch_sizes:
        row = []
        for mask in active_masks:
            count = len(mask)
            if batch_size == 1:
                counts = mask.sum(axis=1)
            else:
                draws = max(16, min(64, 4 * count // batch_size))
                counts = [
                    int(mask[rng.integers(0, count, batch_size)].any(axis=0).sum())
                    for _ in range(draws)
                ]
            largest = float(np.quantile(counts, coverage))
            capacity = _round_up(max(1, largest) * (1.0 + headroom), 8)
            row.append(min(capacity, mask.shape[1]))
        table.append(row)
    return table


def _compact(active, count, capacity):
    """The indices of the ``True`` entries of ``active``, in order, padded to ``capacity``.

    A prefix sum gives each active input its slot; one scatter writes the indices there
    (inactive inputs go to a spare slot that is dropped). On 2 CPU cores under XLA this took
    about half the time of ``top_k`` over the 0/1 vector (~20 us against ~45 us for 1,000
    inputs); the padding (index 0) is masked out by :func:`_columns`.
    """
    del count
    slots = ops.where(active, ops.cumsum(ops.cast(active, "int32")) - 1, capacity)
    positions = ops.arange(int(active.shape[0]), dtype="int32")
    return ops.scatter(ops.expand_dims(slots, 1), positions, (capacity + 1,))[:capacity]


def _columns(h, indices, count):
    """``h[:, indices]`` with the columns of padding slots (``>= count``) set to zero."""
    valid = ops.arange(int(indices.shape[0]), dtype="int32") < count
    return ops.take(h, indices, axis=1) * ops.cast(valid, h.dtype)


def _row_loop(h, kernel, indices, count):
    """``h[:, indices[:count]] @ kernel[indices[:count]]`` as a loop of fused row reads.

    XLA fuses each dynamic row read into the multiply-add, so a row of the kernel is read
    once and never copied; the loop runs ``ceil(count / UNROLL)`` times, not ``capacity``
    (padding slots have zero columns). On 2 CPU cores this read rows at about 3 x
    the speed of XLA's ``gather`` (which copies them first).
    """
    capacity, units = int(indices.shape[0]), int(kernel.shape[1])
    unroll = next(u for u in (UNROLL, 4, 2, 1) if capacity % u == 0)
    columns = _columns(h, indices, count)
    batch = ops.shape(h)[0]

    def body(j, acc):
        for u in range(unroll):
            k = j * unroll + u
            row = ops.slice(kernel, [indices[k], 0], [1, units])
            acc = acc + ops.slice(columns, [0, k], [batch, 1]) * row
        return acc

    trips = (count + unroll - 1) // unroll
    return ops.fori_loop(0, trips, body, ops.zeros((batch, units), h.dtype))


def _gathered_affine(h, kernel, bias, capacity, kernel_kind):
    """``h @ kernel + bias`` through the rows of the batch's non-zero inputs; dense if too many.

    ``kernel_kind`` is ``"rows"`` (:func:`_row_loop`, for batch 1) or ``"gather"`` (gather
    the rows, then one matrix product: larger batches). Returns the result and whether the
    dense fallback was taken (a boolean scalar).
    """
    active = ops.any(ops.not_equal(h, 0), axis=0)
    count = ops.sum(ops.cast(active, "int32"))
    fallback = count > capacity

    def sparse():
        indices = _compact(active, count, capacity)
        if kernel_kind == "rows":
            return _row_loop(h, kernel, indices, count) + bias
        rows = ops.take(kernel, indices, axis=0)
        return ops.matmul(_columns(h, indices, count), rows) + bias

    def dense():
        return ops.matmul(h, kernel) + bias

    return ops.cond(fallback, dense, sparse), fallback


def sparse_forward(x, kernels, biases, activations, plan, output_scale=None):
    """The forward pass of a rectifier stack, each step gathered or dense as ``plan`` says.

    A pure ``keras.ops`` function (every backend); :func:`compile_forward` compiles it.

    Args:
        x: inputs, ``(batch, ...)``, flattened to ``(batch, d_in)``.
        kernels, biases: one ``(d_in, d_out)`` kernel and ``(d_out,)`` bias per step.
        activations: one name of :data:`ACTIVATIONS` per step.
        plan: one entry per step: a capacity (int) for the gathered product, or None (dense).
        output_scale: signs to multiply the output by (a final sign-flipped layer), or None.

    Returns:
        ``(outputs, fallbacks)``: ``fallbacks`` a ``(steps,)`` boolean tensor, True where a
        gathered step took its dense fallback (False for dense steps).
    """
    h = ops.cast(ops.reshape(x, (-1, int(kernels[0].shape[0]))), "float32")
    # Read each variable once: on TensorFlow a variable read inside the row loop copied
    # the whole kernel on every iteration under XLA (13 ms instead of 0.2 ms per example).
    kernels = [ops.convert_to_tensor(k) for k in kernels]
    biases = [ops.convert_to_tensor(b) for b in biases]
    fallbacks = []
    for kernel, bias, activation, capacity in zip(kernels, biases, activations, plan, strict=False):
        if capacity is None:
            h = ops.matmul(h, kernel) + bias
            fallbacks.append(ops.convert_to_tensor(False))
        else:
            rows = int(h.shape[0] or 0) == 1 and keras.backend.backend() in ROW_LOOP_BACKENDS
            kind = "rows" if rows else "gather"
            h, fallback = _gathered_affine(h, kernel, bias, capacity, kind)
            fallbacks.append(fallback)
        if activation == "relu":
            h = ops.relu(h)
        elif activation == "softmax":
            h = ops.softmax(h, axis=-1)
        elif activation == "sigmoid":
            h = ops.sigmoid(h)
    if output_scale is not None:
        h = h * output_scale
    return h, ops.stack(fallbacks)


@register
class SparseRectifierStack(keras.layers.Layer):
    """A whole Dense + rectifier stack that multiplies only the rows of non-zero inputs.

    Build it with :func:`sparse_inference_model` from a trained model (it copies the
    kernels, with sign patterns folded in, and measures the capacities on calibration
    data). Its output equals the original model's (max abs difference < 1e-5 in
    float32). Inference only: the weights are not trainable.

    Args:
        units: the sizes ``(d_in, d_1, ..., d_out)`` of the stack.
        activations: one name of :data:`ACTIVATIONS` per step.
        capacities: one list of per-step capacities for each size of ``batch_sizes``.
        batch_sizes: the increasing batch sizes of ``capacities``.
        dense_fraction: a step whose capacity exceeds this fraction of its inputs runs dense,
            in [0, 1] (0: all dense; 1: gathered whenever the capacity is below ``d_in``).
        output_sign_flip: the last step is followed by a sign flip (weight ``output_scale``).
        **kwargs: base layer arguments.

    Example:

    >>> layer = sparse_inference_model(model, x_calibration).layers[-1]  # doctest: +SKIP
    >>> layer.plan(1)  # capacity of each step's gather at batch 1 (None: dense)  # doctest: +SKIP
    [160, 184, 304, 272]
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
        self.units = _check_ints("units", units, minimum=1, min_length=2)
        steps = len(self.units) - 1
        if (
            isinstance(activations, str)
            or not isinstance(activations, (list, tuple))
            or len(activations) != steps
            or any(a not in ACTIVATIONS for a in activations)
        ):
            raise ValueError(
                f"`activations` must be {steps} names of {list(ACTIVATIONS)}; got "
                f"activations={activations!r}."
            )
        self.activations = tuple(activations)
        self.batch_sizes = _check_ints("batch_sizes", batch_sizes, minimum=1, min_length=1)
        if list(self.batch_sizes) != sorted(set(self.batch_sizes)):
            raise ValueError(f"`batch_sizes` must increase; got batch_sizes={batch_sizes!r}.")
        if not isinstance(capacities, (list, tuple)) or len(capacities) != len(self.batch_sizes):
            raise ValueError(
                f"`capacities` must hold one list per batch size ({len(self.batch_sizes)}); "
                f"got capacities={capacities!r}."
            )
        self.capacities = tuple(
            _check_ints("capacities", row, minimum=1, min_length=steps, max_length=steps)
            for row in capacities
        )
        self.dense_fraction = check_rate("dense_fraction", dense_fraction, allow_one=True)
        if not isinstance(output_sign_flip, bool):
            raise ValueError(
                f"`output_sign_flip` must be a bool; got output_sign_flip={output_sign_flip!r}."
            )
        self.output_sign_flip = output_sign_flip

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

    def forward(self, inputs, plan=None):
        """``(outputs, fallbacks)`` of :func:`sparse_forward` (``plan`` defaults to the layer's)."""
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


def _check_ints(name, values, minimum, min_length, max_length=None):
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if (
        values is None
        or len(values) < min_length
        or (max_length is not None and len(values) > max_length)
        or any(
            isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum
            for v in values
        )
    ):
        length = f"{min_length}" if max_length == min_length else f">= {min_length}"
        raise ValueError(
            f"`{name}` must be a sequence of {length} ints >= {minimum}; got {name}={values!r}."
        )
    return tuple(int(v) for v in values)


def measure_activity(model, x):
    """Fraction of non-zero inputs of each Dense step of ``model`` on examples ``x``.

    Step 1's inputs are the features (pixels), step ``k`` > 1's the hidden units of layer
    ``k - 1``. Returns a list of floats (1 - each is the layer's sparsity).
    """
    steps, _ = extract_steps(model)
    return [float(np.mean(h != 0)) for h in _forward_numpy(steps, x)]


def sparse_inference_model(
    model,
    calibration_data,
    *,
    dense_fraction=DENSE_FRACTION,
    headroom=HEADROOM,
    coverage=COVERAGE,
    capacities=None,
    batch_sizes=TABLE_BATCH_SIZES,
    name=None,
):
    """A model that computes ``model``'s output while multiplying only non-zero inputs.

    Args:
        model: a trained ``Dense`` + rectifier stack (:func:`extract_steps`), e.g. from
            :func:`~keras_sparse_rect.models.build_deep_network`.
        calibration_data: examples (numpy, e.g. a few hundred training inputs) whose measured
            activity sets each layer's gather capacity per batch size; ignored when
            ``capacities`` is given.
        dense_fraction: a step whose capacity exceeds this fraction of its inputs runs dense.
        headroom: capacity = ceil((1 + headroom) * the ``coverage`` quantile of the numbers of
            active inputs seen in calibration batches), >= 0.
        coverage: that quantile, in (0, 1]: the rarer, busier batches take the dense
            fallback of the layer.
        capacities: explicit per-step capacities (one int per Dense layer, used at every
            batch size), instead of measuring them.
        batch_sizes: batch sizes of the capacity table.
        name: the new model's name (default ``<model name>_sparse``).

    Returns:
        A ``keras.Model`` with ``model``'s input shape and one :class:`SparseRectifierStack`
        layer; it saves to ``.keras`` and loads back without ``custom_objects``.

    Example:

    >>> from keras_sparse_rect.inference import compile_forward, sparse_inference_model
    >>> sparse_model = sparse_inference_model(model, x_train[:1000])  # doctest: +SKIP
    >>> forward = compile_forward(sparse_model)  # XLA on TensorFlow and JAX  # doctest: +SKIP
    >>> y = forward(x_test[:1])  # doctest: +SKIP
    """
    steps, output_scale = extract_steps(model)
    headroom = check_non_negative("headroom", headroom)
    coverage = check_rate("coverage", coverage, allow_one=True)
    if coverage == 0:
        raise ValueError(f"`coverage` must be in (0, 1]; got coverage={coverage!r}.")
    batch_sizes = _check_ints("batch_sizes", batch_sizes, minimum=1, min_length=1)
    units = [steps[0]["kernel"].shape[0]] + [s["kernel"].shape[1] for s in steps]
    if capacities is not None:
        row = _check_ints(
            "capacities", capacities, minimum=1, min_length=len(steps), max_length=len(steps)
        )
        table = [list(row) for _ in batch_sizes]
    else:
        if calibration_data is None:
            raise ValueError(
                "`calibration_data` is needed to measure the capacities (or pass `capacities`); "
                "got calibration_data=None."
            )
        x = np.asarray(calibration_data, dtype="float32")
        if x.ndim < 2 or len(x) == 0 or math.prod(x.shape[1:]) != units[0]:
            raise ValueError(
                f"`calibration_data` must be examples of {units[0]} features; got "
                f"calibration_data of shape {x.shape}."
            )
        masks = [h != 0 for h in _forward_numpy(steps, x)]
        table = capacity_table(masks, batch_sizes, headroom, coverage)
    layer = SparseRectifierStack(
        units,
        [s["activation"] for s in steps],
        table,
        batch_sizes=batch_sizes,
        dense_fraction=dense_fraction,
        output_sign_flip=output_scale is not None,
        name="sparse_rectifier_stack",
    )
    inputs = keras.Input(shape=model.inputs[0].shape[1:], name="input")
    outputs = layer(inputs)
    weights = []
    for step in steps:
        weights += [step["kernel"], step["bias"]]
    if output_scale is not None:
        weights.append(output_scale)
    layer.set_weights(weights)
    return keras.Model(inputs, outputs, name=name or f"{model.name}_sparse")


def choose_by_timing(model, examples, batch_sizes=(1,), *, margin=1.1, repeats=5, calls=20):
    """Keeps the gathered plan only at the batch sizes where it measures faster than dense.

    Whether gathering the active rows pays depends on the machine and the backend's per-call
    cost as much as on sparsity (issue 12 measured 2.7 x at batch 1 on JAX and 0.9 x on
    TensorFlow, same network, same CPU). For each batch size this times the compiled sparse
    and dense forwards (:func:`compile_forward`) on ``examples``, alternating, median of
    ``repeats`` rounds of ``calls`` calls; where sparse is not at least ``margin`` times
    faster, the layer's capacities at that batch size are set to dense (they save with the
    model). Call it on the machine that serves, then :func:`compile_forward` again.

    Args:
        model: a model from :func:`sparse_inference_model`, or its layer.
        examples: numpy inputs (at least the largest batch size), e.g. held-out examples.
        batch_sizes: the batch sizes to decide (each decides its row of the capacity table).
        margin: the speed-up the gathered plan must show to be kept, >= 1.
        repeats, calls: timing rounds, and calls per round, >= 1.

    Returns:
        ``{batch_size: {"sparse": s, "dense": s, "kept": bool}}``, seconds per call.

    Example:

    >>> timings = choose_by_timing(sparse_model, x_val[:256], batch_sizes=(1, 10))  # doctest: +SKIP
    >>> forward = compile_forward(sparse_model)  # doctest: +SKIP
    """
    layer = _stack_layer(model)
    batch_sizes = _check_ints("batch_sizes", batch_sizes, minimum=1, min_length=1)
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not margin >= 1:
        raise ValueError(f"`margin` must be a number >= 1; got margin={margin!r}.")
    repeats = check_int("repeats", repeats, 1)
    calls = check_int("calls", calls, 1)
    x = np.asarray(examples, dtype="float32")
    if x.ndim < 2 or len(x) < max(batch_sizes) or math.prod(x.shape[1:]) != layer.units[0]:
        raise ValueError(
            f"`examples` must hold at least {max(batch_sizes)} examples of {layer.units[0]} "
            f"features; got examples of shape {x.shape}."
        )

    def seconds_per_call(fn, batches):
        start = time.perf_counter()
        for i in range(calls):
            keras.ops.convert_to_numpy(fn(batches[i % len(batches)]))
        return (time.perf_counter() - start) / calls

    forwards = {mode: compile_forward(layer, mode=mode) for mode in ("sparse", "dense")}
    capacities = [list(row) for row in layer.capacities]
    report = {}
    for batch_size in batch_sizes:
        if all(c is None for c in layer.plan(batch_size)):
            continue  # already dense (or past the table): nothing to decide
        batches = [
            ops.convert_to_tensor(x[i : i + batch_size])
            for i in range(0, len(x) - batch_size + 1, batch_size)
        ][:calls]
        for fn in forwards.values():  # compile outside the timing
            keras.ops.convert_to_numpy(fn(batches[0]))
        times = {mode: [] for mode in forwards}
        for _ in range(repeats):
            for mode, fn in forwards.items():
                times[mode].append(seconds_per_call(fn, batches))
        sparse, dense = (statistics.median(times[m]) for m in ("sparse", "dense"))
        kept = sparse * margin <= dense
        if not kept:  # capacity = inputs: the plan is dense at this row of the table
            capacities[int(np.searchsorted(layer.batch_sizes, batch_size))] = list(layer.units[:-1])
        report[batch_size] = {"sparse": sparse, "dense": dense, "kept": kept}
    layer.capacities = tuple(tuple(row) for row in capacities)
    return report


def _stack_layer(model):
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


def compile_forward(model, mode="sparse", return_fallbacks=False):
    """A compiled inference function of a :class:`SparseRectifierStack` (or its model).

    ``mode="sparse"`` follows the layer's plan at each batch size (gathered products with
    dense fallback, dense where the union covers most of a layer); ``mode="dense"`` runs
    every step dense through the same code: the fair baseline, compiled the same way.

    TensorFlow: ``tf.function(jit_compile=True)`` reading the layer's variables, called
    through its concrete function per input shape (:func:`call_by_shape`). JAX:
    ``jax.jit`` with the weights as arguments. Other backends: the ``keras.ops`` function,
    uncompiled. Each distinct batch size is compiled once.

    Args:
        model: a model from :func:`sparse_inference_model`, or its layer.
        mode: ``"sparse"`` or ``"dense"``.
        return_fallbacks: also return the per-step boolean tensor of dense fallbacks taken.

    Returns:
        A function ``x -> outputs`` (backend tensor), or ``x -> (outputs, fallbacks)``.
    """
    layer = _stack_layer(model)
    if mode not in ("sparse", "dense"):
        raise ValueError(f"`mode` must be 'sparse' or 'dense'; got mode={mode!r}.")
    if not isinstance(return_fallbacks, bool):
        raise ValueError(
            f"`return_fallbacks` must be a bool; got return_fallbacks={return_fallbacks!r}."
        )
    steps = len(layer.activations)

    def plan_for(batch_size):
        return layer.plan(batch_size) if mode == "sparse" else [None] * steps

    def pick(result):
        return result if return_fallbacks else result[0]

    backend = keras.backend.backend()
    if backend == "jax":
        import jax  # JAX only: jit with the weights as arguments.

        def pure(x, kernels, biases, scale):
            return pick(
                sparse_forward(x, kernels, biases, layer.activations, plan_for(x.shape[0]), scale)
            )

        jitted = jax.jit(pure)
        kernels = [v.value for v in layer.kernels]
        biases = [v.value for v in layer.biases]
        scale = None if layer.output_scale is None else layer.output_scale.value

        def forward(x):
            return jitted(x, kernels, biases, scale)

        return forward
    if backend == "tensorflow":
        import tensorflow as tf  # TensorFlow only: XLA-compiled graph on the variables.

        @tf.function(jit_compile=True, reduce_retracing=False)
        def forward(x):
            return pick(layer.forward(ops.convert_to_tensor(x), plan_for(x.shape[0])))

        return call_by_shape(forward)

    def eager(x):
        x = ops.convert_to_tensor(x)
        return pick(layer.forward(x, plan_for(x.shape[0])))

    return eager


def call_by_shape(function):
    """TensorFlow: calls ``function``'s concrete function for each input shape and dtype.

    Calling a ``tf.function`` matches the arguments against its traces on every call; the
    concrete function of a fixed shape skips that. Measured on 2 CPU cores (2026-12-07,
    one-off script), per batch-1 call: a compiled ``x + 1`` 157 -> 102 us, the 3 x 1000
    network's dense forward 425 -> 335 us. :func:`compile_forward` returns this on
    TensorFlow; ``bench/sparse_inference.py`` calls its baselines the same way.

    Args:
        function: a ``tf.function`` of one tensor argument.

    Returns:
        A function ``x -> function(x)`` (``x`` converted with ``tf.convert_to_tensor``), each
        distinct shape and dtype traced once.
    """
    import tensorflow as tf  # TensorFlow only.

    concrete = {}

    def call(x):
        x = tf.convert_to_tensor(x)
        key = (tuple(x.shape), x.dtype)
        fn = concrete.get(key)
        if fn is None:
            fn = concrete[key] = function.get_concrete_function(tf.TensorSpec(x.shape, x.dtype))
        return fn(x)

    return call


def use_synchronous_dispatch(enabled=True):
    """JAX on CPU: run each compiled call inline in the calling thread (no async dispatch).

    By default JAX hands every CPU computation to another thread and returns at once; for a
    program as short as a batch-1 forward (~0.1 ms) the hand-off and the wait for the result
    cost as much as the computation. On 2 CPU cores ``bench/sparse_inference.py`` measured,
    per batch-1 call of the 3 x 1000 network: gathered forward 190 -> 90 us, dense
    385 -> 237 us (README, "Sparse inference"). A serving process calls this once,
    **before JAX creates any array** (JAX reads the setting when it starts its CPU client).
    Training still works with it, but ``fit`` then no longer overlaps Python with
    computation, so leave it off in training jobs.

    Args:
        enabled: True for inline (synchronous) execution, False for JAX's default.

    Returns:
        True if the setting was applied (JAX backend), False on other backends, where there
        is nothing to set (TensorFlow runs a compiled function in the calling thread).

    Raises:
        RuntimeError: on JAX, if its backends are already initialized (the setting would
            silently not apply).

    Example:

    >>> from keras_sparse_rect import inference
    >>> inference.use_synchronous_dispatch()  # doctest: +SKIP
    >>> model = keras.saving.load_model("sparse.keras")  # doctest: +SKIP
    """
    if not isinstance(enabled, bool):
        raise ValueError(f"`enabled` must be a bool; got enabled={enabled!r}.")
    if keras.backend.backend() != "jax":
        return False
    import jax  # JAX only.
    from jax._src import xla_bridge  # backends_are_initialized has no public alias.

    initialized = getattr(xla_bridge, "backends_are_initialized", None)
    if initialized is not None and initialized():
        if jax.config.read("jax_cpu_enable_async_dispatch") == (not enabled):
            return True
        raise RuntimeError(
            "use_synchronous_dispatch() must run before JAX creates its first array: JAX's "
            "backends are already initialized, so the setting would not apply. Call it at the "
            "start of the serving process, before loading the model."
        )
    jax.config.update("jax_cpu_enable_async_dispatch", not enabled)
    return True
