"""Opening possibly gzipped binary files, with errors that name the file."""

import gzip
import zlib

_GZIP_MAGIC = b"\x1f\x8b"


def open_binary(path):
    """Opens ``path`` for reading bytes, through gzip when it is gzipped.

    Gzip is recognised by its magic bytes, not by the file name.
    """
    with open(path, "rb") as f:
        gzipped = f.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_exactly(f, n, path, what):
    """Reads ``n`` bytes of ``what`` from ``f``; a short or corrupt read raises."""
    try:
        data = f.read(n)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: corrupt file while reading {what}: {error}") from None
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
