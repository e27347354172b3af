"""Data sets from user files, ``npz:FILE`` and ``idx:DIR``: every refusal names the file."""

import io
import os
import zipfile

import numpy as np
import pytest

from keras_sparse_rect.data import DatasetNotFoundError, load_image_dataset
from keras_sparse_rect.data.user_files import read_npz
from tests.data.file_formats import idx_bytes, write


def test_npz_source(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (12, 8, 8), dtype=np.uint8),
        "y_train": np.arange(12) % 3,
        "x_test": rng.random((4, 8, 8, 1)).astype(np.float32),
        "y_test": np.arange(4) % 3,
    }
    np.savez(tmp_path / "a.npz", **arrays)
    data = load_image_dataset(f"npz:{tmp_path / 'a.npz'}")
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (10, 2, 4)
    assert data.x_train.shape[1:] == (8, 8, 1) and data.x_train.max() <= 1.0
    assert data.x_test.shape[1:] == (8, 8, 1)
    assert data.num_classes == 3
    np.savez(tmp_path / "b.npz", **arrays, x_val=arrays["x_train"][:3], y_val=np.zeros(3, int))
    assert len(load_image_dataset(f"npz:{tmp_path / 'b.npz'}").x_train) == 12


def test_npz_refuses_pickles_and_corrupt_files(tmp_path):
    objects = np.array([{"a": 1}, None], dtype=object)
    np.savez(tmp_path / "p.npz", x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(ValueError, match=r"p\.npz: array x_train holds Python objects"):
        load_image_dataset(f"npz:{tmp_path / 'p.npz'}")
    (tmp_path / "c.npz").write_bytes(b"PK\x03\x04 this is not a zip file")
    with pytest.raises(ValueError, match=r"c\.npz: not a readable \.npz file"):
        load_image_dataset(f"npz:{tmp_path / 'c.npz'}")
    np.savez(tmp_path / "m.npz", x_train=np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"m\.npz: needs arrays x_train, y_train"):
        load_image_dataset(f"npz:{tmp_path / 'm.npz'}")
    with pytest.raises(DatasetNotFoundError, match="no such file"):
        load_image_dataset(f"npz:{tmp_path / 'absent.npz'}")


def _npz(path, **overrides):
    """A small valid npz data set (3 classes), with some arrays replaced."""
    arrays = {
        "x_train": np.zeros((12, 4, 4), np.float32),
        "y_train": np.arange(12) % 3,
        "x_test": np.zeros((3, 4, 4), np.float32),
        "y_test": np.arange(3),
        **overrides,
    }
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return f"npz:{path}"


def test_npz_that_is_not_a_zip_archive_says_so(tmp_path):
    (tmp_path / "t.npz").write_text("hello, this is text\n")
    with pytest.raises(ValueError, match=r"t\.npz: not a readable \.npz file: it is not a zip"):
        load_image_dataset(f"npz:{tmp_path / 't.npz'}")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"one\.npy: .*it is a single \.npy array"):
        load_image_dataset(f"npz:{tmp_path / 'one.npy'}")
    with pytest.raises(DatasetNotFoundError, match="is a folder"):
        load_image_dataset(f"npz:{tmp_path}")


def test_npz_string_images_name_the_file_the_array_and_its_dtype(tmp_path):
    name = _npz(tmp_path / "s.npz", x_test=np.full((3, 4, 4), "a"))
    with pytest.raises(ValueError, match=r"s\.npz: array x_test has dtype <U1; images must be"):
        load_image_dataset(name)


def test_npz_labels_must_be_0_to_k_minus_1_unless_num_classes_is_given(tmp_path):
    labels = np.arange(12) % 3
    labels[5] = 200000
    name = _npz(tmp_path / "l.npz", y_train=labels)
    with pytest.raises(
        ValueError,
        match=r"l\.npz: array y_train has label 200000 outside 0\.\.3: the 4 distinct labels "
        r"must be the class indices 0\.\.3; give num_classes=N",
    ):
        load_image_dataset(name)
    # Classes 0, 1 and 3 of 4 (none of class 2): allowed when asked for.
    gap = _npz(tmp_path / "g.npz", y_train=np.arange(12) % 2 * 3, y_test=np.array([0, 1, 3]))
    with pytest.raises(ValueError, match=r"g\.npz: array y_train has label 3 outside 0\.\.2"):
        load_image_dataset(gap)
    assert load_image_dataset(gap, num_classes=4).num_classes == 4
    with pytest.raises(ValueError, match=r"array y_train has label 3 .*\[0, 3\) \(num_classes\)"):
        load_image_dataset(gap, num_classes=3)
    with pytest.raises(ValueError, match="`num_classes` must be an int >= 2"):
        load_image_dataset(gap, num_classes=0)
    with pytest.raises(ValueError, match=r"array y_test has negative labels \(-1\)"):
        load_image_dataset(_npz(tmp_path / "n.npz", y_test=np.array([0, -1, 2])))


def test_npz_nan_or_inf_pixels_name_the_array_and_the_first_index(tmp_path):
    x = np.zeros((12, 4, 4), np.float32)
    x[7, 2, 1] = x[9, 0, 0] = np.nan
    with pytest.raises(
        ValueError,
        match=r"nan\.npz: array x_train holds 2 NaN or infinite values, the first \(nan\) at "
        r"index \(7, 2, 1\); images must be finite",
    ):
        load_image_dataset(_npz(tmp_path / "nan.npz", x_train=x))
    x_val = np.zeros((2, 4, 4))
    x_val[1, 3, 3] = -np.inf
    name = _npz(tmp_path / "inf.npz", x_val=x_val, y_val=np.array([0, 1]))
    with pytest.raises(
        ValueError,
        match=r"array x_val holds 1 NaN or infinite value, .*\(-inf\) at index \(1, 3, 3\)",
    ):
        load_image_dataset(name)


def test_npz_with_too_few_examples_to_split_names_the_file_and_count(tmp_path):
    name = _npz(tmp_path / "one.npz", x_train=np.zeros((1, 4, 4)), y_train=np.array([0]))
    with pytest.raises(
        ValueError,
        match=r"one\.npz: array x_train holds 1 example, too few for a training and a "
        r"validation split",
    ):
        load_image_dataset(name)
    empty = dict(x_train=np.zeros((0, 4, 4)), y_train=np.zeros(0, int))
    with_val = dict(x_val=np.zeros((2, 4, 4)), y_val=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"array x_train holds no training examples"):
        load_image_dataset(_npz(tmp_path / "e.npz", **empty, **with_val))


def test_npz_splits_of_other_image_shapes_or_an_empty_test_split_are_refused(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"three\.npz: test images are \(4, 4, 3\) \(array x_test\) but training images "
        r"are \(4, 4\) \(array x_train\)",
    ):
        load_image_dataset(_npz(tmp_path / "three.npz", x_test=np.zeros((3, 4, 4, 3))))
    with_val = dict(x_val=np.zeros((2, 5, 5)), y_val=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"validation images are \(5, 5\) \(array x_val\)"):
        load_image_dataset(_npz(tmp_path / "val.npz", **with_val))
    empty_test = dict(x_test=np.zeros((0, 4, 4)), y_test=np.zeros(0, int))
    with pytest.raises(ValueError, match=r"array x_test holds no test examples"):
        load_image_dataset(_npz(tmp_path / "notest.npz", **empty_test))


def _mnist_folder(folder, n_train=60, n_test=12, gz_train=True):
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    files = {}
    for prefix, n, gz in (("train", n_train, gz_train), ("t10k", n_test, False)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        suffix = ".gz" if gz else ""
        write(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), gz)
        write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), gz)
        files[prefix] = (images, labels)
    return files


def test_idx_source_splits_and_scales(tmp_path):
    files = _mnist_folder(tmp_path / "mnist")
    data = load_image_dataset(f"idx:{tmp_path / 'mnist'}")
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (50, 10, 12)
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    images, labels = files["train"]
    np.testing.assert_allclose(data.x_val[..., 0], images[50:] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_train, labels[:50])
    np.testing.assert_array_equal(data.y_test, files["t10k"][1])


def test_idx_source_missing_folder_or_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no such folder"):
        load_image_dataset(f"idx:{tmp_path / 'absent'}")
    _mnist_folder(tmp_path / "m")
    os.remove(tmp_path / "m" / "t10k-labels-idx1-ubyte")
    with pytest.raises(DatasetNotFoundError, match="no file for the test labels"):
        load_image_dataset(f"idx:{tmp_path / 'm'}")


def test_idx_source_truncated_file(tmp_path):
    _mnist_folder(tmp_path / "m", gz_train=False)
    path = tmp_path / "m" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: truncated"):
        load_image_dataset(f"idx:{tmp_path / 'm'}")


def test_idx_source_stray_label_names_the_file(tmp_path):
    _mnist_folder(tmp_path / "m", gz_train=False)
    labels = (np.arange(12) % 10).astype(np.uint8)
    labels[3] = 255
    write(tmp_path / "m" / "t10k-labels-idx1-ubyte", idx_bytes(labels))
    with pytest.raises(
        ValueError, match=r"file .*t10k-labels-idx1-ubyte has label 255 outside 0\.\.10"
    ):
        load_image_dataset(f"idx:{tmp_path / 'm'}")
    assert load_image_dataset(f"idx:{tmp_path / 'm'}", num_classes=256).num_classes == 256


# Issue 33: no traceback of another type from a user's files -----------------------------------


def test_idx_folder_whose_member_is_a_folder_names_it(tmp_path):
    # Was IsADirectoryError from open().
    _mnist_folder(tmp_path / "m", gz_train=False)
    member = tmp_path / "m" / "train-images-idx3-ubyte"
    member.unlink()
    member.mkdir()
    with pytest.raises(ValueError, match=rf"{member}: is a folder, not a file"):
        load_image_dataset(f"idx:{tmp_path / 'm'}")


def _one_class_idx(folder):
    _mnist_folder(folder, gz_train=False)
    for prefix, n in (("train", 60), ("t10k", 12)):
        write(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(np.zeros(n, np.uint8)))
    return f"idx:{folder}"


def _one_class_npz(path):
    return _npz(path.with_suffix(".npz"), y_train=np.zeros(12, int), y_test=np.zeros(3, int))


@pytest.mark.parametrize(
    ("make", "where"), [(_one_class_npz, "array y_train"), (_one_class_idx, "train-labels")]
)
@pytest.mark.parametrize("num_classes", [None, 2])
def test_a_file_with_one_class_only_is_refused(tmp_path, make, where, num_classes):
    # Was accepted (num_classes=1), and training failed later with a traceback.
    name = make(tmp_path / "one")
    options = {} if num_classes is None else {"num_classes": num_classes}
    with pytest.raises(ValueError, match=rf"{where}.* holds one class only \(label 0\)"):
        load_image_dataset(name, **options)


def _npz_with_header(path, shape, payload=b"\0" * 16):
    """An npz whose x_train header promises ``shape`` uint8 but holds ``payload``."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", header.getvalue() + payload)
        for key, value in (
            ("y_train", np.arange(4) % 2),
            ("x_test", np.zeros((2, 2))),
            ("y_test", np.arange(2)),
        ):
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())
    return path


@pytest.mark.parametrize("shape", [(10**13,), (10**6, 10**7), (4, 2**62, 2**62)])
def test_an_npz_header_promising_too_much_is_refused_before_allocating(tmp_path, shape):
    # Was MemoryError ("Unable to allocate 9.09 TiB").
    path = _npz_with_header(tmp_path / "huge.npz", shape)
    with pytest.raises(ValueError, match=rf"{path}: array x_train: its header promises"):
        load_image_dataset(f"npz:{path}")
    with pytest.raises(ValueError, match=r"truncated or corrupt"):
        read_npz(path)


def test_read_npz_reads_what_numpy_savez_writes(tmp_path):
    arrays = {"a": np.arange(6).reshape(2, 3), "b": np.array([1.5, -2.0], ">f8"), "c": np.zeros(0)}
    np.savez(tmp_path / "plain.npz", **arrays)
    np.savez_compressed(tmp_path / "packed.npz", **arrays)
    for name in ("plain.npz", "packed.npz"):
        read = read_npz(tmp_path / name)
        assert sorted(read) == ["a", "b", "c"]
        for key, value in arrays.items():
            np.testing.assert_array_equal(read[key], value)
            assert read[key].dtype == value.dtype


def test_idx_folder_with_a_dangling_link_names_it(tmp_path):
    # Was FileNotFoundError from open(), an OSError the registry does not promise.
    _mnist_folder(tmp_path / "m", gz_train=False)
    member = tmp_path / "m" / "t10k-labels-idx1-ubyte"
    member.unlink()
    member.symlink_to(tmp_path / "gone")
    with pytest.raises(
        DatasetNotFoundError, match=rf"idx:{tmp_path / 'm'}: {member}: no such file"
    ):
        load_image_dataset(f"idx:{tmp_path / 'm'}")
