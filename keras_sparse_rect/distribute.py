"""One string -> one distribution strategy, in the manner of the TensorFlow Model Garden.

``get_strategy(name)`` is the only place where apps choose how to distribute: they
build their model (and pretraining) inside ``strategy.scope()`` and never branch on
the strategy otherwise.

On the TensorFlow backend the names map to ``tf.distribute`` strategies:

=========================  ====================================================
``default``                the default (no-op) strategy: one device
``one_device``             ``OneDeviceStrategy`` on the first GPU, else the CPU
``mirrored``               ``MirroredStrategy`` over every local GPU (or CPU)
``multi_worker_mirrored``  ``MultiWorkerMirroredStrategy``, cluster from ``TF_CONFIG``
``tpu``                    ``TPUStrategy`` from ``TPUClusterResolver(tpu=...)``
=========================  ====================================================

On JAX, ``keras.distribution`` is the mechanism (it does nothing on TensorFlow):
``mirrored`` maps to ``keras.distribution.DataParallel`` over every JAX device,
``default`` and ``one_device`` to no distribution; the others need TensorFlow.

Keras 3.15's ``fit`` fails under ``MultiWorkerMirroredStrategy``
(keras-team/keras#20585, then tensorflow#72388; ``docs/facts.md``,
"MultiWorkerMirroredStrategy and fit"): see :mod:`keras_sparse_rect._mwms_patch`
for the one isolated patch applied when that strategy is requested; the private
Keras functions it replaces are checked by :mod:`keras_sparse_rect._compat`.

Example:

>>> strategy = get_strategy("default")
>>> with strategy.scope():
...     model = build_deep_network((784,), 10)  # doctest: +SKIP
"""

import contextlib
import json
import os

import keras

from keras_sparse_rect.names import STRATEGIES

#: Names accepted by :func:`get_strategy` (:data:`keras_sparse_rect.names.STRATEGIES`).
NAMES = STRATEGIES


class StrategyError(ValueError):
    """A strategy that cannot be created here; the message is one line."""


class NoDistribution:
    """The JAX (and PyTorch) stand-in for TensorFlow's default strategy."""

    num_replicas_in_sync = 1

    def scope(self):
        return contextlib.nullcontext()


class JaxDataParallel:
    """``keras.distribution.DataParallel`` behind the same ``scope()`` interface."""

    def __init__(self, devices=None):
        self.distribution = keras.distribution.DataParallel(devices=devices)
        self.num_replicas_in_sync = int(self.distribution.device_mesh.shape[0])

    def scope(self):
        return self.distribution.scope()


def get_strategy(name="default", tpu=None):
    """Returns the strategy named ``name`` for the current Keras backend.

    Args:
        name: one of ``default``, ``one_device``, ``mirrored``,
            ``multi_worker_mirrored``, ``tpu``.
        tpu: for ``tpu``: the TPU's name or ``grpc://`` address (``""`` or
            ``"local"`` for a TPU VM); ignored otherwise.

    Raises:
        ValueError: an unknown ``name``.
        StrategyError: the strategy cannot be created on this machine (for
            example ``tpu`` with no TPU); the message is one line.
    """
    if name not in NAMES:
        raise ValueError(f"`strategy` must be one of {list(NAMES)}; got strategy={name!r}.")
    backend = keras.backend.backend()
    if backend != "tensorflow":
        if name in ("default", "one_device"):
            return NoDistribution()
        if name == "mirrored" and backend == "jax":
            return JaxDataParallel()
        raise StrategyError(
            f"strategy={name!r} needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
            f"the current backend is {backend!r}."
        )
    import tensorflow as tf  # TensorFlow backend: tf.distribute is the mechanism.

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker_mirrored":
        return _multi_worker_mirrored(tf)
    return _tpu(tf, tpu)


def _multi_worker_mirrored(tf):
    from keras_sparse_rect import _mwms_patch

    config = os.environ.get("TF_CONFIG")
    if config:
        try:
            json.loads(config)
        except json.JSONDecodeError as error:
            raise StrategyError(f"TF_CONFIG is not valid JSON: {error}.") from None
    _mwms_patch.apply()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:  # "Collective ops must be configured at program startup"
        raise StrategyError(
            "multi_worker_mirrored must be created before any other TensorFlow call in the "
            f"process: {str(error).splitlines()[0]}"
        ) from None


def _tpu(tf, tpu):
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        where = f"tpu={tpu!r}" if tpu else "no --tpu given"
        first_line = (str(error).strip().splitlines() or ["no TPU found"])[0]
        raise StrategyError(f"strategy='tpu': cannot reach a TPU ({where}): {first_line}") from None
    return tf.distribute.TPUStrategy(resolver)


def num_replicas(strategy):
    """The number of replicas that share each global batch."""
    return int(getattr(strategy, "num_replicas_in_sync", 1))


def is_chief():
    """True unless ``TF_CONFIG`` names this process a non-chief worker.

    Under ``multi_worker_mirrored`` every worker runs the same program; only the
    chief (worker 0 when there is no ``chief`` task) should write shared results.
    """
    return task_index() is None


def task_index():
    """``None`` for the chief (or no cluster), else this worker's index in ``TF_CONFIG``."""
    config = os.environ.get("TF_CONFIG")
    if not config:
        return None
    try:
        task = json.loads(config).get("task", {})
        cluster = json.loads(config).get("cluster", {})
    except (json.JSONDecodeError, AttributeError):
        return None
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster):
        return None
    return index
