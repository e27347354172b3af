"""The IDX reader, on small files written here."""

import gzip
import struct

import numpy as np
import pytest

from keras_sparse_rect.data import read_idx
from tests.data.file_formats import idx_bytes, write


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_round_trip(tmp_path, dtype, gzipped):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(np.dtype(dtype).newbyteorder("="))
    path = write(tmp_path / "a.idx", idx_bytes(array), gzipped)
    result = read_idx(path)
    assert result.dtype == array.dtype and result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_labels_one_dimension(tmp_path):
    labels = np.array([7, 2, 1, 0], np.uint8)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "l", idx_bytes(labels))), labels)


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncated_file_names_file_and_sizes(tmp_path, gzipped):
    data = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    path = write(tmp_path / "cut.idx", data[:-10], gzipped)
    with pytest.raises(ValueError, match=r"cut\.idx.*truncated.*3920 bytes.*found 3910"):
        read_idx(path)


@pytest.mark.parametrize("gzipped", [False, True])
def test_header_promising_more_than_the_file_holds_is_refused_without_allocating(tmp_path, gzipped):
    # 16 bytes whose header promises 1000 x 1000 x 64000 bytes (64 GB): no MemoryError.
    header = bytes([0, 0, 0x08, 3]) + struct.pack(">III", 1000, 1000, 64000)
    path = write(tmp_path / "huge.idx", header, gzipped)
    with pytest.raises(
        ValueError,
        match=r"huge\.idx: truncated file: its header promises 64000000000 bytes \(64 GB\) "
        r"of data of shape \(1000, 1000, 64000\) \(uint8\), found 0 bytes after the 16-byte",
    ):
        read_idx(path)


def test_header_whose_size_overflows_int64_names_the_file(tmp_path):
    # 3 x (2**32 - 1) float64 values: more bytes than an int64 holds.
    header = bytes([0, 0, 0x0E, 3]) + struct.pack(">III", *[0xFFFFFFFF] * 3)
    path = write(tmp_path / "overflow.idx", header + b"\0" * 8)
    with pytest.raises(ValueError, match=r"overflow\.idx: truncated .*float64.*found 8 bytes"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = write(tmp_path / "head.idx", idx_bytes(np.zeros((5, 4), np.uint8))[:6])
    with pytest.raises(ValueError, match=r"head\.idx.*truncated.*dimension sizes"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    data = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    data[2] = 0x42
    with pytest.raises(ValueError, match=r"magic\.idx: not an IDX file: magic number 00004202"):
        read_idx(write(tmp_path / "magic.idx", bytes(data)))


def test_trailing_bytes(tmp_path):
    path = write(tmp_path / "long.idx", idx_bytes(np.zeros((2, 2), np.uint8)) + b"xx")
    with pytest.raises(ValueError, match=r"long\.idx.*longer than its header"):
        read_idx(path)


def test_corrupt_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.arange(4000, dtype=np.uint8).reshape(40, 100)))
    bad = good[:30] + bytes(b ^ 0xFF for b in good[30:60]) + good[60:]
    with pytest.raises(ValueError, match=r"bad\.gz"):
        read_idx(write(tmp_path / "bad.gz", bad))
