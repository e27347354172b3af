"""The sparse forward pass: each step multiplies only the kernel rows of its non-zero inputs.

Paper, Section 3.1: "computations are also cheaper ... sparsity can be exploited". A step
gathers the rows of the inputs that are non-zero in at least one example of the batch (the
"aggregated sparsity"; at batch 1 the example's own active units) up to a fixed **capacity**
(so that XLA compiles it once), and takes its dense product instead (``ops.cond``) when more
are active, so the output is always exact. Pure ``keras.ops``: every backend.
"""

import keras
from keras import ops

#: Rows read per iteration of the batch-1 row loop (capacities are multiples of 8).
UNROLL = 8

#: Backends on which batch 1 uses the row loop (:func:`_row_loop`). On TensorFlow a
#: ``tf.function(jit_compile=True)`` call holding the loop took ~4 ms per example on 2 cores
#: (the same loop inside a compiled ``map_fn`` over many examples took 0.16 ms), so there
#: batch 1 gathers the rows and multiplies them instead.
ROW_LOOP_BACKENDS = ("jax",)


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

    Paper, Section 3.1: once the active units are known, the computation is linear on them
    alone, so only their kernel rows need to be read.

    Computes in the kernels' dtype (float32; float16 when a
    :class:`~keras_sparse_rect.inference.SparseRectifierStack` runs under a ``mixed_float16``
    policy, which reads its float32 variables as float16). A pure ``keras.ops`` function (every
    backend);
    :func:`~keras_sparse_rect.inference.serving.compile_forward` compiles it.

    Args:
        x: inputs, ``(batch, ...)``, flattened to ``(batch, d_in)``.
        kernels, biases: one ``(d_in, d_out)`` kernel and ``(d_out,)`` bias per step.
        activations: one name of :data:`~keras_sparse_rect.inference.steps.ACTIVATIONS` per step.
        plan: one entry per step: a capacity (int) for the gathered product, or None (dense).
        output_scale: signs to multiply the output by (a final sign-flipped layer), or None.

    Returns:
        ``(outputs, fallbacks)``: ``fallbacks`` a ``(steps,)`` boolean tensor, True where a
        gathered step took its dense fallback (False for dense steps).

    Example (one 3 -> 64 step gathering at most 8 rows; only input 1 is active):

    >>> import numpy as np
    >>> from keras import ops
    >>> from keras_sparse_rect.inference import sparse_forward
    >>> kernel = np.arange(192, dtype="float32").reshape(3, 64)
    >>> x = np.array([[0.0, 2.0, 0.0]], "float32")
    >>> out, fallbacks = sparse_forward(x, [kernel], [np.zeros(64, "float32")], ["relu"], [8])
    >>> bool(np.allclose(ops.convert_to_numpy(out), x @ kernel))
    True
    >>> ops.convert_to_numpy(fallbacks).tolist()
    [False]
    """
    # Read each variable once: on TensorFlow a variable read inside the row loop copied
    # the whole kernel on every iteration under XLA (13 ms instead of 0.2 ms per example).
    kernels = [ops.convert_to_tensor(k) for k in kernels]
    dtype = kernels[0].dtype  # float16 in a layer under "mixed_float16" (autocast variables)
    biases = [ops.cast(b, dtype) for b in biases]
    if output_scale is not None:
        output_scale = ops.cast(output_scale, dtype)
    h = ops.cast(ops.reshape(x, (-1, int(kernels[0].shape[0]))), dtype)
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
