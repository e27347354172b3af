"""Callbacks that watch a network in training: validation error, hidden representations."""

import math

import keras
import numpy as np

from keras_sparse_rect._validation import check_int
from keras_sparse_rect.api import register
from keras_sparse_rect.metrics import ActivationSparsity
from keras_sparse_rect.utils import hidden_activation_model


class _HiddenActivationCallback(keras.callbacks.Callback):
    """Runs ``data`` through the model's hidden layers at the end of each epoch."""

    def __init__(self, data, layer_names=None, batch_size=256, every=1):
        super().__init__()
        if data is None:
            raise ValueError("`data` must be an array or a dataset of inputs; got data=None.")
        self.data = data
        self.layer_names = layer_names
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.every = check_int("every", every, 1)
        self._probe = None
        self._names = None

    def _batches(self):
        """Yields lists of per-layer numpy activations, one list per batch."""
        if self._probe is None:
            self._probe, self._names = hidden_activation_model(self.model, self.layer_names)
        data = self.data
        if hasattr(data, "shape"):
            iterator = (
                data[i : i + self.batch_size] for i in range(0, data.shape[0], self.batch_size)
            )
        else:
            iterator = (b[0] if isinstance(b, (tuple, list)) else b for b in data)
        for batch in iterator:
            if hasattr(batch, "toarray"):
                batch = batch.toarray()
            outputs = self._probe(batch, training=False)
            if not isinstance(outputs, (list, tuple)):
                outputs = [outputs]
            yield [keras.ops.convert_to_numpy(h) for h in outputs]

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or (epoch + 1) % self.every:
            return
        logs.update(self.compute())


class DeadUnitMonitor(_HiddenActivationCallback):
    """Logs, per hidden layer, the units that never fired on ``data`` this epoch.

    A rectifier unit is *dead* when its output is exactly 0 for every example:
    it then gets no gradient (section 3.1, "Potential problems"). At the end of
    each epoch the callback runs ``data`` (e.g. the training inputs or a sample
    of them) through the hidden layers with the epoch's final weights and writes
    into the epoch's logs, so ``History`` and ``TensorBoard`` see them (place it
    before ``TensorBoard`` in the callback list):

    - ``dead_units/<layer>``: number of dead units of that layer;
    - ``dead_units``: the total over hidden layers.

    The indices of the dead units of the last epoch are in ``self.dead_units``
    (a dict from layer name to a numpy array). A unit counts as firing when its
    output is non-zero, so the negated units of a sign-flipped rectifier count.

    Args:
        data: inputs: an array, or a dataset of batches (``(x, y)`` uses x).
        layer_names: the hidden layers to watch; default: the input of every
            ``Dense`` layer but the first (see ``utils.hidden_tensors``).
        batch_size: rows per forward pass when ``data`` is an array.
        every: run every this many epochs.

    Example:

    >>> monitor = DeadUnitMonitor(x_train[:2000])  # doctest: +SKIP
    >>> model.fit(x_train, y_train, callbacks=[monitor])  # doctest: +SKIP
    """

    dead_units = None

    def compute(self):
        """Returns the log entries for the model's current weights."""
        fired = None
        for activations in self._batches():
            batch_fired = [np.any(h.reshape(-1, h.shape[-1]) != 0, axis=0) for h in activations]
            fired = (
                batch_fired
                if fired is None
                else [a | b for a, b in zip(fired, batch_fired, strict=True)]
            )
        if fired is None:
            raise ValueError("DeadUnitMonitor got an empty `data`.")
        self.dead_units = {
            name: np.flatnonzero(~f) for name, f in zip(self._names, fired, strict=True)
        }
        logs = {f"dead_units/{name}": int(idx.size) for name, idx in self.dead_units.items()}
        logs["dead_units"] = sum(logs.values())
        return logs


class SparsityMonitor(_HiddenActivationCallback):
    """Logs the :class:`ActivationSparsity` of the hidden layers on ``data`` each epoch.

    Sparsity is the fraction of hidden units whose output is exactly 0 (section
    3.1; section 4.1 measures 83.4% on MNIST, 72.0% on CIFAR10).

    Writes ``sparsity`` (the average over hidden layers) and
    ``sparsity/<layer>`` into the epoch's logs, so ``History`` and ``TensorBoard``
    see them (place it before ``TensorBoard``). Arguments as for
    :class:`DeadUnitMonitor`.

    Example:

    >>> model.fit(x, y, callbacks=[SparsityMonitor(x_val)])  # doctest: +SKIP
    """

    _metric = None

    def compute(self):
        """Returns the log entries for the model's current weights."""
        metric = None
        for activations in self._batches():
            if metric is None:
                metric = self._fresh_metric()
            metric.update_state(activations)
        if metric is None:
            raise ValueError("SparsityMonitor got an empty `data`.")
        return {key: float(value) for key, value in metric.result().items()}

    def _fresh_metric(self):
        """The callback's one metric, reset (its variables are made once, not every epoch)."""
        if self._metric is None:
            self._metric = ActivationSparsity(layer_names=self._names)
        else:
            self._metric.reset_state()
        return self._metric


@register
class ValidationError(keras.callbacks.Callback):
    """Adds ``val_error`` = 1 - ``val_accuracy`` to the epoch logs (section 4.1's criterion).

    The paper chooses hyper-parameters and the stopping epoch by validation
    error (section 4.1). Place this callback before any callback that reads
    ``val_error`` (``EarlyStopping``, ``ModelCheckpoint``, KerasTuner's own),
    so that they all see the same number. Epochs without ``val_accuracy``
    (no validation data, or no ``"accuracy"`` metric) are left untouched.

    ``self.error`` keeps the validation error of the last epoch as a float,
    and ``inf`` when that epoch had no ``val_accuracy`` or a non-finite
    training ``loss`` (a diverged run ranks last).

    Example:

    >>> callback = ValidationError()
    >>> logs = {"loss": 0.3, "val_accuracy": 0.75}
    >>> callback.on_epoch_end(0, logs)
    >>> logs["val_error"], callback.error
    (0.25, 0.25)
    >>> callback.on_epoch_end(1, {"loss": float("nan"), "val_accuracy": 0.1})
    >>> callback.error
    inf
    """

    error = math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        accuracy = logs.get("val_accuracy")
        if accuracy is not None:
            logs["val_error"] = 1.0 - float(accuracy)
        loss = logs.get("loss")
        finite = accuracy is not None and loss is not None and math.isfinite(loss)
        self.error = float(1.0 - accuracy) if finite else math.inf

    def get_config(self):
        return {}
