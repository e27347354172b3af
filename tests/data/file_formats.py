"""Writers of small IDX and NORB files, written from the formats' specs.

Independent of the readers under test, so that a reader bug cannot hide behind
a writer that shares it.
"""

import gzip
import struct

import numpy as np

IDX_TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
NORB_MAGIC = {"f4": 0x1E3D4C51, "f8": 0x1E3D4C53, "i4": 0x1E3D4C54, "u1": 0x1E3D4C55}


def idx_bytes(array):
    array = np.asarray(array)
    code = IDX_TYPE_CODES[array.dtype.kind + str(array.dtype.itemsize)]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def norb_bytes(array):
    array = np.asarray(array)
    magic = NORB_MAGIC[array.dtype.kind + str(array.dtype.itemsize)]
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    header = struct.pack("<Ii", magic, array.ndim)
    header += b"".join(struct.pack("<i", d) for d in dims)
    return header + array.astype(array.dtype.newbyteorder("<")).tobytes()


def write(path, data, gzipped=False):
    opener = gzip.open if gzipped else open
    with opener(path, "wb") as f:
        f.write(data)
    return path
