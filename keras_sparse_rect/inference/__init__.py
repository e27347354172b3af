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

Backends: the numerics are ``keras.ops`` (``top_k``, ``take``, ``cond``).
:func:`compile_forward` compiles them with ``tf.function(jit_compile=True)`` on TensorFlow and
``jax.jit`` on JAX; on any other backend (PyTorch) it returns the same ``keras.ops`` function
uncompiled (untested here: PyTorch is not installed in this project's environment). At batch 1
JAX reads the active rows in a fused loop (1.9 - 3.3 x the dense compiled forward per call on 2
CPU cores with :func:`use_synchronous_dispatch`, which also halves the call's latency: the
sparse forward takes ~0.1 ms, the dense one 0.2 - 0.45 ms depending on the day); TensorFlow
gathers them instead and measured no gain (0.76 - 0.95 x, see :data:`ROW_LOOP_BACKENDS` and
docs/results/benchmarks.md), so :func:`choose_by_timing` keeps the dense program there. The
Keras layer :class:`SparseRectifierStack` saves to ``.keras`` and exports (``model.export``)
with the batch dimension unknown; there it uses the batch-1 capacities, with the dense fallback
for larger batches. Whether gathering pays is the serving machine's answer:
:func:`choose_by_timing` times both forwards there and keeps the gathered plan only where it is
faster.

Rooms: :mod:`.steps` (a trained network's ``Dense`` steps), :mod:`.kernels` (the gathered
forward), :mod:`.layer` (:class:`SparseRectifierStack`), :mod:`.calibration` (capacities and
:func:`choose_by_timing`), :mod:`.serving` (:func:`compile_forward` and the call path).

Example:

>>> import numpy as np
>>> from keras_sparse_rect import inference
>>> from keras_sparse_rect.models import build_deep_network
>>> model = build_deep_network((32,), 3, hidden_units=(64, 64), seed=0)
>>> x = np.random.default_rng(0).random((100, 32)).astype("float32")
>>> sparse_model = inference.sparse_inference_model(model, x)
>>> forward = inference.compile_forward(sparse_model)
>>> bool(np.allclose(forward(x[:1]), model.predict(x[:1], verbose=0), atol=1e-5))
True

On a server: ``inference.use_synchronous_dispatch()`` first (JAX), then
``inference.choose_by_timing(sparse_model, x_val[:256], batch_sizes=(1, 10))`` before
:func:`compile_forward`.
"""

from keras_sparse_rect.inference.calibration import (
    COVERAGE,
    HEADROOM,
    capacity_table,
    choose_by_timing,
    sparse_inference_model,
)
from keras_sparse_rect.inference.kernels import ROW_LOOP_BACKENDS, UNROLL, sparse_forward
from keras_sparse_rect.inference.layer import (
    DENSE_FRACTION,
    MIN_UNITS,
    TABLE_BATCH_SIZES,
    SparseRectifierStack,
)
from keras_sparse_rect.inference.serving import (
    call_by_shape,
    compile_forward,
    use_synchronous_dispatch,
)
from keras_sparse_rect.inference.steps import ACTIVATIONS, extract_steps, measure_activity

__all__ = [
    "ACTIVATIONS",
    "COVERAGE",
    "DENSE_FRACTION",
    "HEADROOM",
    "MIN_UNITS",
    "ROW_LOOP_BACKENDS",
    "TABLE_BATCH_SIZES",
    "UNROLL",
    "SparseRectifierStack",
    "call_by_shape",
    "capacity_table",
    "choose_by_timing",
    "compile_forward",
    "extract_steps",
    "measure_activity",
    "sparse_forward",
    "sparse_inference_model",
    "use_synchronous_dispatch",
]
