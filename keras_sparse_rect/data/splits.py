"""The one place where examples are split: class-stratified splits, labeled subsets, folds.

Three splitters, all deterministic for a given seed:

- :func:`stratified_split` cuts a labeled set into parts (train / validation /
  test) that keep each class's share (section 4.1's splits of the MNIST subset
  and CIFAR-10);
- :func:`labeled_subset` keeps a fraction of each class's examples, at least one
  per class, for the semi-supervised runs of Figure 3 (right); the subsets of one
  seed are nested: each fraction contains every smaller one;
- :func:`hold_out_last` keeps the last examples of a training set for
  validation (section 4.1: MNIST's last 10,000 training digits);
- :func:`kfold_splits` cuts shuffled k-fold cross-validation folds (section 4.2:
  "10-fold cross-validation").

Example:

>>> import numpy as np
>>> from keras_sparse_rect.data.splits import labeled_subset, stratified_split
>>> labels = np.repeat(np.arange(3), 10)
>>> train, test = stratified_split(labels, (0.8, 0.2))
>>> np.bincount(labels[test]).tolist()
[2, 2, 2]
>>> small, large = labeled_subset(labels, 0.2, seed=0), labeled_subset(labels, 0.5, seed=0)
>>> bool(np.isin(small, large).all())
True
"""

import math

import numpy as np

from keras_sparse_rect._validation import check_fraction, check_int, check_seed

SPLIT_SEED = 2011
"""The fixed seed of the data sets' own splits: every user gets the same splits."""

__all__ = ["SPLIT_SEED", "hold_out_last", "kfold_splits", "labeled_subset", "stratified_split"]


def _labels(labels):
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"`labels` must be one-dimensional; got shape {labels.shape}.")
    return labels


def stratified_split(labels, fractions, seed=SPLIT_SEED):
    """Index arrays, one per fraction, that split each class in those proportions.

    Each class's examples are shuffled and cut at the rounded cumulative
    fractions, so every part keeps the class proportions of ``labels``. Each
    returned array lists its classes mixed, in a fixed random order, so that a
    prefix of a part is a fair sample. The parts are disjoint and cover every
    example once.

    Args:
        labels: one-dimensional array of class labels.
        fractions: the parts' shares, each > 0, summing to 1, e.g.
            ``(0.7, 0.1, 0.2)`` for train / validation / test.
        seed: int seed (default :data:`SPLIT_SEED`, the data sets' fixed one).

    Returns:
        A list of ``len(fractions)`` int arrays of indices into ``labels``.

    Raises:
        ValueError: ``labels`` not one-dimensional, a share not a positive
            number, shares that do not sum to 1, or a bad ``seed``.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data.splits import stratified_split
    >>> labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> [np.bincount(labels[part]).tolist() for part in stratified_split(labels, (0.5, 0.5))]
    [[2, 2], [2, 2]]
    """
    labels = _labels(labels)
    seed = check_seed("seed", seed)
    if isinstance(fractions, str) or np.ndim(fractions) != 1 or not len(fractions):
        raise ValueError(
            f"`fractions` must be a sequence of numbers in (0, 1]; got fractions={fractions!r}."
        )
    shares = tuple(check_fraction(f"fractions[{i}]", f) for i, f in enumerate(fractions))
    if not math.isclose(sum(shares), 1.0, abs_tol=1e-9):
        raise ValueError(f"`fractions` must sum to 1; got fractions={fractions!r}.")
    rng = np.random.default_rng(seed)
    parts = [[] for _ in shares]
    cuts = np.cumsum(shares)[:-1]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        bounds = np.round(cuts * len(members)).astype(int)
        for part, chunk in zip(parts, np.split(members, bounds), strict=True):
            part.append(chunk)
    # Mixed classes in a fixed random order: a prefix of a split is a fair sample.
    return [rng.permutation(np.concatenate(part)) for part in parts]


def labeled_subset(labels, fraction, seed=0):
    """Sorted indices of a class-stratified ``fraction`` of the examples (Figure 3 right).

    Each class keeps ``max(1, round(fraction * size))`` of its examples, so
    every class stays represented and the classes keep their proportions. For
    one ``seed`` the subsets are nested: each class's examples are put in one
    random order and the subset takes its first ones, so the subset of a
    larger fraction contains that of every smaller fraction (the paper's
    labeled sets grow by adding labels, section 4.1). ``fraction >= 1`` keeps
    every example.

    Args:
        labels: one-dimensional array of class labels.
        fraction: the share of each class to keep, in (0, 1].
        seed: int seed of the order (the run's seed).

    Returns:
        A sorted int array of indices into ``labels``.

    Raises:
        ValueError: ``labels`` not one-dimensional, ``fraction`` not a number
            in (0, 1], or a bad ``seed``.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data.splits import labeled_subset
    >>> labels = np.repeat([0, 1], 50)
    >>> kept = labeled_subset(labels, 0.1, seed=0)
    >>> np.bincount(labels[kept]).tolist()
    [5, 5]
    """
    labels = _labels(labels)
    seed = check_seed("seed", seed)
    fraction = check_fraction("fraction", fraction)
    if fraction == 1:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(labels):
        # One order per class, drawn whatever the fraction: prefixes nest.
        members = rng.permutation(np.flatnonzero(labels == label))
        keep.append(members[: max(1, int(round(fraction * members.size)))])
    return np.sort(np.concatenate(keep))


def hold_out_last(x, y, validation_size, source):
    """``(x_train, y_train, x_val, y_val)``: the last ``validation_size`` examples validate.

    Section 4.1's split of MNIST (the last 10,000 of the 60,000 training digits
    validate); the files read by ``idx:`` and ``npz:`` without a validation
    split hold out their last sixth the same way.

    Args:
        x, y: arrays with the same first dimension, at least 2.
        validation_size: examples to hold out, an int in ``[1, len(x) - 1]``.
        source: what the message names (a data set name or ``npz:FILE``).

    Raises:
        ValueError: ``validation_size`` not an int in ``[1, len(x) - 1]``; the
            message starts with ``source``.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.data.splits import hold_out_last
    >>> x_train, y_train, x_val, y_val = hold_out_last(np.arange(6), np.arange(6), 2, "demo")
    >>> x_train.tolist(), x_val.tolist()
    ([0, 1, 2, 3], [4, 5])
    """
    try:
        count = check_int("validation_size", validation_size, 1, len(x) - 1)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    return x[:-count], y[:-count], x[-count:], y[-count:]


def kfold_splits(num_examples, num_folds=10, seed=0):
    """Shuffled k-fold splits: ``[(train_indices, test_indices), ...]``, one per fold.

    The examples are shuffled once (with ``seed``) and cut into ``num_folds``
    folds whose sizes differ by at most one. The test folds are disjoint and
    together cover every example once; each training set is the other folds
    (section 4.2: "10-fold cross-validation").

    Args:
        num_examples: number of examples, >= ``num_folds``.
        num_folds: number of folds, >= 2 (the paper: 10).
        seed: int seed of the shuffle.

    Returns:
        A list of ``num_folds`` pairs of sorted int index arrays.

    Raises:
        ValueError: a count that is not an int, or more folds than examples.

    Example:

    >>> from keras_sparse_rect.data import kfold_splits
    >>> [(len(tr), len(te)) for tr, te in kfold_splits(10, 3)]
    [(6, 4), (7, 3), (7, 3)]
    """
    check_int("num_examples", num_examples, 1)
    check_int("num_folds", num_folds, 2)
    seed = check_seed("seed", seed)
    if num_folds > num_examples:
        raise ValueError(
            f"`num_folds`={num_folds} is more than the {num_examples} examples; "
            "each fold needs at least one."
        )
    order = np.random.default_rng(seed).permutation(int(num_examples))
    folds = np.array_split(order, int(num_folds))
    return [
        (np.sort(np.concatenate(folds[:k] + folds[k + 1 :])), np.sort(test))
        for k, test in enumerate(folds)
    ]
