"""The one splitter module: stratified splits, nested labeled subsets, k-fold folds."""

import numpy as np
import pytest

from keras_sparse_rect.data import kfold_splits
from keras_sparse_rect.data.folds import kfold_splits as kfold_splits_from_folds
from keras_sparse_rect.data.splits import SPLIT_SEED, labeled_subset, stratified_split


def _stratified_split_before(labels, fractions, seed=2011):
    """data/images.py's splitter as it was before data/splits.py (frozen copy)."""
    rng = np.random.default_rng(seed)
    parts = [[] for _ in fractions]
    cuts = np.cumsum(fractions)[:-1]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        bounds = np.round(cuts * len(members)).astype(int)
        for part, chunk in zip(parts, np.split(members, bounds), strict=True):
            part.append(chunk)
    return [rng.permutation(np.concatenate(part)) for part in parts]


def _labeled_subset_before(y, fraction, seed):
    """experiments/image.py's labeled_subset before data/splits.py (frozen copy)."""
    if fraction >= 1.0:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        count = max(1, int(round(fraction * members.size)))
        keep.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(keep))


# Stratified splits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fractions", "seed"),
    [((0.7, 0.1, 0.2), SPLIT_SEED), ((0.5, 0.5), SPLIT_SEED), ((0.5, 0.5), 7)],
)
def test_stratified_split_gives_the_same_indices_as_before(fractions, seed):
    labels = np.random.default_rng(0).integers(0, 10, 997)
    now = stratified_split(labels, fractions, seed)
    before = _stratified_split_before(labels, fractions, seed)
    for a, b in zip(now, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_stratified_split_is_deterministic_stratified_and_disjoint():
    labels = np.arange(1000) % 10
    first = stratified_split(labels, (0.7, 0.1, 0.2))
    second = stratified_split(labels, (0.7, 0.1, 0.2))
    for a, b, size in zip(first, second, (700, 100, 200), strict=True):
        np.testing.assert_array_equal(a, b)
        assert len(a) == size and np.bincount(labels[a]).tolist() == [size // 10] * 10
    np.testing.assert_array_equal(np.sort(np.concatenate(first)), np.arange(1000))
    assert len(set(labels[first[1][:20]].tolist())) > 3  # classes mixed, not sorted


@pytest.mark.parametrize(
    ("labels", "fractions", "name"),
    [
        (np.zeros((2, 2)), (0.5, 0.5), "labels"),
        (np.zeros(4), (0.5, 0.6), "fractions"),
        (np.zeros(4), (0.0, 1.0), "fractions"),
        (np.zeros(4), (), "fractions"),
        (np.zeros(4), (True,), "fractions"),
        (np.zeros(4), "ab", "fractions"),
    ],
)
def test_stratified_split_arguments(labels, fractions, name):
    with pytest.raises(ValueError, match=name):
        stratified_split(labels, fractions)


# Labeled subsets (Figure 3 right) --------------------------------------------------------------


def test_labeled_subset_keeps_every_example_at_fraction_one_as_before():
    labels = np.random.default_rng(1).integers(0, 10, 503)
    np.testing.assert_array_equal(labeled_subset(labels, 1.0, 3), np.arange(503))
    np.testing.assert_array_equal(
        labeled_subset(labels, 1.0, 3), _labeled_subset_before(labels, 1.0, 3)
    )


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_labeled_subsets_are_nested_stratified_and_at_least_one_per_class(seed):
    labels = np.repeat(np.arange(10), np.arange(100, 200, 10))  # unequal classes
    fractions = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    subsets = [labeled_subset(labels, f, seed) for f in fractions]
    for smaller, larger in zip(subsets, subsets[1:], strict=False):
        assert np.isin(smaller, larger).all()  # nested
    for fraction, subset in zip(fractions, subsets, strict=True):
        counts = np.bincount(labels[subset], minlength=10)
        sizes = np.bincount(labels)
        np.testing.assert_array_equal(counts, np.maximum(1, np.round(fraction * sizes)))
        assert np.all(np.diff(subset) > 0)  # sorted, no repeats
    again = labeled_subset(labels, 0.1, seed)
    np.testing.assert_array_equal(again, subsets[5])


def test_the_splitter_before_was_not_nested():
    # Why labeled_subset changed for fractions < 1: the old draw did not nest.
    labels = np.repeat(np.arange(10), 50)
    small = _labeled_subset_before(labels, 0.1, 0)
    large = _labeled_subset_before(labels, 0.5, 0)
    assert not np.isin(small, large).all()


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, True, "0.5", float("nan")])
def test_labeled_subset_arguments(fraction):
    with pytest.raises(ValueError, match="fraction"):
        labeled_subset(np.zeros(4), fraction, 0)


def test_labeled_subset_seed_is_checked():
    with pytest.raises(ValueError, match="seed"):
        labeled_subset(np.zeros(4), 0.5, -1)


# Cross-validation folds --------------------------------------------------------------------


def test_folds_import_from_their_old_module():
    assert kfold_splits_from_folds is kfold_splits


@pytest.mark.parametrize(("n", "k"), [(10, 3), (101, 10), (7, 7)])
def test_folds_are_disjoint_and_cover_the_data(n, k):
    splits = kfold_splits(n, k, seed=3)
    assert len(splits) == k
    tests = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))  # each example tested once
    for train, test in splits:
        assert not np.intersect1d(train, test).size
        np.testing.assert_array_equal(np.union1d(train, test), np.arange(n))
    sizes = [len(test) for _, test in splits]
    assert max(sizes) - min(sizes) <= 1
    again = kfold_splits(n, k, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again, strict=True))


@pytest.mark.parametrize(
    ("args", "name"), [((10, 1), "num_folds"), ((0, 2), "num_examples"), ((3, 4), "num_folds")]
)
def test_fold_arguments(args, name):
    with pytest.raises(ValueError, match=name):
        kfold_splits(*args)
