"""Callbacks: monitors of the hidden representations (and, later, pretraining)."""

from keras_sparse_rect.callbacks.monitors import DeadUnitMonitor, SparsityMonitor

__all__ = ["DeadUnitMonitor", "SparsityMonitor"]
