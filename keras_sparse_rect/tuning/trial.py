"""What every trial shares: the validation error, its metrics, the divergence checks.

``ValidationError`` is :class:`keras_sparse_rect.callbacks.ValidationError`
(section 4.1's criterion), importable from here as before.
"""

import math

import keras
import keras_tuner
import numpy as np

from keras_sparse_rect.callbacks import ValidationError
from keras_sparse_rect.callbacks.history import pretraining_key
from keras_sparse_rect.tuning.space import format_rates

__all__ = [
    "RECONSTRUCTION",
    "ValidationError",
    "reconstruction_key",
    "trial_callbacks",
    "trial_metrics",
]


def reconstruction_key(layer):
    """The pretraining log of hidden layer ``layer``'s reconstruction cost (1-based).

    >>> reconstruction_key(2)
    'pretrain/layer_2/reconstruction'
    """
    return pretraining_key(layer, "reconstruction")


#: The trial metric of the top hidden layer's reconstruction cost (stage ``"pretrain"``).
RECONSTRUCTION = "pretrain/reconstruction"


def trial_callbacks(pretraining=None, extra=None):
    """``[pretraining, ValidationError, TerminateOnNaN, *extra]`` for a trial's ``fit``."""
    callbacks = [ValidationError(), keras.callbacks.TerminateOnNaN(), *(extra or [])]
    return ([pretraining] if pretraining is not None else []) + callbacks


def trial_metrics(logs, objective, pretrain_history=None, layers=(), rates=None):
    """A trial's metrics for KerasTuner; raises ``FailedTrialError`` if a stage diverged.

    Args:
        logs: ``fit``'s history (``{metric: [per epoch]}``).
        objective: the objective's metric name; the metrics are those of the
            epoch that is best by it (the last epoch when ``logs`` lacks it).
        pretrain_history: the pretraining logs (``{key: [per epoch]}``), or ``None``.
        layers: the 1-based numbers of the hidden layers that were pretrained.
        rates: ``{"pretrain_learning_rate": ..., "learning_rate": ...}`` named in
            the advice of a diverged trial.

    Returns:
        ``{metric: value}``: ``fit``'s metrics at the best epoch, plus
        ``pretrain/layer_<k>/reconstruction`` (its last epoch) for each layer in
        ``layers`` and ``pretrain/reconstruction`` (the top layer's).
    """
    rates = rates or {}
    pretrain = {}
    for layer in sorted(layers):
        key = reconstruction_key(layer)
        if pretrain_history and pretrain_history.get(key):
            pretrain[key] = float(pretrain_history[key][-1])
    if pretrain:  # the top layer's: the last one pretrained
        pretrain[RECONSTRUCTION] = list(pretrain.values())[-1]
    for key, value in pretrain.items():
        if not math.isfinite(value):
            raise keras_tuner.errors.FailedTrialError(
                f"pretraining diverged: {key} is {value}; lower pretrain_learning_rate "
                f"(it is {format_rates(rates.get('pretrain_learning_rate'))})."
            )
    losses = [float(v) for v in logs.get("loss", [])]
    if not losses or not all(math.isfinite(v) for v in losses):
        raise keras_tuner.errors.FailedTrialError(
            f"fine-tuning diverged: loss {losses[-1] if losses else 'missing'}; lower "
            f"learning_rate (it is {format_rates(rates.get('learning_rate'))})."
        )
    epochs = len(losses)
    best = int(np.argmin(logs[objective])) if objective in logs else epochs - 1
    metrics = {
        key: float(series[best])
        for key, series in logs.items()
        if not key.startswith("pretrain/") and len(series) == epochs
    }
    metrics.update(pretrain)
    return metrics
