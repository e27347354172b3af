"""keras_sparse_rect._validation: the shared argument checks."""

import re

import pytest

from keras_sparse_rect._validation import (
    MAX_SEED,
    check_inside,
    check_int,
    check_int_sequence,
    check_seed,
)


@pytest.mark.parametrize("seed", [10**20, 2**32, -1, 1.5, True, "0"])
def test_check_seed_refuses_what_a_backend_cannot_hold(seed):
    with pytest.raises(ValueError, match=r"`seed` must be None or an int in \[0, 4294967295\]"):
        check_seed("seed", seed)


@pytest.mark.parametrize("seed", [None, 0, 7, MAX_SEED])
def test_check_seed_accepts(seed):
    assert check_seed("seed", seed) == seed


def test_a_huge_seed_in_the_api_names_seed():
    from keras_sparse_rect.models import build_deep_network

    with pytest.raises(ValueError, match="seed=99999999999999999999"):
        build_deep_network((4,), 2, hidden_units=(3,), seed=99999999999999999999)


def test_check_int_maximum():
    assert check_int("n", 3, 1, 3) == 3
    with pytest.raises(ValueError, match=r"`n` must be an int in \[1, 3\]; got n=4"):
        check_int("n", 4, 1, 3)


@pytest.mark.parametrize("path", ["../x", "/tmp/x", ".", "a/../../b", ""])
def test_check_inside_refuses_paths_that_leave_the_folder(path):
    with pytest.raises(ValueError, match="project_name"):
        check_inside("project_name", path, "directory")


def test_check_inside_accepts_a_subfolder():
    assert check_inside("project_name", "stage1/run", "directory") == "stage1/run"


@pytest.mark.parametrize(
    "values, shown", [([], "[]"), ((), "()"), (0, "0"), ([3, 0], "[3, 0]"), ("12", "'12'")]
)
def test_check_int_sequence_shows_what_the_caller_wrote(values, shown):
    with pytest.raises(ValueError, match=re.escape(f"got units={shown}.") + "$"):
        check_int_sequence("units", values)


def test_check_int_sequence_shows_an_iterator_as_a_list():
    with pytest.raises(ValueError, match=r"got units=\[2, -1\]\.$"):
        check_int_sequence("units", iter([2, -1]))
