"""Callbacks: monitors of the hidden representations (and, later, pretraining)."""

from keras_sparse_rect.callbacks.monitors import DeadUnitMonitor, SparsityMonitor
from keras_sparse_rect.callbacks.pretraining import (
    GreedyLayerwisePretraining,
    PretrainingCollapseError,
)

__all__ = [
    "DeadUnitMonitor",
    "GreedyLayerwisePretraining",
    "PretrainingCollapseError",
    "SparsityMonitor",
]
