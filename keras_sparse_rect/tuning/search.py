"""Running a search: :func:`run_search`, which surfaces what KerasTuner only counts."""

import contextlib
import os

import keras

from keras_sparse_rect.tuning import _compat
from keras_sparse_rect.tuning.report import summarize
from keras_sparse_rect.utils import quiet_retracing


def run_search(tuner, *fit_args, tensorboard_dir=None, **fit_kwargs):
    """Runs ``tuner.search(*fit_args, **fit_kwargs)``; returns :func:`summarize`'s dict.

    KerasTuner prints a failed trial's traceback and goes on, and a search whose
    trials all fail returns normally (``docs/facts.md``); the summary counts
    them (``failed``, ``first_error``, ``all_failed``). A search that KerasTuner
    stops after ``MAX_CONSECUTIVE_FAILURES`` failed trials in a row returns
    too, with ``stopped_early`` saying so. KerasTuner's state files are written
    atomically meanwhile (:func:`_compat.atomic_state_files`).

    On the chief of a distributed search this serves the trials to the workers
    and returns about 20 s after the last one ends (KerasTuner polls every 20 s).

    Args:
        tuner: from ``make_tuner``.
        *fit_args, **fit_kwargs: for each trial's ``fit`` (data, ``epochs``,
            ``validation_data``, ``verbose``, ``callbacks``).
        tensorboard_dir: TensorBoard logs of every trial, with KerasTuner's
            HParams dashboard (TensorFlow backend only; ignored on others).

    Example:

    >>> summary = run_search(tuner, x, y, validation_data=(xv, yv), epochs=5)  # doctest: +SKIP
    >>> summary["completed"], summary["failed"], summary["best"]["score"]  # doctest: +SKIP
    """
    callbacks = list(fit_kwargs.pop("callbacks", None) or [])
    if tensorboard_dir is not None and keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(os.fspath(tensorboard_dir), write_graph=False))
    stopped = None
    try:
        distribution = getattr(tuner, "distribution", None)
        scope = distribution.scope() if distribution is not None else contextlib.nullcontext()
        with quiet_retracing(), _compat.atomic_state_files(), scope:
            tuner.search(*fit_args, callbacks=callbacks, **fit_kwargs)
    except RuntimeError as error:
        if not _compat.is_consecutive_failures_error(error):
            raise
        stopped = _compat.exception_line(str(error).splitlines()[0])
    summary = summarize(tuner)
    summary["stopped_early"] = stopped
    return summary
