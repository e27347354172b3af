"""Every use of KerasTuner's private internals, each checked at import time.

KerasTuner 1.4.8 leaves three gaps that :mod:`keras_sparse_rect.tuning` closes
by reaching into code that is not its public API:

1. **State files written in place.** ``oracle.json`` and ``trial.json`` go
   through ``keras_tuner.src.utils.save_json``, which opens the file and writes
   it, so a search killed mid-write leaves a truncated file that the resumed
   search cannot read. :func:`atomic_state_files` swaps that function, for the
   duration of a block, for one that writes a temporary file and renames it.
   It relies on KerasTuner's engine calling ``utils.save_json`` through the
   module (``from keras_tuner.src import utils``), not a copy of the function.
2. **A grid search that cannot resume** (keras-team/keras-tuner#1055): the
   grid oracle keeps its walk through the grid in the private
   ``_ordered_ids`` (a linked list with ``insert``) and ``_populate_next`` (a
   queue) and does not save them. :func:`restore_grid_walk` rebuilds both from
   the reloaded trials, sorted with the oracle's private ``_compare``.
   A search killed between KerasTuner's write of a new trial's ``trial.json``
   and of ``oracle.json`` reloads that trial ``RUNNING`` for no tuner, and it
   never runs; :func:`retry_orphaned_trials` puts it in the oracle's private
   ``_retry_queue``.
3. **Errors known by their text.** A search that reaches
   ``max_consecutive_failed_trials`` raises a plain ``RuntimeError``
   ("Number of consecutive failures exceeded the limit ..."), recognised by
   :func:`is_consecutive_failures_error`; a failed trial's ``message`` is its
   traceback, whose last line carries the module path of KerasTuner's
   ``FailedTrialError`` (:func:`exception_line`).

Besides these, two documented-but-loose conventions are used and checked:
Hyperband's reserved hyper-parameters (``tuner/trial_id``, ``tuner/epochs``,
...; named in ``HyperbandOracle``'s docstring) and a Hyperband oracle's
``max_trials`` attribute, which its constructor does not take
(:func:`set_max_trials`).

:func:`check` runs every check; it runs when this module is imported and
raises one :class:`KerasTunerInternalsError` (a ``RuntimeError``) naming the
installed KerasTuner version, each internal that changed and what stops
working, so that a KerasTuner upgrade fails at once with a clear
message instead of silently writing truncated state or misreading a search.
``tests/tuning/test_compat.py`` checks that each check fails as it should.
"""

import contextlib
import functools
import inspect
import json
import os

import keras_tuner

from keras_sparse_rect import results

#: The KerasTuner version these internals were checked against.
CHECKED_VERSION = "1.4.8"

#: The text of KerasTuner's error when a search has failed too many trials in a row.
CONSECUTIVE_FAILURES = "consecutive failures"

#: Prefix of the hyper-parameters that Hyperband reserves for itself.
RESERVED_PREFIX = "tuner/"

#: Hyperband's hyper-parameter naming the trial a continued trial starts from.
CONTINUED_FROM = "tuner/trial_id"

#: Hyperband's hyper-parameters, as its oracle's docstring documents them.
HYPERBAND_NAMES = (CONTINUED_FROM, "tuner/initial_epoch", "tuner/epochs")


# 1. Atomic state files ------------------------------------------------------------


def _kerastuner_utils():
    from keras_tuner.src import utils

    return utils


def check_save_json():
    """``keras_tuner.src.utils.save_json(path, obj)`` exists and the engine calls it."""
    try:
        utils = _kerastuner_utils()
    except ImportError as error:
        return [f"keras_tuner.src.utils cannot be imported ({error})"]
    save_json = getattr(utils, "save_json", None)
    if not callable(save_json):
        return ["keras_tuner.src.utils.save_json (oracle.json's and trial.json's writer) is gone"]
    if list(inspect.signature(save_json).parameters)[:2] != ["path", "obj"]:
        return [
            "keras_tuner.src.utils.save_json no longer takes (path, obj); it takes "
            f"{inspect.signature(save_json)}"
        ]
    problems = []
    from keras_tuner.src.engine import oracle, stateful, tuner

    for module in (stateful, tuner, oracle):
        if getattr(module, "utils", None) is not utils:
            problems.append(
                f"{module.__name__} no longer calls save_json through keras_tuner.src.utils"
            )
    return problems


def _atomic_save_json(original):
    def save_json(path, obj):
        if "://" in os.fspath(path):  # gs://... : KerasTuner's own writer
            return original(path, obj)
        text = json.dumps(obj)
        results.write_text_atomic(path, text)
        return text

    return save_json


@contextlib.contextmanager
def atomic_state_files():
    """Makes KerasTuner write its state files (``oracle.json``, ``trial.json``) atomically.

    Inside this block ``keras_tuner.src.utils.save_json``, the one function
    all KerasTuner's state goes through, writes a temporary file and renames
    it; remote paths (``gs://...``) keep KerasTuner's writer. The original is
    restored on exit. ``make_tuner`` and ``run_search`` use it.
    """
    utils = _kerastuner_utils()
    original = utils.save_json
    utils.save_json = _atomic_save_json(original)
    try:
        yield
    finally:
        utils.save_json = original


# 2. The grid oracle's walk --------------------------------------------------------


def check_grid_oracle():
    """``GridSearchOracle`` has ``_compare``, ``_ordered_ids.insert`` and ``_populate_next``."""
    cls = keras_tuner.oracles.GridSearchOracle
    problems = []
    if not callable(getattr(cls, "_compare", None)):
        problems.append("GridSearchOracle._compare (the grid order of two trials) is gone")
    if not callable(getattr(cls, "set_state", None)):
        problems.append("GridSearchOracle.set_state is gone")
    try:
        oracle = cls(objective=keras_tuner.Objective("score", "min"), max_trials=1)
    except Exception as error:  # any failure means the internals moved
        return [*problems, f"GridSearchOracle(objective=..., max_trials=1) fails: {error!r}"]
    ordered = getattr(oracle, "_ordered_ids", None)
    if ordered is None or not callable(getattr(ordered, "insert", None)):
        problems.append("GridSearchOracle._ordered_ids (a linked list with insert) is gone")
    elif not callable(getattr(ordered, "next", None)):
        problems.append("GridSearchOracle._ordered_ids has no next()")
    if not isinstance(getattr(oracle, "_populate_next", None), list):
        problems.append("GridSearchOracle._populate_next (a list of trial ids) is gone")
    return problems


def restore_grid_walk(oracle):
    """Rebuilds a reloaded ``GridSearchOracle``'s walk through the grid from its trials.

    KerasTuner does not save it (keras-team/keras-tuner#1055): reloaded, the grid
    search stops at once or fails with a ``KeyError``. Both follow from the trials
    themselves: sorted in grid order, the next combination of each is the next
    one to try.
    """
    order = sorted(
        oracle.trials,
        key=functools.cmp_to_key(
            lambda a, b: oracle._compare(
                oracle.trials[a].hyperparameters.values, oracle.trials[b].hyperparameters.values
            )
        ),
    )
    oracle._ordered_ids = type(oracle._ordered_ids)()
    for trial_id in order:
        oracle._ordered_ids.insert(trial_id)
    oracle._populate_next = list(order)


# 2b. Trials orphaned by a kill -------------------------------------------------


def check_retry_queue():
    """``Oracle`` keeps ``_retry_queue`` (a list), ``ongoing_trials`` and ``trials``."""
    try:
        oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=keras_tuner.Objective("score", "min"), max_trials=1
        )
    except Exception as error:  # any failure means the internals moved
        return [f"RandomSearchOracle(objective=..., max_trials=1) fails: {error!r}"]
    problems = []
    if not isinstance(getattr(oracle, "_retry_queue", None), list):
        problems.append("Oracle._retry_queue (the trials to run again) is gone")
    for name in ("ongoing_trials", "trials"):
        if not isinstance(getattr(oracle, name, None), dict):
            problems.append(f"Oracle.{name} is no longer a dict")
    return problems


def retry_orphaned_trials(oracle):
    """Queues again the trials a kill left ``RUNNING`` unknown to the reloaded oracle.

    KerasTuner starts a trial by writing its ``trial.json`` (status ``RUNNING``),
    then ``oracle.json`` (which lists the running trials). A search killed
    between the two writes reloads a trial that is running for no tuner: it is
    never run again and stays ``RUNNING``, one trial fewer than ``max_trials``.
    Called after the oracle's reload, this sends such trials for retry, as the
    reload does with the running trials it knows. Returns their ids.
    """
    known = set(oracle._retry_queue) | {t.trial_id for t in oracle.ongoing_trials.values()}
    orphans = sorted(
        trial_id
        for trial_id, trial in oracle.trials.items()
        if trial.status == "RUNNING" and trial_id not in known
    )
    # The retry queue is popped from its end: the orphans run in trial order.
    oracle._retry_queue.extend(reversed(orphans))
    return orphans


# 3. Errors known by their text ----------------------------------------------------


def _consecutive_failures_error():
    """The error KerasTuner raises after one failed trial with a limit of 1, or ``None``."""
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("score", "min"),
        max_trials=1,
        max_consecutive_failed_trials=1,
    )
    trial = keras_tuner.engine.trial.Trial(
        keras_tuner.HyperParameters(), trial_id="0", status="FAILED", message="boom"
    )
    oracle.trials[trial.trial_id] = trial
    oracle.end_order.append(trial.trial_id)
    try:
        oracle._check_consecutive_failures()
    except RuntimeError as error:
        return error
    return None


def check_consecutive_failures():
    """KerasTuner's too-many-failures error is a RuntimeError that we recognise."""
    try:
        error = _consecutive_failures_error()
    except Exception as error:
        return [f"the oracle's consecutive-failure check cannot be exercised: {error!r}"]
    if error is None:
        return ["Oracle._check_consecutive_failures no longer raises RuntimeError at the limit"]
    if not is_consecutive_failures_error(error):
        return [
            f"the consecutive-failure error no longer says {CONSECUTIVE_FAILURES!r}: "
            f"{str(error).splitlines()[0]!r}"
        ]
    return []


def is_consecutive_failures_error(error):
    """Whether ``error`` is KerasTuner's "too many failed trials in a row" error."""
    return isinstance(error, RuntimeError) and CONSECUTIVE_FAILURES in str(error)


def _failed_trial_prefix():
    cls = keras_tuner.errors.FailedTrialError
    return f"{cls.__module__}.{cls.__qualname__}: "


def check_failed_trial_error():
    """``keras_tuner.errors.FailedTrialError`` exists (its traceback line is stripped)."""
    cls = getattr(keras_tuner.errors, "FailedTrialError", None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        return ["keras_tuner.errors.FailedTrialError is gone"]
    return []


def exception_line(message):
    """The exception line of a trial's traceback (a ``FailedTrialError``: just its text)."""
    lines = [line.strip() for line in (message or "").strip().splitlines() if line.strip()]
    if not lines:
        return None
    return lines[-1].removeprefix(_failed_trial_prefix())


# 4. Hyperband's conventions -------------------------------------------------------


def check_hyperband():
    """Hyperband documents its ``tuner/...`` names and its oracle has ``max_trials``."""
    cls = keras_tuner.oracles.HyperbandOracle
    problems = []
    doc = cls.__doc__ or ""
    missing = [name for name in HYPERBAND_NAMES if f'"{name}"' not in doc]
    if missing:
        problems.append(f"HyperbandOracle no longer documents the hyper-parameters {missing}")
    try:
        oracle = cls(objective=keras_tuner.Objective("score", "min"), max_epochs=2)
    except Exception as error:
        return [*problems, f"HyperbandOracle(objective=..., max_epochs=2) fails: {error!r}"]
    if not hasattr(oracle, "max_trials"):
        problems.append("HyperbandOracle has no max_trials attribute")
    return problems


def is_reserved(name):
    """Whether ``name`` is one of KerasTuner's own hyper-parameters (``tuner/...``)."""
    return str(name).startswith(RESERVED_PREFIX)


def set_max_trials(oracle, max_trials):
    """Caps the trials of an oracle whose constructor does not take ``max_trials`` (Hyperband)."""
    oracle.max_trials = max_trials


# Checks ---------------------------------------------------------------------------


class KerasTunerInternalsError(RuntimeError):
    """A KerasTuner internal that keras_sparse_rect.tuning needs is missing or changed."""


#: Every check (a function returning a list of problems, empty when all is well) and
#: what stops working when it fails.
CHECKS = (
    (
        check_save_json,
        "make_tuner and run_search cannot make KerasTuner's state files atomic (a search "
        "killed mid-write could leave a truncated oracle.json)",
    ),
    (check_grid_oracle, "a reloaded grid search cannot resume (keras-team/keras-tuner#1055)"),
    (
        check_retry_queue,
        "a trial left running by a kill between KerasTuner's two writes is not run again",
    ),
    (
        check_consecutive_failures,
        "run_search cannot tell KerasTuner's stop after failed trials from another error",
    ),
    (check_failed_trial_error, "a failed trial's error line cannot be read"),
    (
        check_hyperband,
        "Hyperband's continued trials could be pretrained again, or its max_trials ignored",
    ),
)


def problems():
    """``[(problem, consequence), ...]`` of every failed check."""
    return [(problem, consequence) for run, consequence in CHECKS for problem in run()]


def check():
    """Runs :data:`CHECKS`; raises one :class:`KerasTunerInternalsError` naming each change."""
    found = problems()
    if found:
        listed = "; ".join(f"{problem} (so {consequence})" for problem, consequence in found)
        raise KerasTunerInternalsError(
            f"keras_sparse_rect.tuning uses KerasTuner internals checked against keras_tuner "
            f"{CHECKED_VERSION}, and the installed keras_tuner {keras_tuner.__version__} "
            f"differs: {listed}. See keras_sparse_rect/tuning/_compat.py."
        )


check()
