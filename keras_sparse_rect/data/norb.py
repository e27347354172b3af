"""NORB: the binary-matrix reader and the jittered-cluttered loader of section 4.1.

The paper trains on jittered-cluttered NORB (LeCun et al., 2004), preprocessed
as Nair & Hinton (2010) did: the 2 x 108 x 108 stereo pairs are subsampled to
2 x 32 x 32 and scaled linearly to [-1, 1]; 6 classes (five toy categories and
"none", a cluttered background). tensorflow-datasets has only small NORB, so the
original files are read here.

A NORB binary-matrix file is a little-endian int32 magic number that gives the
element type, an int32 number of dimensions, ``max(3, ndim)`` int32 dimension
sizes (unused ones are 1), then the values in C order, little-endian.
"""

import glob
import gzip
import math
import os
import re

import numpy as np

from keras_sparse_rect.data._files import check_at_end, file_path, open_binary, read_exactly
from keras_sparse_rect.data.errors import DatasetNotFoundError

# Magic number -> element type (0x1E3D4C52, "packed matrix", is not supported).
NORB_DTYPES = {
    0x1E3D4C51: np.dtype("<f4"),
    0x1E3D4C53: np.dtype("<f8"),
    0x1E3D4C54: np.dtype("<i4"),
    0x1E3D4C55: np.dtype("u1"),
    0x1E3D4C56: np.dtype("<i2"),
}

NORB_URL = "https://cs.nyu.edu/~ylclab/data/norb-v1.0/"
NORB_CLASSES = ("animal", "human", "airplane", "truck", "car", "none")
_BACKGROUND = 5  # the "none" category has no object instance
_CHUNK = 1024  # images subsampled at a time, to bound memory on 680 MB files


def _read_header(f, path):
    header = np.frombuffer(read_exactly(f, 8, path, "the header"), "<i4")
    magic, ndim = int(header[0]) & 0xFFFFFFFF, int(header[1])
    if magic not in NORB_DTYPES:
        raise ValueError(
            f"{path}: not a NORB binary matrix: magic number {magic:#010x} is not "
            "one of 0x1e3d4c51/53/54/55/56 (float, double, int, byte, short)."
        )
    if not 1 <= ndim <= 16:
        raise ValueError(f"{path}: NORB header declares {ndim} dimensions.")
    stored = max(3, ndim)
    dims = np.frombuffer(read_exactly(f, 4 * stored, path, f"the {stored} dimension sizes"), "<i4")
    if (dims < 0).any():
        raise ValueError(f"{path}: negative dimension size in {dims.tolist()}.")
    return NORB_DTYPES[magic], tuple(int(d) for d in dims[:ndim])


def read_norb_matrix(path):
    """Reads a NORB binary-matrix file (``.mat`` or ``.mat.gz``) into numpy.

    Args:
        path: the file (``str`` or ``os.PathLike``).

    Returns:
        A numpy array of the header's shape and type, in native byte order.

    Raises:
        ValueError: naming the file: ``path`` is not a path or is a folder,
            the magic number is unknown, or the file is truncated (its header
            promises more data than it holds, however large the promise),
            too long or corrupt.
        FileNotFoundError: no such file.

    Example:

    >>> import os, struct, tempfile
    >>> from keras_sparse_rect.data import read_norb_matrix
    >>> path = os.path.join(tempfile.mkdtemp(), "demo-cat.mat")
    >>> header = struct.pack("<Ii3i", 0x1E3D4C54, 1, 2, 1, 1)  # int32, 1 dimension: 2
    >>> with open(path, "wb") as f:
    ...     _ = f.write(header + struct.pack("<2i", 4, 5))
    >>> read_norb_matrix(path).tolist()
    [4, 5]
    """
    path = file_path(path)
    with open_binary(path) as f:
        dtype, shape = _read_header(f, path)
        count = math.prod(shape)  # Python ints: a corrupt header cannot overflow
        _check_declared_size(f, path, count * dtype.itemsize, f"data of shape {shape}")
        data = read_exactly(f, count * dtype.itemsize, path, f"data of shape {shape}")
        check_at_end(f, path)
    return np.frombuffer(data, dtype).astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def area_matrix(size_in, size_out):
    """The (size_out, size_in) matrix that averages pixels over equal areas.

    ``A @ image @ A.T`` subsamples a square image from ``size_in`` to ``size_out``
    pixels a side; each output pixel is the mean of the input area it covers
    (108 -> 32: 3.375 input pixels per output pixel).
    """
    edges = np.arange(size_out + 1) * (size_in / size_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    pixels = np.arange(size_in)[None, :]
    overlap = np.clip(np.minimum(hi, pixels + 1) - np.maximum(lo, pixels), 0, None)
    return (overlap / (size_in / size_out)).astype(np.float32)


def subsample_stereo(images, size=32):
    """Stereo pairs (n, 2, h, h) in 0..255 -> (n, size, size, 2) float32 in [-1, 1].

    Subsamples by area averaging, then scales linearly: 0 -> -1, 255 -> 1
    (section 4.1, following Nair & Hinton, 2010). Channels last, like every
    image in this package.
    """
    a = area_matrix(images.shape[-1], size)
    out = np.empty((images.shape[0], size, size, images.shape[1]), np.float32)
    for start in range(0, images.shape[0], _CHUNK):
        chunk = images[start : start + _CHUNK].astype(np.float32)
        small = a @ chunk @ a.T  # (n, 2, size, size)
        out[start : start + _CHUNK] = np.moveaxis(small, 1, -1) / 127.5 - 1.0
    return out


def _read_stereo_subsampled(path, size):
    """Reads a ``-dat.mat`` file chunk by chunk, subsampling as it goes."""
    with open_binary(file_path(path)) as f:
        dtype, shape = _read_header(f, path)
        if dtype != np.uint8 or len(shape) != 4 or shape[1] != 2:
            raise ValueError(
                f"{path}: expected uint8 stereo pairs of shape (n, 2, h, w); "
                f"found {dtype} of shape {shape}."
            )
        n, per_image = shape[0], math.prod(shape[1:])
        _check_declared_size(f, path, n * per_image, f"{n} stereo pairs of shape {shape[1:]}")
        # Chunks are kept as they are read, so a gzipped file whose header promises more
        # images than it holds costs what it holds, not the promise (a corrupt count).
        parts = []
        for start in range(0, n, _CHUNK):
            m = min(_CHUNK, n - start)
            raw = read_exactly(f, m * per_image, path, f"images {start}..{start + m - 1} of {n}")
            chunk = np.frombuffer(raw, np.uint8).reshape((m,) + shape[1:])
            parts.append(subsample_stereo(chunk, size))
        check_at_end(f, path)
    return np.concatenate(parts) if parts else np.empty((0, size, size, 2), np.float32)


def _check_declared_size(f, path, data_bytes, what):
    """A plain (not gzipped) file must hold the data its header declares; checked up front.

    Reading stops at a truncation anyway; checking first names the file before any large
    allocation or minutes of subsampling.
    """
    if not hasattr(f, "fileno") or isinstance(f, gzip.GzipFile):
        return
    held = os.fstat(f.fileno()).st_size - f.tell()
    if held < data_bytes:
        raise ValueError(
            f"{path}: truncated file: its header declares {what} ({data_bytes} bytes of "
            f"data) but found {held}."
        )


def _parts(directory, split):
    pattern = re.compile(rf"-{split}-(\d+)-dat\.mat(\.gz)?$")
    parts = {}
    for path in sorted(glob.glob(os.path.join(directory, f"*-{split}-*-dat.mat*"))):
        match = pattern.search(os.path.basename(path))
        if match:
            parts.setdefault(match.group(1), path)
    return [parts[k] for k in sorted(parts)]


def _companion(dat_path, kind):
    base = re.sub(r"-dat\.mat(\.gz)?$", "", dat_path)
    for candidate in (f"{base}-{kind}.mat", f"{base}-{kind}.mat.gz"):
        if os.path.exists(candidate):
            return candidate
    raise DatasetNotFoundError(
        f"norb: {os.path.basename(dat_path)} has no matching {kind} file "
        f"({os.path.basename(base)}-{kind}.mat[.gz]); download it from {NORB_URL}"
    )


def _dat_length(path):
    with open_binary(file_path(path)) as f:
        return _read_header(f, path)[1][0]


def _index_split(directory, split):
    """Reads the small -cat and -info files of each part: [(dat, labels, instances)]."""
    parts = []
    for dat in _parts(directory, split):
        cat_path, info_path = _companion(dat, "cat"), _companion(dat, "info")
        labels = read_norb_matrix(cat_path).reshape(-1)
        info = read_norb_matrix(info_path)
        info = info.reshape(info.shape[0], -1) if info.ndim else info.reshape(1, 1)
        n = _dat_length(dat)
        for rows, what in ((len(labels), cat_path), (len(info), info_path)):
            if rows != n:
                raise ValueError(f"{what}: has {rows} rows but {dat} has {n} images.")
        if labels.min(initial=0) < 0 or labels.max(initial=0) >= len(NORB_CLASSES):
            raise ValueError(f"{cat_path}: categories must be in 0..5.")
        parts.append((dat, labels.astype(np.int32), info[:, 0].astype(np.int32)))
    return parts


def _read_images(parts, masks, size):
    """Reads each part's images once into one array per mask (train, val, ...)."""
    outs = [np.empty((sum(int(m.sum()) for m in ms), size, size, 2), np.float32) for ms in masks]
    offsets = [0] * len(outs)
    for i, (dat, _, _) in enumerate(parts):
        x = _read_stereo_subsampled(dat, size)
        for j, ms in enumerate(masks):
            chosen = x[ms[i]]
            outs[j][offsets[j] : offsets[j] + len(chosen)] = chosen
            offsets[j] += len(chosen)
    return outs


def nair_hinton_validation_mask(labels, instances, validation_instance=4, seed=0):
    """Boolean mask of the training images held out for validation.

    Following Nair & Hinton (2010), validation images are those of one object
    instance per category (``validation_instance``, an instance of the training
    half: 4, 6, 7, 8 or 9), so validation measures generalization to unseen
    objects as the test set does. The "none" category has no instance; a seeded
    random fifth of its images (one instance in five) is held out with them.
    """
    mask = (labels != _BACKGROUND) & (instances == validation_instance)
    background = np.flatnonzero(labels == _BACKGROUND)
    rng = np.random.default_rng(seed)
    held = rng.choice(background, size=len(background) // 5, replace=False)
    mask[held] = True
    return mask


def load_jittered_cluttered_norb(directory, *, size=32, validation_instance=4):
    """Loads jittered-cluttered NORB from its original files in ``directory``.

    Reads every ``*-training-NN-{dat,cat,info}.mat[.gz]`` part (10 in the full
    set, 291,600 stereo pairs) and every ``*-testing-NN-...`` part (2, 58,320),
    subsamples to ``size`` x ``size`` and scales to [-1, 1]; holds out the
    validation set with :func:`nair_hinton_validation_mask`. Returns
    ``(x_train, y_train, x_val, y_val, x_test, y_test)``; images have shape
    ``(n, size, size, 2)``, labels are int32 in 0..5.

    Example:

    >>> from keras_sparse_rect.data.norb import load_jittered_cluttered_norb
    >>> splits = load_jittered_cluttered_norb("~/tensorflow_datasets/norb")  # doctest: +SKIP
    """
    directory = os.path.expanduser(os.fspath(directory))
    train = _index_split(directory, "training")
    test = _index_split(directory, "testing") if train else []
    if not train or not test:
        raise DatasetNotFoundError(
            f"norb: no jittered-cluttered NORB files (*-training-NN-dat.mat[.gz] and "
            f"*-testing-NN-dat.mat[.gz] with their -cat and -info files) in "
            f"{directory}; download them from {NORB_URL} (about 6 GB)"
        )
    y = np.concatenate([labels for _, labels, _ in train])
    instances = np.concatenate([inst for _, _, inst in train])
    val = nair_hinton_validation_mask(y, instances, validation_instance)
    val_parts = np.split(val, np.cumsum([len(labels) for _, labels, _ in train])[:-1])
    x_train, x_val = _read_images(train, [[~m for m in val_parts], val_parts], size)
    (x_test,) = _read_images(test, [[np.ones(len(t[1]), bool) for t in test]], size)
    y_test = np.concatenate([labels for _, labels, _ in test])
    return x_train, y[~val], x_val, y[val], x_test, y_test
