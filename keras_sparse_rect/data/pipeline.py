"""The tf.data pipeline that feeds image splits to ``fit`` (section 4.1's training).

:func:`to_tf_dataset` turns arrays into a batched, prefetched ``tf.data.Dataset``
and runs a distortion layer (NISTP's, :func:`~keras_sparse_rect.data.nistp_distortion`)
inside it; :func:`distort_arrays` distorts a fixed set once; :func:`to_float_images`
is the one uint8 -> float32 in [0, 1] conversion of the loaders. TensorFlow is
imported only when a pipeline is built.
"""

import numpy as np

from keras_sparse_rect._validation import check_int, check_seed

# Parallel copies of a distortion layer in to_tf_dataset (fixed, so that the
# distortions drawn do not depend on the machine), the smallest chunk of images
# they distort at a time, and the seed offset between copies.
DISTORTION_STREAMS = 4
_DISTORTION_CHUNK = 256
_STREAM_SEED_STRIDE = 1_000_003


def to_tf_dataset(
    x,
    y,
    batch_size,
    *,
    shuffle=False,
    seed=None,
    repeat=False,
    drop_remainder=False,
    distortion=None,
    distortion_streams=DISTORTION_STREAMS,
):
    """Turns arrays into a batched, prefetched ``tf.data.Dataset`` of ``(x, y)``.

    Batches are gathered from one in-memory copy of the arrays by shuffled
    indices (no per-example work); uint8 images become float32 in [0, 1].

    A ``distortion`` layer (e.g. :func:`~keras_sparse_rect.data.nistp_distortion`)
    runs inside the pipeline with ``training=True``, in background threads,
    while the model trains on earlier batches. It works on chunks of at least
    256 images (cheaper per image than the paper's batches of 10), which are
    then cut into batches. Chunks are dealt in turn to ``distortion_streams``
    copies of the layer (seeds offset per copy) that run in parallel, each
    distorting its chunks in order: a seeded shuffle and a seeded distortion
    give the same stream on every run and every machine, and each epoch gets
    fresh shuffles and distortions. Needs TensorFlow (tf.data), whatever the
    Keras backend; ``model.fit`` takes the result on every backend.

    Args:
        x, y: arrays with the same first dimension.
        batch_size: examples per batch (int >= 1).
        shuffle: shuffle the examples, anew each epoch.
        seed: int seed of the shuffle; ``None`` for a random one.
        repeat: repeat forever (then give ``steps_per_epoch`` to ``fit``).
        drop_remainder: drop a last, smaller batch.
        distortion: a layer applied to batches of images, or ``None``.
        distortion_streams: parallel copies of ``distortion`` (int >= 1); the
            distortions drawn depend on it. Fewer are used when an epoch has
            fewer chunks; a ``distortion`` that is not a Keras layer (it cannot
            be copied) runs as one stream.

    Returns:
        A ``tf.data.Dataset`` of ``(images, labels)`` batches.

    Raises:
        ValueError: ``batch_size`` or ``distortion_streams`` not an int >= 1,
            a bad ``seed``, or ``x`` and ``y`` of different lengths.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data import to_tf_dataset
    >>> ds = to_tf_dataset(np.zeros((10, 28, 28, 1), "float32"), np.arange(10), 4)
    """
    batch_size = check_int("batch_size", batch_size, 1)
    distortion_streams = check_int("distortion_streams", distortion_streams, 1)
    seed = check_seed("seed", seed)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must have the same length; got {len(x)} and {len(y)}.")
    import tensorflow as tf  # tf.data: only when a pipeline is asked for

    scale = x.dtype == np.uint8
    x_all, y_all = tf.constant(x), tf.constant(y)

    def gather(index):
        images = tf.gather(x_all, index)
        if scale:
            images = tf.cast(images, tf.float32) / 255.0
        return images, tf.gather(y_all, index)

    if shuffle and seed is None and distortion is not None:
        # Every stream must see the same shuffle: draw its seed once, here.
        seed = int(np.random.default_rng().integers(2**31))
    chunk = batch_size if distortion is None else max(batch_size, _DISTORTION_CHUNK)

    def index_batches():
        # A new shuffle op per call: each one reshuffles from `seed`, epoch by
        # epoch, on its own (one op shared by several iterators would not).
        indices = tf.data.Dataset.range(len(x))
        if shuffle:
            indices = indices.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            indices = indices.repeat()
        return indices.batch(chunk, drop_remainder=drop_remainder and chunk == batch_size)

    if distortion is None:
        ds = index_batches().map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        import keras

        # No more copies than chunks in an epoch, and one for a plain callable.
        distortion_streams = max(1, min(distortion_streams, -(-len(x) // chunk)))
        if not isinstance(distortion, keras.layers.Layer):
            distortion_streams = 1
        streams = []
        for k in range(distortion_streams):
            layer = _reseeded(distortion, k) if distortion_streams > 1 else distortion
            stream = index_batches().shard(distortion_streams, k).map(gather)
            stream = stream.map(lambda images, labels, f=layer: (f(images, training=True), labels))
            streams.append(stream.prefetch(1))  # runs ahead in its own thread
        ds = streams[0]
        if distortion_streams > 1:
            turns = tf.data.Dataset.range(distortion_streams).repeat()
            ds = tf.data.Dataset.choose_from_datasets(streams, turns, stop_on_empty_dataset=True)
        if chunk != batch_size:
            ds = ds.rebatch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def _reseeded(layer, stream):
    """A fresh copy of ``layer`` (from its config) with every int seed offset by stream."""

    import keras

    def offset(node):
        if isinstance(node, dict):
            return {
                key: value + stream * _STREAM_SEED_STRIDE
                if key == "seed" and isinstance(value, int) and not isinstance(value, bool)
                else offset(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [offset(value) for value in node]
        return node

    config = offset(keras.saving.serialize_keras_object(layer))
    return keras.saving.deserialize_keras_object(config)


def distort_arrays(x, distortion, batch_size=1024):
    """``distortion`` applied once to every image of ``x`` (in tf.data), as numpy.

    Used to fix NISTP's distorted validation and test sets: the result depends
    only on the distortion's seed, not on the Keras backend.
    """
    ds = to_tf_dataset(x, np.zeros(len(x), np.int32), batch_size, distortion=distortion)
    return np.concatenate([images.numpy() for images, _ in ds]) if len(x) else x


def to_float_images(x):
    """uint8 -> float32 in [0, 1]; other dtypes -> float32; (n, h, w) -> (n, h, w, 1)."""
    x = np.asarray(x)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return x[..., None] if x.ndim == 3 else x
