"""Calibration: each step's gather capacity from measured activity, and choosing by timing.

The capacity of a step's gather at a batch size is set from how many of its inputs are non-zero
on calibration examples (paper, Section 4.1: trained rectifier networks are 70 - 85% exactly
sparse); :func:`choose_by_timing` then keeps the gathered plan only where it measures faster
than the dense one on the serving machine.
"""

import math
import statistics
import time

import keras
import numpy as np
from keras import ops

from keras_sparse_rect._validation import (
    check_int,
    check_int_sequence,
    check_non_negative,
    check_positive,
    check_rate,
    check_seed,
)
from keras_sparse_rect.inference.layer import (
    DENSE_FRACTION,
    TABLE_BATCH_SIZES,
    SparseRectifierStack,
    check_batch_sizes,
    stack_layer,
)
from keras_sparse_rect.inference.serving import compile_forward
from keras_sparse_rect.inference.steps import extract_steps, step_inputs

#: Default ``coverage``: the quantile of calibration counts that the capacity must hold.
COVERAGE = 0.99

#: Default ``headroom``: capacity = (1 + headroom) x the largest union seen in calibration.
HEADROOM = 0.1


def _round_up(value, multiple):
    return int(math.ceil(value / multiple) * multiple)


def _check_headroom_and_coverage(headroom, coverage):
    headroom = check_non_negative("headroom", headroom)
    coverage = check_rate("coverage", coverage, allow_one=True)
    if coverage == 0:
        raise ValueError(f"`coverage` must be in (0, 1]; got coverage={coverage!r}.")
    return headroom, coverage


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

    Raises:
        ValueError: naming the invalid argument and its value (a mask that is not a
            non-empty 2-D array, a negative ``headroom``, a ``coverage`` outside (0, 1]).

    Example (one layer of 20 inputs; the examples have 1 and 2 active inputs):

    >>> import numpy as np
    >>> from keras_sparse_rect.inference import capacity_table
    >>> mask = np.zeros((2, 20), bool)
    >>> mask[0, 0] = mask[1, :2] = True
    >>> capacity_table([mask], batch_sizes=(1, 2), headroom=0.0, coverage=1.0)
    [[8], [8]]
    """
    headroom, coverage = _check_headroom_and_coverage(headroom, coverage)
    batch_sizes = check_batch_sizes(batch_sizes)
    seed = check_seed("seed", seed)
    masks = [np.asarray(mask, dtype=bool) for mask in active_masks]
    for i, mask in enumerate(masks):
        if mask.ndim != 2 or not mask.size:
            raise ValueError(
                f"`active_masks[{i}]` must be a non-empty (examples, inputs) array; got one "
                f"of shape {mask.shape}."
            )
    rng = np.random.default_rng(seed)
    table = []
    for batch_size in batch_sizes:
        row = []
        for mask in masks:
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

    Paper, Sections 2.2 and 3.1: rectifier representations are truly sparse, and their
    computation can exploit it.

    Returns:
        A ``keras.Model`` with ``model``'s input shape and one :class:`SparseRectifierStack`
        layer; it saves to ``.keras`` and loads back without ``custom_objects``.

    Raises:
        ValueError: naming the invalid argument, or (:func:`extract_steps`) the first layer
            of ``model`` that is not part of a ``Dense`` + rectifier stack.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.inference import sparse_inference_model
    >>> from keras_sparse_rect.models import build_deep_network
    >>> model = build_deep_network((32,), 3, hidden_units=(64, 64), seed=0)
    >>> x = np.random.default_rng(0).random((100, 32)).astype("float32")
    >>> sparse_model = sparse_inference_model(model, x)
    >>> y, reference = sparse_model.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0)
    >>> bool(np.allclose(y, reference, atol=1e-5))
    True
    """
    steps, output_scale = extract_steps(model)
    headroom, coverage = _check_headroom_and_coverage(headroom, coverage)
    batch_sizes = check_batch_sizes(batch_sizes)
    units = [steps[0]["kernel"].shape[0]] + [s["kernel"].shape[1] for s in steps]
    if capacities is not None:
        row = check_int_sequence("capacities", capacities, minimum=1, count=len(steps))
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
        masks = [h != 0 for h in step_inputs(steps, x)]
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

    Raises:
        ValueError: naming the invalid argument and its value.

    Example (no plan is 1e9 x faster than dense, so batch 1 turns dense):

    >>> import numpy as np
    >>> from keras_sparse_rect.inference import choose_by_timing, sparse_inference_model
    >>> from keras_sparse_rect.models import build_deep_network
    >>> model = build_deep_network((32,), 3, hidden_units=(64, 64), seed=0)
    >>> x = np.random.default_rng(0).random((100, 32)).astype("float32")
    >>> x[:, ::2] = 0.0  # half the inputs are zero: batch 1 gathers them
    >>> sparse_model = sparse_inference_model(model, x, dense_fraction=1.0)
    >>> sparse_model.layers[-1].plan(1)[0]  # 16 active inputs + 10% headroom, rounded to 8
    24
    >>> report = choose_by_timing(sparse_model, x, margin=1e9, repeats=1, calls=1)
    >>> report[1]["kept"], sparse_model.layers[-1].plan(1)
    (False, [None, None, None])
    """
    layer = stack_layer(model)
    batch_sizes = check_batch_sizes(batch_sizes)
    if check_positive("margin", margin) < 1:
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
        if layer.runs_dense(batch_size):
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
