"""Resumable KerasTuner tuners that record who ran each trial; :func:`make_tuner`."""

import os

import keras_tuner

from keras_sparse_rect import results
from keras_sparse_rect._validation import check_inside, check_int, check_seed
from keras_sparse_rect.tuning import _compat

#: Name of the file, in each trial's folder, that says which tuner ran the trial.
RAN_BY_FILE = "ran_by.json"

#: KerasTuner's default: a search stops after this many failed trials in a row
#: (not in a distributed search, where that error would leave the chief waiting).
MAX_CONSECUTIVE_FAILURES = 3


def search_role():
    """``"chief"``, ``"worker"`` or ``"single"``, from KerasTuner's environment variables.

    A distributed search sets ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``
    and ``KERASTUNER_TUNER_ID`` (``chief`` on the chief, a unique id such as
    ``tuner0`` on each worker).
    """
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    for variable in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        if not os.environ.get(variable):
            raise ValueError(
                f"KERASTUNER_ORACLE_IP is set, so {variable} must be set too (a distributed "
                f"search); got {variable}={os.environ.get(variable)!r}."
            )
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


class _RecordingTuner:
    """Mixin: records each trial this process ran, and which tuner ran it.

    ``distribution`` is a ``keras.distribution`` scope (JAX) for ``run_search``.

    The record goes into the trial's folder (:data:`RAN_BY_FILE`) and
    ``self.trials_run``; a failed trial is printed at once, in one line. On a
    reload, trials that a kill left ``RUNNING`` for no tuner are run again
    (:func:`_compat.retry_orphaned_trials`).
    """

    def __init__(self, *args, distribution=None, **kwargs):
        self.trials_run = []
        self.distribution = distribution  # entered by run_search
        super().__init__(*args, **kwargs)

    def reload(self):
        """Reloads the search; a trial that a kill left running for no tuner runs again."""
        super().reload()
        if search_role() != "worker":
            _compat.retry_orphaned_trials(self.oracle)

    def on_trial_end(self, trial):
        status = "COMPLETED" if trial.status == "COMPLETED" else "FAILED"
        record = {
            "trial_id": trial.trial_id,
            "tuner_id": self.tuner_id,
            "status": status,
            "hyperparameters": dict(trial.hyperparameters.values),
            "error": _compat.exception_line(trial.message) if status == "FAILED" else None,
            "message": trial.message if status == "FAILED" else None,
        }
        self.trials_run.append(record)
        path = os.path.join(self.get_trial_dir(trial.trial_id), RAN_BY_FILE)
        results.write_json_atomic(path, record)
        if status == "FAILED":
            print(f"[{self.tuner_id}] trial {trial.trial_id} failed: {record['error']}")
        elif search_role() == "worker":
            print(f"[{self.tuner_id}] trial {trial.trial_id} completed")
        super().on_trial_end(trial)


class RandomSearch(_RecordingTuner, keras_tuner.RandomSearch):
    """``keras_tuner.RandomSearch`` that records who ran each trial."""


class BayesianOptimization(_RecordingTuner, keras_tuner.BayesianOptimization):
    """``keras_tuner.BayesianOptimization`` that records who ran each trial."""


class Hyperband(_RecordingTuner, keras_tuner.Hyperband):
    """``keras_tuner.Hyperband`` that records who ran each trial."""


class _ResumableGridSearchOracle(keras_tuner.oracles.GridSearchOracle):
    """``GridSearchOracle`` whose walk through the grid survives a reload.

    KerasTuner 1.4.8 does not save which combinations follow which
    (keras-team/keras-tuner#1055); :func:`_compat.restore_grid_walk` rebuilds it
    from the reloaded trials.
    """

    def set_state(self, state):
        super().set_state(state)
        _compat.restore_grid_walk(self)


class GridSearch(_RecordingTuner, keras_tuner.Tuner):
    """``keras_tuner.GridSearch`` that records who ran each trial and resumes (see above)."""

    def __init__(
        self,
        hypermodel=None,
        objective=None,
        max_trials=None,
        seed=None,
        max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
        **kwargs,
    ):
        oracle = _ResumableGridSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        super().__init__(oracle, hypermodel, **kwargs)


#: The tuners of :func:`make_tuner`, by name.
TUNERS = {
    "random": RandomSearch,
    "bayesian": BayesianOptimization,
    "hyperband": Hyperband,
    "grid": GridSearch,
}


def make_tuner(
    name,
    hypermodel,
    *,
    max_trials=10,
    directory="runs/tune",
    project_name="deep_sparse",
    max_epochs=None,
    seed=0,
    overwrite=False,
    distribution_strategy=None,
):
    """A KerasTuner tuner over ``hypermodel``, its state in ``directory/project_name``.

    Started again with the same folder (and ``overwrite=False``) a tuner reloads
    the search and goes on where it stopped: finished trials are kept, the trial
    that was running is run again, and new trials are drawn until there are
    ``max_trials``. Under KerasTuner's distributed environment variables (see
    :func:`search_role`) the same call makes the chief or a worker.

    Args:
        name: ``"random"``, ``"bayesian"``, ``"hyperband"`` or ``"grid"``.
        hypermodel: a ``DeepSparseHyperModel`` or ``SentimentHyperModel`` (its
            ``objective`` is the tuner's).
        max_trials: the most trials (Hyperband: a cap on the trials its brackets draw).
        directory, project_name: where the search keeps its state and results.
        max_epochs: Hyperband only: fine-tuning epochs of its longest trials.
        seed: seed of the tuner's draws.
        overwrite: start afresh, deleting the folder's search.
        distribution_strategy: from :func:`keras_sparse_rect.distribute.get_strategy`;
            each trial's network is built and trained in it (a ``tf.distribute``
            strategy goes to KerasTuner, which builds each model in its scope; the
            JAX ``keras.distribution`` scope is entered by ``run_search``).

    Example:

    >>> from keras_sparse_rect.tuning import DeepSparseHyperModel
    >>> hypermodel = DeepSparseHyperModel((784,), 10, stage="finetune")
    >>> tuner = make_tuner("bayesian", hypermodel, max_trials=20, project_name="images")
    >>> tuner.oracle.max_trials, tuner.project_dir.endswith("images")
    (20, True)
    """
    if name not in TUNERS:
        raise ValueError(f"`name` must be one of {list(TUNERS)}; got name={name!r}.")
    max_trials = check_int("max_trials", max_trials, 1)
    objective = getattr(hypermodel, "objective", None)
    if not isinstance(objective, keras_tuner.Objective):
        raise ValueError(
            "`hypermodel` must be a DeepSparseHyperModel or SentimentHyperModel (with an "
            f"`objective`); got hypermodel={hypermodel!r}."
        )
    for argument, value in (("directory", directory), ("project_name", project_name)):
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            raise ValueError(f"`{argument}` must be a non-empty path; got {argument}={value!r}.")
    check_inside("project_name", project_name, "directory")
    role = search_role()
    tf_strategy = hasattr(distribution_strategy, "extended")
    common = {
        "hypermodel": hypermodel,
        "objective": objective,
        "seed": check_seed("seed", seed),
        "directory": os.fspath(directory),
        "project_name": os.fspath(project_name),
        "overwrite": bool(overwrite),
        # KerasTuner takes tf.distribute strategies only; the JAX one is a scope around it all.
        "distribution_strategy": distribution_strategy if tf_strategy else None,
        "distribution": None if tf_strategy else distribution_strategy,
        "max_consecutive_failed_trials": None if role != "single" else MAX_CONSECUTIVE_FAILURES,
    }
    if name == "hyperband" and getattr(hypermodel, "stage", None) == "pretrain":
        raise ValueError(
            "Hyperband allots fine-tuning epochs, which do not change the reconstruction "
            "error of stage 'pretrain': use random, bayesian or grid; got name='hyperband'."
        )
    with _compat.atomic_state_files():
        if name != "hyperband":
            return TUNERS[name](max_trials=max_trials, **common)
        tuner = Hyperband(max_epochs=check_int("max_epochs", max_epochs, 1), **common)
        _compat.set_max_trials(tuner.oracle, max_trials)
        return tuner
