"""Callbacks: the validation error, monitors of the hidden representations, and pretraining."""

from keras_sparse_rect.callbacks.monitors import (
    DeadUnitMonitor,
    SparsityMonitor,
    ValidationError,
)
from keras_sparse_rect.callbacks.pretraining import (
    CollapsePolicy,
    GreedyLayerwisePretraining,
    PretrainingCollapseError,
    RateSelection,
)

__all__ = [
    "CollapsePolicy",
    "DeadUnitMonitor",
    "GreedyLayerwisePretraining",
    "PretrainingCollapseError",
    "RateSelection",
    "SparsityMonitor",
    "ValidationError",
]
