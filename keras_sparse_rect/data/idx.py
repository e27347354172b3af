"""Reader for IDX files, the format of the original MNIST distribution.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order,
big-endian. ``.gz`` files (as MNIST is distributed) are read as they are.
"""

import gzip
import math
import os

import numpy as np

from keras_sparse_rect.data._files import (
    check_at_end,
    file_path,
    open_binary,
    read_exactly,
    read_up_to,
)

# Type code (third magic byte) -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Reads an IDX file (gzipped or not) into a numpy array of native byte order.

    The header's promise is checked against the file's size before any memory
    is set aside for the data (a gzipped file is read in chunks), so a corrupt
    header cannot ask for more memory than the file holds.

    Args:
        path: the file (``str`` or ``os.PathLike``), e.g.
            ``train-images-idx3-ubyte.gz``.

    Returns:
        A numpy array of the header's shape and type, in native byte order.

    Raises:
        ValueError: naming the file: ``path`` is not a path or is a folder,
            the magic number is wrong, the file is shorter than its header
            promises (truncated: the message gives the bytes promised and the
            bytes found) or longer, or its gzip stream is corrupt.
        FileNotFoundError: no such file.

    Example:

    >>> import os, tempfile
    >>> from keras_sparse_rect.data import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> with open(path, "wb") as f:  # 3 uint8 labels: magic 0 0 8 1, size 3, values
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path).tolist()
    [7, 2, 1]
    """
    path = file_path(path)
    with open_binary(path) as f:
        magic = read_exactly(f, 4, path, "the magic number")
        zero, type_code, ndim = magic[:2], magic[2], magic[3]
        if zero != b"\x00\x00" or type_code not in IDX_DTYPES:
            raise ValueError(
                f"{path}: not an IDX file: magic number {magic.hex()} should be "
                "0000 followed by a type code (08, 09, 0b, 0c, 0d or 0e) and the "
                "number of dimensions."
            )
        if ndim == 0:
            raise ValueError(f"{path}: IDX header declares 0 dimensions.")
        dims = read_exactly(f, 4 * ndim, path, f"the {ndim} dimension sizes")
        shape = tuple(int(d) for d in np.frombuffer(dims, ">u4"))
        dtype = IDX_DTYPES[type_code]
        promised = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        what = f"data of shape {shape} ({dtype.newbyteorder('=').name})"
        header = 4 + 4 * ndim
        if isinstance(f, gzip.GzipFile):  # the size is known only once read
            data = read_up_to(f, promised, path, what)
            held = len(data)
        else:
            held = max(0, os.fstat(f.fileno()).st_size - header)
        if held < promised:
            raise ValueError(
                f"{path}: truncated file: its header promises {_bytes(promised)} of {what}, "
                f"found {_bytes(held)} after the {header}-byte header."
            )
        if not isinstance(f, gzip.GzipFile):
            data = read_exactly(f, promised, path, what)
        check_at_end(f, path)
    return np.frombuffer(data, dtype).astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def _bytes(n):
    """``n`` bytes, with a rounded size beside it from a megabyte on (``5 bytes``, ...)."""
    if n < 10**6:
        return f"{n} bytes"
    if n >= 10**18:
        return f"{n} bytes ({n:.3g})"
    for unit, size in (("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if n >= size:
            return f"{n} bytes ({n / size:.3g} {unit})"
    raise AssertionError(n)  # unreachable
