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

    Args:
        backup_dir: the folder of the backup.

    Paper: section 4.1's runs train for hundreds of epochs; they resume.
    """

    def __init__(self, backup_dir):
        super().__init__(backup_dir, delete_checkpoint=False)

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
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(weights)
        self.model._initial_epoch = metadata["epoch"]
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
        results.write_json_atomic(
            self._training_metadata_path,
            {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": name},
        )
        for entry in os.listdir(self.backup_dir):  # the epochs before: no longer needed
            if entry != name and entry.endswith(".weights.h5") and not entry.startswith("."):
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
