"""Serving: the compiled forward of a sparse model, called per input shape.

:func:`compile_forward` compiles the sparse (or, as the fair baseline, the dense) forward of a
:class:`~keras_sparse_rect.inference.SparseRectifierStack`: ``tf.function(jit_compile=True)``
on TensorFlow, ``jax.jit`` on JAX, the plain ``keras.ops`` function on other backends (PyTorch:
untested here). Paper, Section 3.1: the cheaper computation of sparse rectifier networks.
"""

import keras
from keras import ops

from keras_sparse_rect._validation import check_bool, check_choice
from keras_sparse_rect.inference.kernels import sparse_forward
from keras_sparse_rect.inference.layer import stack_layer


def compile_forward(model, mode="sparse", return_fallbacks=False):
    """A compiled inference function of a :class:`SparseRectifierStack` (or its model).

    ``mode="sparse"`` follows the layer's plan at each batch size (gathered products with
    dense fallback, dense where the union covers most of a layer); ``mode="dense"`` runs
    every step dense through the same code: the fair baseline, compiled the same way
    (paper, Section 3.1: the computational advantage of sparsity, measured against it).

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

    Raises:
        ValueError: naming the invalid argument and its value.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.inference import SparseRectifierStack, compile_forward
    >>> layer = SparseRectifierStack([100, 64, 3], ["relu", "softmax"], [[16, 16]], batch_sizes=[1])
    >>> layer.build((None, 100))
    >>> forward = compile_forward(layer, return_fallbacks=True)
    >>> outputs, fallbacks = forward(np.zeros((1, 100), "float32"))
    >>> tuple(outputs.shape), keras.ops.convert_to_numpy(fallbacks).tolist()
    ((1, 3), [False, False])
    """
    layer = stack_layer(model)
    mode = check_choice("mode", mode, ("sparse", "dense"))
    return_fallbacks = check_bool("return_fallbacks", return_fallbacks)
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

    Example (TensorFlow must be installed; any Keras backend):

    >>> import numpy as np, tensorflow as tf
    >>> from keras_sparse_rect.inference import call_by_shape
    >>> double = call_by_shape(tf.function(lambda x: 2 * x))
    >>> double(np.ones((1, 2), "float32")).numpy().tolist()
    [[2.0, 2.0]]
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
    385 -> 237 us (docs/log/sparse-inference.md). A serving process calls this once,
    **before JAX creates any array** (JAX reads the setting when it starts its CPU client).
    Training still works with it, but ``fit`` then no longer overlaps Python with
    computation, so leave it off in training jobs.

    Args:
        enabled: True for inline (synchronous) execution, False for JAX's default.

    Returns:
        True if the setting was applied (JAX backend), False on other backends, where there
        is nothing to set (TensorFlow runs a compiled function in the calling thread).

    Raises:
        ValueError: if ``enabled`` is not a bool.
        RuntimeError: on JAX, if its backends are already initialized (the setting would
            silently not apply).

    Example (at the start of a serving process, so skipped here):

    >>> from keras_sparse_rect import inference
    >>> inference.use_synchronous_dispatch()  # doctest: +SKIP
    True
    >>> model = keras.saving.load_model("sparse.keras")  # doctest: +SKIP
    """
    enabled = check_bool("enabled", enabled)
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
