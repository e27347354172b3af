"""k-fold cross-validation splits (section 4.2); they live in :mod:`~keras_sparse_rect.data.splits`.

Kept so that ``from keras_sparse_rect.data.folds import kfold_splits`` still imports.
"""

from keras_sparse_rect.data.splits import kfold_splits

__all__ = ["kfold_splits"]
