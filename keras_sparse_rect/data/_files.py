"""Opening the files a reader is given, with errors that name the file.

Every reader of :mod:`keras_sparse_rect.data` checks its path here first
(:func:`file_path`), so that a missing argument, a folder or an unreadable file
is a ``ValueError`` naming the path (``FileNotFoundError`` for a missing file),
never a ``TypeError`` or ``IsADirectoryError`` from deep inside.
"""

import gzip
import os
import zlib

_GZIP_MAGIC = b"\x1f\x8b"


def path_argument(path, name="path"):
    """Returns ``path`` (``str``, ``bytes`` or ``os.PathLike``) as a non-empty string.

    Raises:
        ValueError: ``path`` is not a path (``None``, a number, ...) or is empty.
    """
    if isinstance(path, bool) or not isinstance(path, (str, bytes, os.PathLike)):
        raise ValueError(f"`{name}` must be a file path (str or os.PathLike); got {name}={path!r}.")
    path = os.fsdecode(os.fspath(path))
    if not path:
        raise ValueError(f"`{name}` must be a file path; got an empty {name}.")
    return path


def file_path(path, name="path", what="file"):
    """Returns ``path`` as a string naming an existing regular file.

    Args:
        path: a ``str`` or ``os.PathLike``.
        name: the argument as the caller names it in messages.
        what: what the file is, as messages name it ("review file", ...).

    Raises:
        ValueError: ``path`` is not a path (``None``, a number, ...), or names
            a folder or something else that is not a regular file.
        FileNotFoundError: nothing exists at ``path``.
    """
    path = path_argument(path, name)
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a folder, not a {what}; give the path of the {what} itself.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such {what}.")
    if not os.path.isfile(path):
        raise ValueError(f"{path}: is not a regular file (a device, a pipe or a socket).")
    return path


def open_binary(path):
    """Opens ``path`` for reading bytes, through gzip when it is gzipped.

    Gzip is recognised by its magic bytes, not by the file name. Check the path
    with :func:`file_path` first.
    """
    with open(path, "rb") as f:
        gzipped = f.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


# Reads larger than this go chunk by chunk: a header that promises more than the
# file holds costs the file's size in memory, not the promise's.
_CHUNK = 1 << 24


def read_up_to(f, n, path, what):
    """Reads at most ``n`` bytes of ``what`` from ``f`` (fewer at the end); corruption raises.

    Memory grows with what the file holds, not with ``n``.
    """
    try:
        if n <= _CHUNK:
            return f.read(n)
        data = bytearray()
        while len(data) < n:
            chunk = f.read(min(_CHUNK, n - len(data)))
            if not chunk:
                break
            data += chunk
        return data
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: corrupt file while reading {what}: {error}") from None


def read_exactly(f, n, path, what):
    """Reads ``n`` bytes of ``what`` from ``f``; a short or corrupt read raises."""
    data = read_up_to(f, n, path, what)
    if len(data) != n:
        raise ValueError(
            f"{path}: truncated file: expected {n} bytes of {what}, found {len(data)}."
        )
    return data


def check_at_end(f, path):
    """Raises if ``f`` has bytes left: the header and the size disagree."""
    try:
        extra = len(f.read(1 << 20))
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: corrupt file after its data: {error}") from None
    if extra:
        raise ValueError(
            f"{path}: the file is longer than its header says "
            f"(at least {extra} unexpected trailing bytes)."
        )
