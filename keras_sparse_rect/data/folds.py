"""k-fold cross-validation splits (section 4.2: "10-fold cross-validation")."""

import numpy as np

from keras_sparse_rect._validation import check_int


def kfold_splits(num_examples, num_folds=10, seed=0):
    """Shuffled k-fold splits: ``[(train_indices, test_indices), ...]``, one per fold.

    The examples are shuffled once (with ``seed``) and cut into ``num_folds``
    folds whose sizes differ by at most one. The test folds are disjoint and
    together cover every example once; each training set is the other folds.

    Args:
        num_examples: number of examples, >= ``num_folds``.
        num_folds: number of folds, >= 2 (the paper: 10).
        seed: int seed of the shuffle.

    Example:

    >>> from keras_sparse_rect.data import kfold_splits
    >>> [(len(tr), len(te)) for tr, te in kfold_splits(10, 3)]
    [(6, 4), (7, 3), (7, 3)]
    """
    check_int("num_examples", num_examples, 1)
    check_int("num_folds", num_folds, 2)
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
