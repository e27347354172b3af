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
