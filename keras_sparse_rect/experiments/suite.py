"""Running many image experiments: one folder per run, finished runs reused.

Table 1 and Figure 3 are grids of :func:`run_image_experiment` calls. Each run
gets its own ``model_dir``; a run whose ``result.json`` already holds the same
configuration is loaded instead of trained again, so an interrupted grid resumes
where it stopped (and an interrupted run resumes through ``BackupAndRestore``).
"""

import json
import os

import numpy as np

from keras_sparse_rect.experiments.image import run_image_experiment


def run_or_load(config, data, strategy, verbose=1, restart=False):
    """The result of ``config``: loaded when already finished (``"reused": True``), else trained.

    ``restart`` trains afresh even when a finished result is there (see
    :func:`run_image_experiment`).
    """
    path = os.path.join(config.model_dir, "result.json")
    predictions = os.path.join(config.model_dir, "test_predictions.npy")
    if not restart and os.path.exists(path) and os.path.exists(predictions):
        try:
            with open(path, encoding="utf-8") as f:
                result = json.load(f)
            if result.get("config") == config.to_dict():
                predicted = np.load(predictions, allow_pickle=False)
                correct = predicted == np.asarray(data.y_test).ravel()
                return {**result, "test_correct": correct, "reused": True}
        except (OSError, ValueError):
            pass  # unreadable or stale: train again
    return run_image_experiment(
        config, data=data, strategy=strategy, verbose=verbose, restart=restart
    )


def public(result):
    """``result`` without the in-memory-only entries (for JSON files)."""
    return {k: v for k, v in result.items() if k not in ("test_correct", "reused")}
