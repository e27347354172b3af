"""The NORB binary-matrix reader and the jittered-cluttered loader, on small files."""

import numpy as np
import pytest

from keras_sparse_rect.data import DatasetNotFoundError, load_image_dataset, read_norb_matrix
from keras_sparse_rect.data.norb import area_matrix, subsample_stereo
from tests.data.file_formats import norb_bytes, write


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 2 * 6 * 6, dtype=np.uint8).reshape(2, 2, 6, 6),
        np.array([0, 5, 3], np.int32),  # one dimension: the header still stores 3
        np.arange(12, dtype=np.int32).reshape(3, 4),
        np.linspace(-1, 1, 6).astype(np.float32),
        np.linspace(-1, 1, 6),
    ],
)
def test_round_trip(tmp_path, array, gzipped):
    path = write(tmp_path / "m.mat", norb_bytes(array), gzipped)
    result = read_norb_matrix(path)
    assert result.dtype == array.dtype and result.shape == array.shape
    np.testing.assert_array_equal(result, array)


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncated(tmp_path, gzipped):
    path = write(tmp_path / "cut.mat", norb_bytes(np.zeros((3, 2, 8, 8), np.uint8))[:-5], gzipped)
    with pytest.raises(ValueError, match=r"cut\.mat.*truncated.*384 bytes.*found 379"):
        read_norb_matrix(path)


def test_wrong_magic(tmp_path):
    data = bytearray(norb_bytes(np.zeros(4, np.int32)))
    data[0] ^= 0xFF
    with pytest.raises(ValueError, match=r"magic\.mat: not a NORB binary matrix"):
        read_norb_matrix(write(tmp_path / "magic.mat", bytes(data)))


def test_area_matrix_averages():
    a = area_matrix(108, 32)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(a.sum(axis=0), 32 / 108, rtol=1e-6)  # each pixel counts once
    np.testing.assert_allclose(area_matrix(96, 32)[0, :4], [1 / 3, 1 / 3, 1 / 3, 0])


def test_subsample_stereo_scales_linearly_to_minus_one_one():
    pairs = np.zeros((3, 2, 108, 108), np.uint8)
    pairs[1] = 255
    pairs[2, 1] = 51  # right image only: channels stay apart
    out = subsample_stereo(pairs)
    assert out.shape == (3, 32, 32, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], -1.0)
    np.testing.assert_allclose(out[1], 1.0, atol=1e-6)
    np.testing.assert_allclose(out[2, ..., 0], -1.0)
    np.testing.assert_allclose(out[2, ..., 1], 51 / 127.5 - 1, atol=1e-6)


TRAIN = "norb-5x46789x9x18x6x2x108x108-training-{:02d}-{}.mat"
TEST = "norb-5x01235x9x18x6x2x108x108-testing-{:02d}-{}.mat"


def _write_part(folder, pattern, part, labels, instances, gzipped=False):
    """Images are constant, with a grey level that encodes the label."""
    n = len(labels)
    images = np.broadcast_to(
        (labels * 40 + 10).astype(np.uint8)[:, None, None, None], (n, 2, 108, 108)
    )
    info = np.zeros((n, 10), np.int32)
    info[:, 0] = instances
    suffix = ".gz" if gzipped else ""
    for kind, array in (("dat", images), ("cat", labels.astype(np.int32)), ("info", info)):
        write(folder / (pattern.format(part, kind) + suffix), norb_bytes(array), gzipped)


def _norb_folder(root):
    folder = root / "norb"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part in (1, 2):
        labels = np.repeat(np.arange(6), 10)  # class 5: background, no instance
        instances = np.where(labels == 5, -1, np.tile([4, 6, 7, 8, 9], 12))
        order = rng.permutation(len(labels))
        _write_part(folder, TRAIN, part, labels[order], instances[order], gzipped=part == 2)
    _write_part(folder, TEST, 1, np.arange(6).repeat(3), np.zeros(18, np.int32))
    return folder


def test_norb_loader_splits_like_nair_and_hinton(tmp_path):
    _norb_folder(tmp_path)
    data = load_image_dataset("norb", data_dir=str(tmp_path))
    assert data.input_shape == (32, 32, 2) and data.num_classes == 6
    # Validation: instance 4 of each object class (2 per class per part), plus
    # a fifth of the 20 background images.
    assert np.bincount(data.y_val, minlength=6).tolist() == [4, 4, 4, 4, 4, 4]
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (96, 24, 18)
    for x, y in (
        (data.x_train, data.y_train),
        (data.x_val, data.y_val),
        (data.x_test, data.y_test),
    ):
        assert x.dtype == np.float32 and -1.0 <= x.min() and x.max() <= 1.0
        np.testing.assert_allclose(x[:, 0, 0, 0], (y * 40 + 10) / 127.5 - 1, atol=1e-5)


def test_norb_missing_files(tmp_path):
    with pytest.raises(
        DatasetNotFoundError, match=r"^norb: no jittered-cluttered NORB files.*cs\.nyu\.edu"
    ):
        load_image_dataset("norb", data_dir=str(tmp_path))
    folder = _norb_folder(tmp_path)
    (folder / TEST.format(1, "cat")).unlink()
    with pytest.raises(DatasetNotFoundError, match="has no matching cat file"):
        load_image_dataset("norb", data_dir=str(tmp_path))


def test_norb_truncated_images(tmp_path):
    folder = _norb_folder(tmp_path)
    path = folder / TRAIN.format(1, "dat")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"training-01-dat\.mat: truncated file"):
        load_image_dataset("norb", data_dir=str(tmp_path))


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_header_that_promises_too_many_images_fails_fast_naming_the_file(tmp_path, gzipped):
    """A corrupt count (2**30 pairs of 108 x 108) must not allocate what it promises."""
    import struct

    from keras_sparse_rect.data.norb import _read_stereo_subsampled

    pairs = norb_bytes(np.zeros((2, 2, 108, 108), np.uint8))
    corrupt = pairs[:8] + struct.pack("<i", 2**30) + pairs[12:]
    path = write(tmp_path / "huge-dat.mat", corrupt, gzipped)
    pattern = (
        r"huge-dat\.mat: truncated file: its header declares 1073741824 stereo pairs"
        if not gzipped
        else r"huge-dat\.mat: truncated file: expected"
    )
    with pytest.raises(ValueError, match=pattern):
        _read_stereo_subsampled(path, 32)
    with pytest.raises(ValueError, match=r"huge-dat\.mat: truncated file"):
        read_norb_matrix(path)


def test_norb_label_count_mismatch(tmp_path):
    folder = _norb_folder(tmp_path)
    write(folder / TEST.format(1, "cat"), norb_bytes(np.zeros(5, np.int32)))
    with pytest.raises(ValueError, match=r"testing-01-cat\.mat: has 5 rows but .* has 18 images"):
        load_image_dataset("norb", data_dir=str(tmp_path))


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize(
    ("dims", "data"),
    [
        # 65535 * 65537 * 641 * 6700417 = 2**64 - 1: twice over, 1 mod 2**64 in int64.
        ((65535, 65537, 641, 6700417) * 2, b"\x07"),
        ((65535, 65537, 641, 6700417), b"\x07" * 4),  # -1 in int64
        ((2**21, 2**21, 2**22), b""),  # 0 in int64
    ],
)
def test_a_header_whose_size_overflows_int64_names_the_file(tmp_path, gzipped, dims, data):
    # Was a reshape error without the file, or "expected -1 bytes", or "longer than its header".
    import struct

    header = struct.pack("<Ii", 0x1E3D4C55, len(dims)) + struct.pack(f"<{len(dims)}i", *dims)
    path = write(tmp_path / "over-cat.mat", header + data, gzipped)
    with pytest.raises(ValueError, match=rf"{path}: truncated file"):
        read_norb_matrix(path)
