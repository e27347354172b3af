"""Running many image experiments: one folder per run, finished runs reused.

Table 1 and Figure 3 are grids of :func:`run_image_experiment` calls. Each run
gets its own ``model_dir`` (a :class:`~keras_sparse_rect.experiments.run_folder.RunFolder`);
a run whose ``result.json`` already holds the same configuration is loaded
instead of trained again, so an interrupted grid resumes where it stopped (and
an interrupted run resumes from its last finished epoch). A run folder held by
another process stops the grid with
:class:`~keras_sparse_rect.experiments.run_folder.RunLockedError`.

Example (the runs of a two-seed grid, each in its own folder):

>>> runs = [(f"seed{seed}", {"seed": seed}) for seed in (0, 1)]
>>> for config, result in run_grid(base, runs, data, strategy):  # doctest: +SKIP
...     print(config.model_dir, result["test_error"])
"""

import dataclasses
import os

import numpy as np

from keras_sparse_rect.experiments.image import image_run_folder, run_image_experiment


def run_or_load(config, data, strategy, verbose=1, restart=False):
    """The result of ``config``: loaded when already finished (``"reused": True``), else trained.

    ``restart`` trains afresh even when a finished result is there (see
    :func:`run_image_experiment`).

    Raises:
        RunConflictError: the folder holds another configuration's run, or a
            folder where a run file belongs.
        RunLockedError: another process is running in the folder.
    """
    finished = None if restart else image_run_folder(config).finished()
    if finished is not None:
        try:
            predicted = np.load(
                os.path.join(config.model_dir, "test_predictions.npy"), allow_pickle=False
            )
        except (OSError, ValueError):
            pass  # unreadable: train again
        else:
            correct = predicted == np.asarray(data.y_test).ravel()
            return {**finished, "test_correct": correct, "reused": True}
    return run_image_experiment(
        config, data=data, strategy=strategy, verbose=verbose, restart=restart
    )


def run_grid(base_config, runs, data, strategy, verbose=1):
    """Runs (or reloads) each run of a grid, each in a subfolder of ``base_config.model_dir``.

    Args:
        base_config: an ``ImageExperimentConfig`` with the shared settings; its
            ``model_dir`` is the root of the grid.
        runs: ``(folder, changes)`` pairs: the run's subfolder name and the
            settings that differ from ``base_config`` (a dict of fields).
        data: the loaded data set every run uses.
        strategy: the distribution strategy every run uses.
        verbose: Keras verbosity of each run.

    Yields:
        ``(config, result)`` per run, in order (``result`` as :func:`run_or_load`).
    """
    for folder, changes in runs:
        config = dataclasses.replace(
            base_config, **changes, model_dir=os.path.join(base_config.model_dir, folder)
        )
        yield config, run_or_load(config, data, strategy, verbose=verbose)


def public(result):
    """``result`` without the in-memory-only entries (for JSON files)."""
    return {k: v for k, v in result.items() if k not in ("test_correct", "reused")}
