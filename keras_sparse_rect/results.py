"""Writing results atomically, and describing the software that produced them.

Every results file (JSON, Markdown, CSV, PNG) is written to a temporary file in
the destination's folder and renamed over the destination when complete, so a
crash or a kill never leaves a half-written file behind.
"""

import contextlib
import json
import os
import platform
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside ``path``; renames it to ``path`` on success.

    Example:

    >>> with atomic_path("figure.png") as tmp:  # doctest: +SKIP
    ...     fig.savefig(tmp, format="png")
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        # mkstemp makes the file 0600; results get the usual mode (0666 less the umask).
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_temporary_files(folder, names):
    """Removes what :func:`atomic_path` leaves of ``names`` in ``folder`` after a kill."""
    if not os.path.isdir(folder):
        return []
    removed = []
    for entry in os.listdir(folder):
        if any(entry.startswith(f".{name}.") for name in names):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, entry))
                removed.append(entry)
    return removed


def write_text_atomic(path, text):
    """Writes ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    return path


def read_json(path):
    """The JSON value in ``path``, or ``None`` when it is missing or unreadable.

    >>> read_json("no/such/file.json") is None
    True
    """
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json_atomic(path, data):
    """Writes ``data`` as indented JSON to ``path`` atomically."""
    return write_text_atomic(
        path, json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n"
    )


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def environment():
    """Versions of the library, Keras, its backend and Python, for result files."""
    import keras

    import keras_sparse_rect

    backend = keras.backend.backend()
    info = {
        "keras_sparse_rect": keras_sparse_rect.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    with contextlib.suppress(ImportError):
        module = __import__({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend])
        info[f"{backend}_version"] = module.__version__
    return info
