"""Random-number state for the noise layers.

Keras' ``SeedGenerator`` keeps its state in a variable that tf.distribute
mirrors, so under ``MirroredStrategy`` every replica draws the same numbers at
every step (Keras' own ``Dropout`` and ``GaussianNoise`` included; see
``docs/facts.md``, "Identical noise on MirroredStrategy replicas"). For a
denoising autoencoder that halves the diversity of the corruption.
:class:`ReplicaAwareSeedGenerator` folds the replica's index into each drawn
seed when more than one replica is in sync, so each replica gets its own noise
while the state stays a single, checkpointable variable.
"""

import keras
from keras import ops

# A large odd constant so that replica offsets do not line up with the small
# seeds people pick by hand.
_REPLICA_STRIDE = 1_000_003


def _replica_index():
    """Returns (replica id tensor, num replicas) under tf.distribute, else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf  # TensorFlow-only: tf.distribute is the reason.

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync <= 1:
        return None
    return context.replica_id_in_sync_group


class ReplicaAwareSeedGenerator(keras.random.SeedGenerator):
    """A ``keras.random.SeedGenerator`` that draws distinct seeds on each replica.

    Outside tf.distribute (and on JAX or PyTorch) it behaves exactly like its
    parent class.

    Example:

    >>> gen = ReplicaAwareSeedGenerator(seed=1)
    >>> noise = keras.random.uniform((2, 3), seed=gen)
    """

    def next(self, ordered=True):
        seed = super().next(ordered=ordered)
        replica = _replica_index()
        if replica is None:
            return seed
        offset = ops.cast(replica, seed.dtype) * _REPLICA_STRIDE
        return seed + ops.stack([offset, ops.zeros_like(offset)])


def uniform(shape, seed_generator):
    """``keras.random.uniform(shape, seed=seed_generator)`` in [0, 1), fast under XLA.

    On TensorFlow, Keras draws with the stateless "auto_select" algorithm, which
    inside an XLA-compiled step on CPU took 3.8 ms for 10 x 784 numbers here
    (Philox: 0.25 ms; ``docs/facts.md``, "Random numbers inside XLA on CPU"),
    and made a batch-10 denoising autoencoder ~4x slower with
    ``jit_compile=True``. This draws with Philox on TensorFlow (same seed
    state, same distribution) and defers to ``keras.random.uniform`` elsewhere.
    """
    if keras.backend.backend() != "tensorflow":
        return keras.random.uniform(shape, seed=seed_generator)
    import tensorflow as tf  # TensorFlow-only: the choice of algorithm.

    seed = seed_generator.next()
    seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), "int32")
    return tf.random.stateless_uniform(shape, seed=seed, dtype=keras.config.floatx(), alg="philox")
