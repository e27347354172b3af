"""Every file reader checks its path first: not a path or a folder is a ValueError naming it."""

import functools

import pytest

from keras_sparse_rect.data import read_idx, read_norb_matrix, read_reviews
from keras_sparse_rect.data.mnist_store import read_mnist_store
from keras_sparse_rect.data.user_files import read_npz

READERS = {
    "read_idx": read_idx,
    "read_norb_matrix": read_norb_matrix,
    "read_npz": read_npz,
    "read_reviews": functools.partial(read_reviews, text_column="review", rating_column=None),
    "read_mnist_store": functools.partial(read_mnist_store, verify=False),
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("path", [3, 2.5, True, ["a.csv"]])
def test_a_path_that_is_not_a_path_is_a_value_error(reader, path):
    # read_idx(None) and friends raised TypeError from os.fspath.
    with pytest.raises(ValueError, match=r"`path` must be a file path"):
        READERS[reader](path)


@pytest.mark.parametrize("reader", ["read_idx", "read_norb_matrix", "read_npz", "read_reviews"])
def test_none_is_a_value_error(reader):
    with pytest.raises(ValueError, match=r"`path` must be a file path .*got path=None"):
        READERS[reader](None)


@pytest.mark.parametrize("reader", list(READERS))
def test_a_folder_is_a_value_error_naming_it(tmp_path, reader):
    # IsADirectoryError before.
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(ValueError, match=rf"{folder}: is a folder"):
        READERS[reader](folder)


@pytest.mark.parametrize("reader", ["read_idx", "read_norb_matrix", "read_npz"])
def test_a_missing_file_is_file_not_found_naming_it(tmp_path, reader):
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path / 'none.bin'}: no such file"):
        READERS[reader](tmp_path / "none.bin")
