"""The one patch that makes Keras' ``fit`` work under ``MultiWorkerMirroredStrategy``.

Keras 3.15 on TensorFlow 2.21 fails twice under ``MultiWorkerMirroredStrategy``
(``docs/facts.md``, "MultiWorkerMirroredStrategy and fit"; public issue
keras-team/keras#20585):

1. ``TensorFlowTrainer._maybe_symbolic_build`` hands the whole distributed
   ``(x, y)`` batch to ``strategy.reduce("MEAN", ..., axis=None)``, which cannot
   convert a ``PerReplica`` of integer labels (``Attempt to convert a value
   (PerReplica:{...}) ...``). The batch is only used to build the model from its
   shapes, so the patched version takes this worker's first local replica instead.
2. ``reduce_per_replica`` then reduces scalar metric results with
   ``strategy.reduce("MEAN", v, axis=0)``: ``Invalid reduction dimension 0 for
   input with 0 dimensions`` (tensorflow#72388). The patched version uses
   ``axis=None`` for rank-0 values (the mean over replicas, which is what
   ``axis=0`` means for them) and leaves every other case to Keras.

We patch rather than write a custom training loop so that ``fit`` with all its
callbacks (``BackupAndRestore``, ``TensorBoard``, the pretraining callback) stays
the one code path for every strategy. Both patched functions, and the trainer
helpers they call, are private Keras API: :func:`apply` gets them from
:func:`keras_sparse_rect._compat.tensorflow_trainer`, which checks that they
exist and raises :class:`~keras_sparse_rect._compat.KerasInternalsError` (naming
the installed Keras and TensorFlow and what is missing) if a future Keras has
moved them; ``tests/test_distribute.py`` runs a two-worker training on
127.0.0.1 to check the patch still does its job. Other strategies go through
Keras' original code unchanged. The patch stays in this module rather than in
``_compat`` because it changes Keras' behaviour, where ``_compat`` only reaches
and checks internals.
"""

import keras

from keras_sparse_rect import _compat

_APPLIED = False


def apply():
    """Installs the patch (idempotent). TensorFlow backend only."""
    global _APPLIED
    if _APPLIED:
        return
    import tensorflow as tf  # TensorFlow backend only: tf.distribute values.

    tf_trainer = _compat.tensorflow_trainer()  # raises KerasInternalsError if they moved

    original_build = tf_trainer.TensorFlowTrainer._maybe_symbolic_build
    original_reduce = tf_trainer.reduce_per_replica

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if iterator is None or not tf_trainer._collective_all_reduce_multi_worker(strategy):
            return original_build(self, iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            batch = next(it)
            data_batch = keras.tree.map_structure(
                lambda v: (
                    strategy.experimental_local_results(v)[0]
                    if isinstance(v, tf.distribute.DistributedValues)
                    else v
                ),
                batch,
            )
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(
            strategy
        ):

            def _reduce(v):
                if not tf_trainer._is_per_replica_instance(v):
                    return v
                axis = None if v.values[0].shape.rank == 0 else 0
                return strategy.reduce("MEAN", v, axis=axis)

            return keras.tree.map_structure(_reduce, values)
        return original_reduce(values, strategy, reduction)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    _APPLIED = True
