"""The Keras side of a run folder: a backup that is never half-written, and the progress record.

:class:`RunBackup` is ``keras.callbacks.BackupAndRestore`` with two guarantees
that a run killed at any moment (or stopped by a full disk) needs: the weights
of an epoch are written to a temporary file and renamed, and the epoch count
(``training_metadata.json``) names the weights file it belongs to and is written
after it. A backup whose weights are missing is never trusted: training starts
at the first epoch instead of resuming at a later epoch on weights that were
never fine-tuned. :class:`RunProgress` records each epoch's logs and the wall
time in the :class:`~keras_sparse_rect.experiments.run_folder.RunFolder`.

Example:

>>> import tempfile
>>> backup = RunBackup(tempfile.mkdtemp())
>>> backup.delete_checkpoint
False
"""

import contextlib
import os
import uuid
import warnings

import keras
import numpy as np

from keras_sparse_rect import results

_LEGACY_WEIGHTS = "latest.weights.h5"


class RunBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose backup is complete or absent, never half-written.

    Each epoch's weights go to ``epoch_<n>.weights.h5`` (temporary name, then
    rename); ``training_metadata.json``, written atomically after them, holds
    the epoch and that file's name. Restoring reads the metadata first and
    loads the weights it names; metadata without its weights (a kill while the
    backup was deleted, a folder copied in part) is set aside with a warning
    and training starts at the first epoch. The backup is kept when training
    ends: :meth:`RunFolder.finish` removes it once the results are written.

    With ``early_stopping``, the backup also holds that callback's state (the
    best value, its epoch, the epochs waited) and, with
    ``restore_best_weights``, the best epoch's weights, in the same commit, so
    that a resumed run stops where the uninterrupted one would have and keeps
    the best weights of the epochs before the kill too.
    The backup then drives the callback itself: pass it here, not to ``fit``.

    Args:
        backup_dir: the folder of the backup.
        early_stopping: a ``keras.callbacks.EarlyStopping``, or ``None``.

    Paper: section 4.1's runs train for hundreds of epochs; they resume.
    """

    def __init__(self, backup_dir, early_stopping=None):
        super().__init__(backup_dir, delete_checkpoint=False)
        if early_stopping is not None and not isinstance(
            early_stopping, keras.callbacks.EarlyStopping
        ):
            raise ValueError(
                "`early_stopping` must be a keras.callbacks.EarlyStopping or None; "
                f"got {early_stopping!r}"
            )
        self.early_stopping = early_stopping

    def set_model(self, model):
        super().set_model(model)
        if self.early_stopping is not None:
            self.early_stopping.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        if self.early_stopping is not None:
            self.early_stopping.set_params(params)

    def on_train_begin(self, logs=None):
        if self.early_stopping is not None:
            self.early_stopping.on_train_begin(logs)  # reset first: the restore fills it
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.early_stopping is not None:
            self.early_stopping.on_epoch_end(epoch, logs)  # its state of this epoch is saved
        super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.early_stopping is not None:
            self.early_stopping.on_train_end(logs)  # the best weights, the killed epochs' too

    def _load_model(self):
        """Restores the weights and epoch the metadata names; nothing without its weights."""
        if not self.model.built:
            return super()._load_model()  # Keras' own error for an unbuilt model
        metadata = results.read_json(self._training_metadata_path)
        if not isinstance(metadata, dict) or not isinstance(metadata.get("epoch"), int):
            return None  # nothing to resume: weights alone say nothing of the epoch
        weights = os.path.join(self.backup_dir, str(metadata.get("weights", _LEGACY_WEIGHTS)))
        if not os.path.isfile(weights):
            warnings.warn(
                f"{self.backup_dir} holds a backup of epoch {metadata['epoch']} without its "
                "weights; it is not used: training starts at the first epoch.",
                stacklevel=2,
            )
            os.remove(self._training_metadata_path)
            return None
        stopping = metadata.get("early_stopping") if self.early_stopping is not None else None
        best = (stopping or {}).get("weights")
        best = os.path.join(self.backup_dir, best) if best else None
        if best is not None and not os.path.isfile(best):
            warnings.warn(
                f"{self.backup_dir} holds a backup of epoch {metadata['epoch']} without its "
                "best epoch's weights; it is not used: training starts at the first epoch.",
                stacklevel=2,
            )
            os.remove(self._training_metadata_path)
            return None
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(weights)
        self.model._initial_epoch = metadata["epoch"]
        if best is not None:
            with np.load(best, allow_pickle=False) as arrays:
                self.early_stopping.best_weights = [arrays[f"arr_{i}"] for i in range(len(arrays))]
        if stopping is not None:
            self.early_stopping.best = stopping["best"]
            self.early_stopping.best_epoch = stopping["best_epoch"]
            self.early_stopping.wait = stopping["wait"]
        return None

    def _save_model(self):
        """Writes this epoch's weights (renamed into place), then the epoch count naming them."""
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"epoch_{self._current_epoch}.weights.h5"
        path = os.path.join(self.backup_dir, name)
        tmp = os.path.join(self.backup_dir, f".{uuid.uuid4().hex[:8]}.{name}")
        try:
            self.model.save_weights(tmp, overwrite=True)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": name}
        keep = {name}
        stopping = self.early_stopping
        if stopping is not None and stopping.best is not None:
            best = None  # restore_best_weights=False: the state alone
            if stopping.best_weights is not None:
                best = f"best_epoch_{stopping.best_epoch}.npz"
                improved = stopping.best_epoch == self._current_epoch - 1
                if improved or not os.path.isfile(os.path.join(self.backup_dir, best)):
                    with results.atomic_path(os.path.join(self.backup_dir, best)) as tmp:
                        np.savez(tmp, *stopping.best_weights)
                keep.add(best)
            metadata["early_stopping"] = {
                "best": float(stopping.best),
                "best_epoch": int(stopping.best_epoch),
                "wait": int(stopping.wait),
                "weights": best,
            }
        results.write_json_atomic(self._training_metadata_path, metadata)
        for entry in os.listdir(self.backup_dir):  # the epochs before: no longer needed
            stale = entry.endswith(".weights.h5") or (
                entry.startswith("best_epoch_") and entry.endswith(".npz")
            )
            if stale and entry not in keep and not entry.startswith("."):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(self.backup_dir, entry))


class RunProgress(keras.callbacks.Callback):
    """Records each epoch's logs and the wall time in a run folder (``progress.json``).

    Keras' ``History`` forgets the epochs of a killed process; this keeps
    them, and how long every process ran. Place it before the backup, so that
    a kill between the two trains the last epoch again rather than losing its
    logs.

    Args:
        folder: a claimed :class:`~keras_sparse_rect.experiments.run_folder.RunFolder`.
    """

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def on_epoch_end(self, epoch, logs=None):
        self.folder.record(epoch, logs)
