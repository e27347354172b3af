"""The image experiment of section 4.1: one network, trained and evaluated, results on disk.

:func:`run_image_experiment` is what ``python -m apps.image_experiment`` runs, and
what ``apps/table1.py``, ``apps/sparsity_sweep.py`` and
``apps/labeled_fraction.py`` call once per configuration. It builds the network
inside the strategy's scope, optionally pretrains it greedily as stacked
denoising autoencoders, fine-tunes it with SGD, evaluates it, and writes into
``model_dir``:

- ``result.json``: configuration, validation and test error, per-layer sparsity
  and dead units, timings, library and backend versions;
- ``model.keras``: the trained network;
- ``test_predictions.npy``: the predicted class of each test example (for
  McNemar's test in Table 1);
- ``logs/``: TensorBoard logs (``logs/pretrain`` for pretraining);
- ``backup/`` while training: the weights and epoch of the last finished
  epoch, so that a run killed at any point resumes where it stopped when
  started again with the same ``model_dir`` (a run killed during pretraining
  resumes from its last finished layer, kept in ``pretraining/``).

The folder is a :class:`~keras_sparse_rect.experiments.run_folder.RunFolder`:
one process at a time (``run.lock``), another configuration refused, a run
that fails before its first epoch leaves nothing, every file written
atomically (temporary file, then rename).

Example (a few seconds on 600 digits):

>>> config = ImageExperimentConfig(dataset="npz:digits.npz", epochs=1)  # doctest: +SKIP
>>> result = run_image_experiment(config, verbose=0)  # doctest: +SKIP
>>> print(summary(result))  # doctest: +SKIP
"""

import os
import time

import keras
import numpy as np

from keras_sparse_rect import distribute
from keras_sparse_rect._validation import check_bool
from keras_sparse_rect.callbacks import DeadUnitMonitor, SparsityMonitor
from keras_sparse_rect.data.splits import labeled_subset  # noqa: F401 (public here too)
from keras_sparse_rect.experiments.configs import (  # noqa: F401 (public here too)
    PROTOCOLS,
    ImageExperimentConfig,
)
from keras_sparse_rect.experiments.image_result import (  # noqa: F401 (public here too)
    PROBE_ROWS,
    assemble_result,
    evaluate,
    summary,
)
from keras_sparse_rect.experiments.run_callbacks import RunBackup, RunProgress
from keras_sparse_rect.experiments.run_folder import (  # noqa: F401 (public here too)
    BACKUP_FOLDER,
    RunConflictError,
    RunFolder,
    RunLockedError,
)
from keras_sparse_rect.experiments.selection import (  # noqa: F401 (public here too)
    SELECTION_FILE,
    SELECTION_WEIGHTS_FILE,
    VALIDATION_BATCH_SIZE,
    fit_arguments,
    select_learning_rate,
)
from keras_sparse_rect.utils import quiet_retracing

#: Files of a run in its ``model_dir`` besides those of every run folder
#: (``restart`` removes them, a claim removes their temporaries).
RUN_FILES = ("model.keras", "test_predictions.npy", SELECTION_FILE, SELECTION_WEIGHTS_FILE)
RUN_FOLDERS = (BACKUP_FOLDER, "pretraining", "logs")
#: Settings that may change when an unfinished run is started again (it resumes).
RESUMABLE_CHANGES = ("epochs", "patience", "strategy", "tpu", "data_dir", "model_dir")


def monitoring_callbacks(log_dir, x_val, x_train, probe_rows=PROBE_ROWS):
    """The callbacks every run of the image experiment trains with, after the backup.

    Sparsity on validation digits and dead units on training digits each epoch
    (on ``probe_rows`` of them), TensorBoard logs in ``log_dir``, and a stop on a
    NaN loss. ``bench/app_speed.py`` measures what they cost.
    """
    rows = min(probe_rows, x_val.shape[0])
    return [
        SparsityMonitor(x_val[:rows]),
        DeadUnitMonitor(x_train[:rows]),
        keras.callbacks.TensorBoard(log_dir),
        keras.callbacks.TerminateOnNaN(),  # a diverged run says so instead of training on
    ]


def image_run_folder(config, started=None):
    """The :class:`RunFolder` of ``config`` (a worker's own subfolder under multi-worker)."""
    model_dir = config.model_dir
    if not distribute.is_chief():
        model_dir = os.path.join(model_dir, "workers", str(distribute.task_index()))
    return RunFolder(
        model_dir,
        config.to_dict(),
        resumable=RESUMABLE_CHANGES,
        files=RUN_FILES,
        folders=RUN_FOLDERS,
        required=("test_predictions.npy",),
        started=started,
    )


def run_image_experiment(config, data=None, strategy=None, verbose=1, restart=False):
    """Runs one configuration; returns the result dict also written to ``result.json``.

    Section 4.1: load, claim the folder, build, (pretrain), (select the
    fine-tuning rate), fit, evaluate, write.

    Args:
        config: an :class:`ImageExperimentConfig`.
        data: the loaded data set (``load_image_dataset``'s result); loaded from
            ``config.dataset`` when ``None``.
        strategy: the distribution strategy; from ``config.strategy`` when
            ``None``. Under ``multi_worker_mirrored`` create it first, before
            any other TensorFlow call.
        verbose: Keras progress bars (1), one line per epoch (2) or none (0).
        restart: delete the run already in ``config.model_dir`` (finished or
            not) and start afresh. Without it, an unfinished run of the same
            configuration resumes (``epochs`` and ``patience`` may change), and
            one of another configuration raises :class:`RunConflictError`.

    Returns:
        The result dict, plus ``"test_correct"``: a boolean array, whether each
        test example was classified correctly (not written to the JSON).

    Raises:
        ValueError: an invalid ``config``.
        RunConflictError: ``model_dir`` holds a run of another configuration.
        RunLockedError: another process is running in ``model_dir``.
        NoSpaceLeftError: the disk filled up (the last finished epoch is kept).
    """
    config.validate()
    check_bool("restart", restart)
    started = time.perf_counter()
    folder = image_run_folder(config, started)
    with folder.claim(restart=restart):  # a folder held by another process: refused at once
        strategy, data = _load(config, data, strategy)
        loaded = time.perf_counter()
        keras.utils.set_random_seed(config.seed)
        train_input, unlabeled, x_train = _training_inputs(config, data)
        steps = _steps(config, x_train)
        model = _build(config, data, strategy, steps)
        log_dir = folder.join("logs")
        pretraining = _pretraining(config, unlabeled, folder, log_dir, steps, verbose)
        selection, stopping = {}, None
        if config.protocol == "paper":
            selection = _pretrain_and_select(
                model, config, pretraining, train_input, data, folder, strategy, steps, verbose
            )
            stopping = _early_stopping(config)  # its state is in the backup: resumed runs agree
        callbacks = [RunProgress(folder), RunBackup(folder.join(BACKUP_FOLDER), stopping)]
        if pretraining is not None and config.protocol != "paper":
            callbacks.append(pretraining)  # pretrains at the start of fit
        callbacks += monitoring_callbacks(log_dir, data.x_val, x_train)
        done = selection.get("trained_epochs", 0)  # epochs the selected trial already trained
        history = model.fit(
            *train_input,
            epochs=max(1, config.epochs - done),
            callbacks=callbacks,
            verbose=verbose,
            **fit_arguments(config, train_input, (data.x_val, data.y_val)),
        )
        trained = time.perf_counter()
        evaluation = evaluate(model, data, x_train, max(config.batch_size, 256))
        finished = time.perf_counter()
        history_logs = folder.history() or {
            k: [float(v) for v in vs] for k, vs in history.history.items()
        }
        extra = {
            "diverged": _diverged(history, evaluation),
            "timings_s": _timings(folder, loaded - started, trained - loaded, finished - trained),
            "replicas": distribute.num_replicas(strategy),
            "files": _files(folder, log_dir),
        }
        result = assemble_result(
            config,
            data,
            x_train.shape[0],
            evaluation,
            history_logs,
            pretraining,
            _with_best_epoch(selection, history_logs),
            extra,
        )
        result = folder.finish(result, _result_files(model, evaluation))
    return {**result, "test_correct": evaluation["test_correct"]}


# The steps ---------------------------------------------------------------------------


def _load(config, data, strategy):
    """The strategy and the data set: given, or made from ``config``."""
    if strategy is None:
        strategy = distribute.get_strategy(config.strategy, config.tpu)
    if data is None:
        from keras_sparse_rect.data import load_image_dataset

        data = load_image_dataset(config.dataset, data_dir=config.data_dir)
    return strategy, data


def _training_inputs(config, data):
    """``(train_input, unlabeled, x_train)``: the fit's input, pretraining's, the monitors'."""
    labeled = labeled_subset(data.y_train, config.labeled_fraction, config.seed)
    x_train, y_train = data.x_train[labeled], data.y_train[labeled]
    train_input, unlabeled = (x_train, y_train), data.x_train
    if data.train_distortion is not None:
        # NISTP: fresh distortions of the clean images each epoch, in tf.data.
        from keras_sparse_rect.data import to_tf_dataset

        distortion = {"distortion": data.train_distortion, "seed": config.seed}
        train_input = (
            to_tf_dataset(x_train, y_train, config.batch_size, shuffle=True, **distortion),
            None,
        )
        unlabeled = to_tf_dataset(data.x_train, data.y_train, 1024, **distortion)
    if x_train.dtype == np.uint8:
        x_train = x_train.astype("float32") / 255.0  # for the monitors only
    return train_input, unlabeled, x_train


def _steps(config, x_train):
    """``{"steps_per_execution": n}``: a divisor of the epoch's steps (bars end at 100%)."""
    from keras_sparse_rect.models import steps_per_execution_for

    # Keras' multi-step loop (steps_per_execution > 1) fails under
    # MultiWorkerMirroredStrategy ("You must feed a value for placeholder tensor").
    if config.strategy == "multi_worker_mirrored":
        return {"steps_per_execution": 1}
    return {"steps_per_execution": steps_per_execution_for(x_train.shape[0], config.batch_size)}


def build_network(config, data):
    """The (uncompiled) network of section 4.1 that ``config`` describes, for ``data``."""
    from keras_sparse_rect.models import build_deep_network

    return build_deep_network(
        data.input_shape,
        data.num_classes,
        hidden_units=tuple(config.hidden_units),
        activation=config.activation,
        sign_flip=config.sign_flip,
        l1=config.l1,
        seed=config.seed,
    )


def _build(config, data, strategy, steps):
    """The network of section 4.1, built and compiled inside the strategy's scope."""
    from keras_sparse_rect.models import compile_for_paper

    with strategy.scope():
        model = build_network(config, data)
        compile_for_paper(model, learning_rate=config.learning_rate, **steps)
    return model


def _pretraining(config, unlabeled, folder, log_dir, steps, verbose):
    """The greedy layer-wise pretraining callback (``None`` without pretraining)."""
    if not (config.pretrain and config.pretrain_epochs > 0):
        return None
    from keras_sparse_rect.callbacks import (
        CollapsePolicy,
        GreedyLayerwisePretraining,
        RateSelection,
    )
    from keras_sparse_rect.models import PAPER_LEARNING_RATES

    return GreedyLayerwisePretraining(
        unlabeled,  # the whole training set, unlabeled (Figure 3 right)
        epochs=config.pretrain_epochs,
        learning_rate=config.pretrain_learning_rate,
        noise=config.noise,
        batch_size=config.batch_size,
        checkpoint_dir=folder.join("pretraining"),
        log_dir=log_dir,
        collapse=CollapsePolicy(threshold=config.collapse_threshold),
        rate_selection=(
            RateSelection(
                PAPER_LEARNING_RATES, eligible_dead_fraction=config.eligible_dead_fraction
            )
            if config.protocol == "paper"
            else None
        ),
        seed=config.seed,
        verbose=verbose,
        **steps,
    )


def _pretrain_and_select(
    model, config, pretraining, train_input, data, folder, strategy, steps, verbose
):
    """``protocol="paper"``: pretrain first, then select the fine-tuning rate (section 4.1)."""
    from keras_sparse_rect.models import compile_for_paper

    if pretraining is not None:
        with strategy.scope(), quiet_retracing():
            pretraining.pretrain(model)  # resumable: finished layers are restored
    with strategy.scope(), quiet_retracing():
        selection = select_learning_rate(
            model, config, train_input, (data.x_val, data.y_val), folder.path, steps, verbose
        )
        compile_for_paper(model, learning_rate=selection["learning_rate"], **steps)
    folder.commit()  # the trials are kept: a later failure leaves them to resume from
    return selection


def _early_stopping(config):
    return keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=config.patience, restore_best_weights=True
    )


def _diverged(history, evaluation):
    """Whether the loss or the test predictions went non-finite."""
    return bool(
        not np.all(np.isfinite(history.history.get("loss", [0.0])))
        or not np.all(np.isfinite(evaluation["test_probabilities"]))
    )


def _with_best_epoch(selection, history_logs):
    """The selection with the epoch ``EarlyStopping`` kept, counting the trial's epochs."""
    if selection and "val_accuracy" in history_logs:
        done = selection.get("trained_epochs", 0)
        selection["best_epoch"] = done + int(np.argmax(history_logs["val_accuracy"])) + 1
    return selection


def _timings(folder, load, train, evaluate):
    """``timings_s``: this process's steps, and the wall time of every process of the run."""
    timings = folder.timings()  # a killed process's time included
    return {
        "load": round(load, 3),
        "train": round(train, 3),
        "evaluate": round(evaluate, 3),
        "total": timings["total"],
        "processes": timings["processes"],
    }


def _files(folder, log_dir):
    return {
        "result": folder.join("result.json"),
        "model": folder.join("model.keras"),
        "test_predictions": folder.join("test_predictions.npy"),
        "tensorboard": log_dir,
    }


def _result_files(model, evaluation):
    """``{name: write(tmp)}`` of the files written before ``result.json``."""

    def predictions(tmp):
        with open(tmp, "wb") as f:
            np.save(f, evaluation["test_predictions"].astype("int32"), allow_pickle=False)

    return {"model.keras": model.save, "test_predictions.npy": predictions}
