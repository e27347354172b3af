"""Image data sets a user brings as files: ``idx:DIR`` and ``npz:FILE``, and their checks.

``idx:DIR`` reads MNIST-format IDX files (:func:`~keras_sparse_rect.data.read_idx`)
from a folder; ``npz:FILE`` reads the arrays ``x_train, y_train, x_test, y_test``
(and optionally ``x_val, y_val``) of a ``numpy.savez`` archive. Both go through
the same checks: numeric, finite images of one shape per split, integer class
labels ``0..k-1`` (or in ``[0, num_classes)``), and at least two classes. Every
refusal is a ``ValueError`` (a missing file or folder a
:class:`~keras_sparse_rect.data.DatasetNotFoundError`) whose message starts with
``idx:DIR`` or ``npz:FILE`` and names the file or array at fault.
"""

import math
import os
import zipfile
import zlib

import numpy as np

from keras_sparse_rect._validation import check_int
from keras_sparse_rect.data._files import file_path
from keras_sparse_rect.data.errors import DatasetNotFoundError
from keras_sparse_rect.data.idx import read_idx
from keras_sparse_rect.data.pipeline import to_float_images
from keras_sparse_rect.data.splits import hold_out_last


def load_idx(directory, num_classes=None):
    """The ``idx:DIR`` source: MNIST-format IDX files in ``directory`` (section 4.1's MNIST).

    The folder holds one file each for the training and test images and labels,
    named as MNIST's (``train-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``,
    ...; gzipped or not). Without a validation split, the last sixth of the
    training examples validate (:func:`~keras_sparse_rect.data.splits.hold_out_last`).

    Args:
        directory: the folder.
        num_classes: labels may be any of ``0..num_classes-1`` (int >= 2);
            without it, the k distinct labels must be ``0..k-1``.

    Returns:
        ``(x_train, y_train, x_val, y_val, x_test, y_test, num_classes)``.

    Raises:
        DatasetNotFoundError: no such folder, or no single file for a role.
        ValueError: naming the file: a member that is a folder or a corrupt
            or truncated IDX file, images that are not finite numbers, labels
            that are not class indices, one class only.

    Example (``load_image_dataset`` calls it for ``"idx:DIR"``):

    >>> from keras_sparse_rect.data import load_image_dataset
    >>> data = load_image_dataset("idx:/data/mnist")  # doctest: +SKIP
    """
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
        try:
            arrays[role], names[role] = read_idx(paths[0]), f"file {paths[0]}"
        except FileNotFoundError as error:  # a dangling link, or removed since listed
            raise DatasetNotFoundError(f"idx:{directory}: {error}") from None
    return _from_arrays(f"idx:{directory}", arrays, names, num_classes)


_NPZ_ARRAYS = "x_train, y_train, x_test, y_test (optionally x_val, y_val)"


def read_npz(path):
    """Reads every array of a ``numpy.savez`` archive, checking each header first.

    Unlike ``numpy.load``, each array's header is compared with the bytes its
    archive member holds before any memory is set aside, so a corrupt or
    hostile header (say, one promising 10**13 elements) is refused in a
    moment instead of raising ``MemoryError``.

    Args:
        path: the ``.npz`` file.

    Returns:
        A dict: array name (without ``.npy``) -> numpy array.

    Raises:
        ValueError: naming the file (and the array): not a zip archive (or a
            single ``.npy``), an array whose header promises more data than its
            member holds, an object array, or a corrupt member.
        FileNotFoundError: no such file.

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from keras_sparse_rect.data.user_files import read_npz
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.npz")
    >>> np.savez(path, y=np.arange(3))
    >>> read_npz(path)["y"].tolist()
    [0, 1, 2]
    """
    path = file_path(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            npy = f.read(6) == b"\x93NUMPY"
        what = "a single .npy array" if npy else "not a zip archive"
        raise ValueError(
            f"{path}: not a readable .npz file: it is {what}, and an .npz is a zip archive "
            f"of arrays {_NPZ_ARRAYS}, as numpy.savez writes it."
        )
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".npy"):
                    key = info.filename.removesuffix(".npy")
                    arrays[key] = _read_member(archive, info, f"{path}: array {key}")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as error:
        message = str(error)
        raise ValueError(
            message if message.startswith(path) else f"{path}: not a readable .npz file: {error}"
        ) from None
    return arrays


def _read_member(archive, info, what):
    """One ``.npy`` member of ``archive``, its header's promise checked first."""
    fmt = np.lib.format
    with archive.open(info) as f:
        version = fmt.read_magic(f)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read_header(f)
        promised = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        held = info.file_size - f.tell()
    if dtype.hasobject:
        raise ValueError(f"{what} holds Python objects ({dtype}); images and labels are numbers.")
    if promised > held:
        raise ValueError(
            f"{what}: its header promises {promised} bytes ({shape}, {dtype}) but the archive "
            f"holds {held}: the file is truncated or corrupt."
        )
    with archive.open(info) as f:
        try:
            return fmt.read_array(f, allow_pickle=False)
        except MemoryError:
            raise ValueError(
                f"{what}: {promised} bytes ({shape}, {dtype}) do not fit in memory."
            ) from None


def load_npz(path, num_classes=None):
    """The ``npz:FILE`` source: arrays x_train, y_train, x_test, y_test [, x_val, y_val].

    Images may be ``(n, h, w)`` or ``(n, h, w, c)``, uint8 (scaled to [0, 1])
    or any numbers; labels integer class indices. Without ``x_val``/``y_val``,
    the last sixth of the training examples validate.

    Args:
        path: the ``.npz`` file (as ``numpy.savez`` writes it).
        num_classes: labels may be any of ``0..num_classes-1`` (int >= 2);
            without it, the k distinct labels must be ``0..k-1``.

    Returns:
        ``(x_train, y_train, x_val, y_val, x_test, y_test, num_classes)``.

    Raises:
        DatasetNotFoundError: no such file, or a folder.
        ValueError: naming the file and the array: see :func:`read_npz`, plus
            missing arrays, images that are not finite numbers or differ in
            shape between splits, labels that are not class indices, one
            class only, an empty split.

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from keras_sparse_rect.data import load_image_dataset
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.npz")
    >>> np.savez(path, x_train=np.zeros((12, 4, 4), "uint8"), y_train=np.arange(12) % 2,
    ...          x_test=np.zeros((2, 4, 4), "uint8"), y_test=np.arange(2))
    >>> data = load_image_dataset(f"npz:{path}")
    >>> len(data.x_train), len(data.x_val), data.input_shape, data.num_classes
    (10, 2, (4, 4, 1), 2)
    """
    advice = f"give a .npz with arrays {_NPZ_ARRAYS}, e.g. written by numpy.savez"
    if os.path.isdir(path):
        raise DatasetNotFoundError(f"npz:{path}: is a folder, not a file; {advice}")
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f"npz:{path}: no such file; {advice}")
    arrays = read_npz(path)
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
        num_classes = check_int("num_classes", num_classes, 2)
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
    trained = np.unique(arrays["y_train"])
    if len(trained) == 1 and len(arrays["y_train"]) > 1:  # one example: too few, said later
        raise ValueError(
            f"{source}: {names['y_train']} holds one class only (label {trained[0]}); a "
            "classifier needs training examples of at least 2 classes."
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
        x, y, x_val, y_val = hold_out_last(x, y, max(1, len(x) // 6), source)
    return (
        to_float_images(x),
        y.astype(np.int32),
        to_float_images(x_val),
        y_val.astype(np.int32),
        to_float_images(arrays["x_test"]),
        arrays["y_test"].astype(np.int32),
        num_classes,
    )
