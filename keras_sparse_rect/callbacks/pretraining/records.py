"""What pretraining records per layer: history entries and TensorBoard scalars.

Each pretrained hidden layer ``k`` gets ``pretrain/layer_<k>/<name>`` entries
(written by :func:`keras_sparse_rect.callbacks.history.pretraining_key`):
``reconstruction`` and ``loss`` per epoch, ``dead_fraction`` (section 3.1),
``learning_rate``, and ``selection/<rate>`` and ``rejected/<rate>`` when the
rate is selected (section 4.1).

>>> logs = layer_logs(2, {"reconstruction": [3.0, 2.0], "loss": [3.5, 2.4]}, 0.0, 0.001)
>>> sorted(logs)[:2]
['pretrain/layer_2/dead_fraction', 'pretrain/layer_2/learning_rate']
"""

import os

from keras_sparse_rect.callbacks.history import pretraining_key
from keras_sparse_rect.callbacks.pretraining.checkpoint import make_directory, remove_empty


def layer_logs(layer, fit_history, dead, learning_rate, selection=None, rejected=None):
    """The history entries of one pretrained layer: ``{key: [values]}``.

    Args:
        layer: 1-based number of the hidden layer.
        fit_history: the autoencoder's ``fit`` history (``reconstruction``, ``loss``).
        dead: the fraction of its units that are dead.
        learning_rate: the rate it was trained with.
        selection: ``{candidate rate: trial cost}``, if the rate was selected.
        rejected: ``{rate: dead fraction}`` of full trainings that were not kept.
    """
    logs = {
        pretraining_key(layer, key): [float(v) for v in fit_history[key]]
        for key in ("reconstruction", "loss")
    }
    logs[pretraining_key(layer, "dead_fraction")] = [dead]
    logs[pretraining_key(layer, "learning_rate")] = [float(learning_rate)]
    for rate, cost in (selection or {}).items():
        logs[pretraining_key(layer, f"selection/{rate:g}")] = [cost]
    for rate, fraction in (rejected or {}).items():
        logs[pretraining_key(layer, f"rejected/{rate:g}")] = [fraction]
    return logs


class TensorBoardWriter:
    """Writes history entries as TensorBoard scalars (step = epoch) in ``<log_dir>/pretrain``.

    It remembers the event files and folders it made, so that a pretraining
    that fails can leave nothing behind (:meth:`discard`).
    """

    def __init__(self, log_dir):
        self.directory = os.path.join(log_dir, "pretrain")
        self.made_folders = []
        self.written = []

    def write(self, logs):
        import tensorflow as tf  # TensorBoard summaries (tensorflow is a dependency)

        if not os.path.isdir(self.directory):
            self.made_folders += make_directory("log_dir", self.directory)
        before = set(os.listdir(self.directory))
        writer = tf.summary.create_file_writer(self.directory)
        with writer.as_default():
            for tag, values in logs.items():
                for epoch, value in enumerate(values):
                    tf.summary.scalar(tag, value, step=epoch)
        writer.flush()
        writer.close()
        self.written += [
            os.path.join(self.directory, name)
            for name in sorted(set(os.listdir(self.directory)) - before)
        ]

    def discard(self):
        """Removes the event files written and the folders made by this writer."""
        for path in self.written:
            try:
                os.remove(path)
            except OSError:
                pass
        self.written = []
        remove_empty(self.made_folders)
        self.made_folders = []
