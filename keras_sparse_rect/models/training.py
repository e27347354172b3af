"""The paper's training setup: plain SGD at a constant learning rate, fast at batch 10 (4.1).

Section 4.1 trains with "stochastic gradient descent with mini-batches of size 10
for both unsupervised and supervised training phases" and constant learning
rates. :func:`compile_for_paper` compiles any model that way; at batch 10 a step
is so short that per-step overhead dominates, so it runs many steps per call
into the backend (:func:`steps_per_execution_for`) and compiles them with XLA
(:func:`resolve_jit_compile`).
"""

import math
import warnings

import keras

from keras_sparse_rect import names
from keras_sparse_rect._validation import check_int, check_positive

#: Default ``steps_per_execution`` of :func:`compile_for_paper`: at the paper's
#: batch of 10 a step is so short that per-step overhead dominates, so many steps
#: run per call into the backend (see ``bench/sgd_speed.py``).
STEPS_PER_EXECUTION = 100
#: The constant learning rates the paper explored, for pretraining and fine-tuning (4.1).
PAPER_LEARNING_RATES = names.PAPER_LEARNING_RATES


def steps_per_execution_for(rows, batch_size, most=STEPS_PER_EXECUTION):
    """The largest divisor of an epoch's steps up to ``most`` (unless it is tiny).

    Keras' progress bar advances by ``steps_per_execution`` per call, so an
    epoch whose last call runs fewer steps counts past its end (``400/350``).
    A divisor below a quarter of ``most`` (an epoch of a prime number of steps)
    would cost speed, so ``most`` is kept then.

    Example:

    >>> steps_per_execution_for(3500, 10)  # 350 steps: 5 calls of 70
    70
    """
    steps = max(1, math.ceil(rows / batch_size))
    best = max(d for d in range(1, min(most, steps) + 1) if steps % d == 0)
    return best if best >= min(most, steps) // 4 else most


def resolve_jit_compile(jit_compile="auto", model=None):
    """Turns ``"auto"`` into an explicit XLA choice for this backend.

    Keras' own ``"auto"`` turns XLA off on a CPU-only TensorFlow machine
    (``docs/facts.md``, "jit_compile="auto" on CPU TensorFlow"), where it is what
    makes batch-10 SGD fast. Here
    ``"auto"`` means: on, except on PyTorch, for sparse inputs on TensorFlow (its
    sparse ops do not compile; JAX's BCOO ops do) and under a ``tf.distribute``
    strategy (as Keras does).
    """
    if jit_compile != "auto":
        if not isinstance(jit_compile, bool):
            raise ValueError(
                f"`jit_compile` must be a bool or 'auto'; got jit_compile={jit_compile!r}."
            )
        return jit_compile
    if keras.backend.backend() not in ("tensorflow", "jax"):
        return False
    sparse = model is not None and any(getattr(t, "sparse", False) for t in _model_inputs(model))
    if sparse and keras.backend.backend() == "tensorflow":
        return False
    return not under_tf_distribute(model)


def under_tf_distribute(model=None):
    """Whether a ``tf.distribute`` strategy is in scope, or ``model`` was built in one."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf  # TensorFlow only: the strategy check.

    if tf.distribute.has_strategy():
        return True
    strategy = getattr(model, "distribute_strategy", None)
    return strategy is not None and strategy is not tf.distribute.get_strategy()


def _model_inputs(model):
    try:
        return list(model.inputs or [])
    except (AttributeError, ValueError):
        return []


def compile_for_paper(
    model,
    learning_rate=0.01,
    *,
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    steps_per_execution=STEPS_PER_EXECUTION,
    jit_compile="auto",
    **kwargs,
):
    """Compiles ``model`` for the paper's training: SGD at a constant learning rate.

    Section 4.1: "stochastic gradient descent with mini-batches of size 10 for both
    unsupervised and supervised training phases", constant learning rates, and
    the negative log-likelihood of a softmax output. Pass ``batch_size=10`` to
    ``fit``. At that batch size a step is so short that per-step overhead
    dominates, so by default many steps run per call into the backend
    (``steps_per_execution``) and each step is compiled with XLA
    (:func:`resolve_jit_compile`); ``bench/sgd_speed.py`` measures the gain.
    Under a ``tf.distribute`` strategy Keras' multi-step loop fails (Keras 3.15,
    TensorFlow 2.21: "You must feed a value for placeholder tensor"), so there
    ``steps_per_execution`` is 1, with a warning.

    Args:
        model: a ``keras.Model`` (a classifier, or a
            :class:`~keras_sparse_rect.models.DenoisingAutoencoder` with ``loss=None``
            and ``metrics=None``).
        learning_rate: the constant SGD learning rate, > 0.
        loss: the loss (default: negative log-likelihood of integer labels).
        metrics: metrics to report (default accuracy).
        steps_per_execution: training steps per call into the backend, >= 1.
        jit_compile: ``"auto"`` (see :func:`resolve_jit_compile`) or a bool.
        **kwargs: other ``compile`` arguments.

    Example:

    >>> compile_for_paper(model, learning_rate=0.01)  # doctest: +SKIP
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    steps_per_execution = check_int("steps_per_execution", steps_per_execution, 1)
    if steps_per_execution > 1 and under_tf_distribute(model):
        warnings.warn(
            f"compile_for_paper: steps_per_execution={steps_per_execution} fails under "
            "tf.distribute in this Keras version; using 1.",
            stacklevel=2,
        )
        steps_per_execution = 1
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss=loss,
        metrics=list(metrics) if metrics else None,
        steps_per_execution=int(steps_per_execution),
        jit_compile=resolve_jit_compile(jit_compile, model),
        **kwargs,
    )
