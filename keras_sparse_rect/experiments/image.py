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
- ``backup/`` while training: ``keras.callbacks.BackupAndRestore`` state, so a
  run killed at any point resumes where it stopped when started again with the
  same ``model_dir`` (a run killed during pretraining resumes from its last
  finished layer, kept in ``pretraining/``).

Every file is written atomically (temporary file, then rename).
"""

import contextlib
import json
import math
import os
import shutil
import time

import keras
import numpy as np

from keras_sparse_rect import distribute, results
from keras_sparse_rect.callbacks import DeadUnitMonitor, SparsityMonitor
from keras_sparse_rect.experiments.configs import (  # noqa: F401 (public here too)
    PROTOCOLS,
    ImageExperimentConfig,
)
from keras_sparse_rect.metrics import ActivationSparsity
from keras_sparse_rect.utils import hidden_activation_model, quiet_retracing

#: Batch size of the validation pass after each epoch: Keras would use the training
#: batch (10), which makes validating 10,000 digits cost a fifth of an epoch.
VALIDATION_BATCH_SIZE = 256


#: Examples on which the per-epoch monitors measure sparsity and dead units.
PROBE_ROWS = 2000


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


def labeled_subset(y, fraction, seed):
    """Indices of a class-stratified ``fraction`` of the examples (at least one per class)."""
    if fraction >= 1.0:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        count = max(1, int(round(fraction * members.size)))
        keep.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(keep))


def _flat(x):
    return x.reshape(x.shape[0], -1)


def run_image_experiment(config, data=None, strategy=None, verbose=1, restart=False):
    """Runs one configuration; returns the result dict also written to ``result.json``.

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
    """
    from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
    from keras_sparse_rect.models import (
        PAPER_LEARNING_RATES,
        build_deep_network,
        compile_for_paper,
        steps_per_execution_for,
    )

    config.validate()
    started = time.perf_counter()
    if strategy is None:
        strategy = distribute.get_strategy(config.strategy, config.tpu)
    if data is None:
        from keras_sparse_rect.data import load_image_dataset

        data = load_image_dataset(config.dataset, data_dir=config.data_dir)
    loaded = time.perf_counter()

    chief = distribute.is_chief()
    model_dir = (
        config.model_dir
        if chief
        else os.path.join(config.model_dir, "workers", str(distribute.task_index()))
    )
    os.makedirs(model_dir, exist_ok=True)
    if restart:
        _remove_run(model_dir)
    results.remove_temporary_files(model_dir, _RUN_FILES)
    _claim(model_dir, config)
    keras.utils.set_random_seed(config.seed)

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

    # Keras' multi-step loop (steps_per_execution > 1) fails under
    # MultiWorkerMirroredStrategy ("You must feed a value for placeholder tensor").
    multi_worker = config.strategy == "multi_worker_mirrored"
    # Else a divisor of the epoch's steps, so that the progress bar ends at its total.
    steps = {
        "steps_per_execution": 1
        if multi_worker
        else steps_per_execution_for(x_train.shape[0], config.batch_size)
    }
    with strategy.scope():
        model = build_deep_network(
            data.input_shape,
            data.num_classes,
            hidden_units=tuple(config.hidden_units),
            activation=config.activation,
            sign_flip=config.sign_flip,
            l1=config.l1,
            seed=config.seed,
        )
        compile_for_paper(model, learning_rate=config.learning_rate, **steps)

    log_dir = os.path.join(model_dir, "logs")
    paper = config.protocol == "paper"
    pretraining = None
    if config.pretrain and config.pretrain_epochs > 0:
        pretraining = GreedyLayerwisePretraining(
            unlabeled,  # the whole training set, unlabeled (Figure 3 right)
            epochs=config.pretrain_epochs,
            learning_rate=config.pretrain_learning_rate,
            noise=config.noise,
            batch_size=config.batch_size,
            checkpoint_dir=os.path.join(model_dir, "pretraining"),
            log_dir=log_dir,
            collapse_threshold=config.collapse_threshold,
            eligible_dead_fraction=config.eligible_dead_fraction,
            select_learning_rate=PAPER_LEARNING_RATES if paper else None,
            seed=config.seed,
            verbose=verbose,
            **steps,
        )
    validation = (data.x_val, data.y_val)
    selection = {}
    # The backup is deleted only once the results are written (below): a kill while
    # model.keras is saved then resumes with every epoch done.
    backup_dir = os.path.join(model_dir, "backup")
    progress = _RunProgress(os.path.join(model_dir, _PROGRESS_FILE), started)
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False), progress]
    if paper:
        if pretraining is not None:
            with strategy.scope(), quiet_retracing():
                pretraining.pretrain(model)  # resumable: finished layers are restored
        with strategy.scope(), quiet_retracing():
            selection = _select_learning_rate(
                model, config, train_input, validation, model_dir, steps, verbose
            )
            compile_for_paper(model, learning_rate=selection["learning_rate"], **steps)
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=config.patience,
                restore_best_weights=True,
            )
        )
    elif pretraining is not None:
        callbacks.append(pretraining)
    callbacks += monitoring_callbacks(log_dir, data.x_val, x_train)
    done = selection.get("trained_epochs", 0)  # epochs the selected trial already trained
    history = model.fit(
        *train_input,
        batch_size=None if train_input[1] is None else config.batch_size,
        epochs=max(1, config.epochs - done),
        validation_data=validation,
        validation_batch_size=max(config.batch_size, VALIDATION_BATCH_SIZE),
        callbacks=callbacks,
        verbose=verbose,
    )
    trained = time.perf_counter()

    eval_batch = max(config.batch_size, 256)
    val_probs = model.predict(data.x_val, batch_size=eval_batch, verbose=0)
    test_probs = model.predict(data.x_test, batch_size=eval_batch, verbose=0)
    test_pred = np.argmax(test_probs, axis=-1)
    test_correct = test_pred == np.asarray(data.y_test).ravel()
    val_error = float(np.mean(np.argmax(val_probs, axis=-1) != np.asarray(data.y_val).ravel()))

    probe, names = hidden_activation_model(model)
    sparsity = ActivationSparsity(layer_names=names)
    for start in range(0, data.x_test.shape[0], eval_batch):
        outputs = probe(data.x_test[start : start + eval_batch], training=False)
        sparsity.update_state(outputs if isinstance(outputs, (list, tuple)) else [outputs])
    sparsity_result = {k: float(v) for k, v in sparsity.result().items()}
    dead = DeadUnitMonitor(x_train, layer_names=None, batch_size=eval_batch)
    dead.set_model(model)
    dead_logs = dead.compute()
    finished = time.perf_counter()

    # Every epoch of the run, those of earlier (killed) processes included.
    history_logs = progress.history() or {
        k: [float(v) for v in vs] for k, vs in history.history.items()
    }
    pretraining_summary = None
    if pretraining is not None:
        history_logs = {**pretraining.history, **history_logs}
        pretraining_summary = {
            "dead_fraction_per_layer": {
                names[k - 1]: v for k, v in sorted(pretraining.dead_fractions.items())
            },
            "collapsed_layers": [names[k - 1] for k in pretraining.collapsed_layers],
            "collapse_threshold": config.collapse_threshold,
            "eligible_dead_fraction": config.eligible_dead_fraction,
            "learning_rate_per_layer": [
                pretraining.history.get(f"pretrain/layer_{k}/learning_rate", [None])[0]
                for k in range(1, len(names) + 1)
            ],
        }
    collapsed = pretraining is not None and pretraining.collapsed_layers
    diverged = bool(
        not np.all(np.isfinite(history.history.get("loss", [0.0])))
        or not np.all(np.isfinite(test_probs))
    )
    if paper and "val_accuracy" in history_logs:
        selection["best_epoch"] = done + int(np.argmax(history_logs["val_accuracy"])) + 1
    result = {
        "config": config.to_dict(),
        "dataset": {
            "name": config.dataset,
            "train": int(data.x_train.shape[0]),
            "labeled": int(x_train.shape[0]),
            "validation": int(data.x_val.shape[0]),
            "test": int(data.x_test.shape[0]),
            "num_classes": int(data.num_classes),
            "input_shape": list(data.input_shape),
        },
        "test_error": float(1.0 - np.mean(test_correct)),
        "diverged": diverged,
        "collapsed": bool(collapsed),
        "status": "diverged" if diverged else ("collapsed" if collapsed else "ok"),
        "pretraining": pretraining_summary,
        "selection": selection,
        "validation_error": val_error,
        "sparsity": sparsity_result["sparsity"],
        "sparsity_per_layer": {n: sparsity_result[f"sparsity/{n}"] for n in names},
        "dead_units_per_layer": {n: dead_logs[f"dead_units/{n}"] for n in names},
        "history": history_logs,
        "timings_s": {
            "load": round(loaded - started, 3),
            "train": round(trained - loaded, 3),
            "evaluate": round(finished - trained, 3),
            # Wall time of every process of the run (a killed run's included).
            "total": round(progress.earlier_seconds + finished - started, 3),
            "processes": progress.processes,
        },
        "replicas": distribute.num_replicas(strategy),
        "environment": results.environment(),
        "files": {
            "result": os.path.join(model_dir, "result.json"),
            "model": os.path.join(model_dir, "model.keras"),
            "test_predictions": os.path.join(model_dir, "test_predictions.npy"),
            "tensorboard": log_dir,
        },
    }
    with results.atomic_path(result["files"]["model"]) as tmp:  # tmp ends in .keras
        model.save(tmp)
    with results.atomic_path(result["files"]["test_predictions"]) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, test_pred.astype("int32"), allow_pickle=False)
    results.write_json_atomic(result["files"]["result"], result)
    shutil.rmtree(backup_dir, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(model_dir, _PROGRESS_FILE))
    return {**result, "test_correct": test_correct}


#: Files of a run in its ``model_dir`` (``restart`` removes them).
_RUN_FILES = (
    "result.json",
    "model.keras",
    "test_predictions.npy",
    "selection.json",
    "selection_weights.npz",
    "progress.json",
    "run_config.json",
)
_RUN_FOLDERS = ("backup", "pretraining", "logs")
_PROGRESS_FILE = "progress.json"
#: Settings that may change when an unfinished run is started again (it resumes).
_RESUMABLE_CHANGES = ("epochs", "patience", "strategy", "tpu", "data_dir", "model_dir")


def _remove_run(model_dir):
    for name in _RUN_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(model_dir, name))
    for name in _RUN_FOLDERS:
        shutil.rmtree(os.path.join(model_dir, name), ignore_errors=True)


def _claim(model_dir, config):
    """Records ``config`` in ``model_dir``, or refuses a folder that holds another run's."""
    path = os.path.join(model_dir, "run_config.json")
    mine = {k: v for k, v in config.to_dict().items() if k not in _RESUMABLE_CHANGES}
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                theirs = json.load(f)
        except (OSError, ValueError):
            theirs = None
        if isinstance(theirs, dict) and theirs != mine:
            changed = ", ".join(
                f"{k} {theirs.get(k)!r} -> {mine.get(k)!r}"
                for k in sorted(set(theirs) | set(mine))
                if theirs.get(k) != mine.get(k)
            )
            raise RunConflictError(
                f"`model_dir`={model_dir!r} holds a run of another configuration ({changed}); "
                "give another `model_dir`, or pass `restart` to delete that run and start "
                "afresh.",
                model_dir=model_dir,
                what=f"a run of another configuration ({changed})",
            )
    elif any(os.path.exists(os.path.join(model_dir, n)) for n in ("backup", "pretraining")):
        raise RunConflictError(
            f"`model_dir`={model_dir!r} holds an unfinished run of unknown configuration; "
            "give another `model_dir`, or pass `restart` to delete it and start afresh.",
            model_dir=model_dir,
            what="an unfinished run of unknown configuration",
        )
    results.write_json_atomic(path, mine)


class RunConflictError(ValueError):
    """``model_dir`` holds (part of) a run of another configuration.

    ``model_dir`` is the folder and ``what`` what it holds, so that a front end
    running many runs (one folder each) can say which folder and what to do.
    """

    def __init__(self, message, *, model_dir=None, what=None):
        super().__init__(message)
        self.model_dir = model_dir
        self.what = what


class _RunProgress(keras.callbacks.Callback):
    """Keeps every epoch's logs and the run's wall time in a file, across kills.

    ``BackupAndRestore`` restores the weights and the epoch of a killed run; this
    keeps what its ``History`` forgets: the logs of the epochs trained by earlier
    processes, and how long they took.
    """

    def __init__(self, path, started):
        super().__init__()
        self.path = path
        self.started = started
        self.epochs = []
        self.earlier_seconds = 0.0
        self.processes = 1
        try:
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            self.epochs = list(saved["epochs"])
            self.earlier_seconds = float(saved["seconds"])
            self.processes = int(saved["processes"]) + 1
        except (OSError, ValueError, KeyError, TypeError):
            pass

    def on_epoch_end(self, epoch, logs=None):
        self.epochs = self.epochs[:epoch] + [{k: float(v) for k, v in (logs or {}).items()}]
        results.write_json_atomic(
            self.path,
            {
                "epochs": self.epochs,
                "seconds": self.earlier_seconds + time.perf_counter() - self.started,
                "processes": self.processes,
            },
        )

    def history(self):
        """``{key: [one value per epoch]}`` of every epoch of the run."""
        keys = sorted({k for logs in self.epochs for k in logs})
        return {k: [logs.get(k, math.nan) for logs in self.epochs] for k in keys}


class _ValidationError(keras.callbacks.Callback):
    """Keeps the validation error of the last epoch (``inf`` if it is not finite)."""

    error = math.inf

    def on_epoch_end(self, epoch, logs=None):
        accuracy = (logs or {}).get("val_accuracy")
        loss = (logs or {}).get("loss")
        finite = accuracy is not None and loss is not None and math.isfinite(loss)
        self.error = float(1.0 - accuracy) if finite else math.inf


def _select_learning_rate(model, config, train_input, validation, model_dir, steps, verbose):
    """Section 4.1: the fine-tuning rate chosen by validation error, by successive halving.

    Every candidate of ``PAPER_LEARNING_RATES`` starts from the network's
    current (pretrained or initial) weights and trains ``config.selection_epochs``;
    the better half (by validation error) trains twice as many epochs more, and
    so on until one is left (4 -> 2 -> 1: 24 epochs of trials for the default
    ``selection_epochs=3``, the finalists trained 9 epochs). Short trials favour
    the largest rate, which is ahead early and behind later: on full MNIST,
    ``selection_epochs=1`` (finalists at 3 epochs) picked 0.1 for tanh without
    pretraining (2.45% test error, 1.9% at 0.01), ``3`` picks 0.01. The
    winner's weights are left in the network, which goes on training from
    them (``trained_epochs`` of its epochs are done). The outcome and the
    winner's weights are kept in ``selection.json`` and
    ``selection_weights.npz``, so a resumed run does not repeat the trials.
    """
    from keras_sparse_rect.models import PAPER_LEARNING_RATES, compile_for_paper

    path = os.path.join(model_dir, "selection.json")
    weights_path = os.path.join(model_dir, "selection_weights.npz")
    if os.path.exists(path) and os.path.exists(weights_path):
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
        if saved.get("candidates") == list(PAPER_LEARNING_RATES):
            with np.load(weights_path, allow_pickle=False) as arrays:
                model.set_weights([arrays[f"w{i}"] for i in range(len(arrays.files))])
            return saved
    initial = model.get_weights()
    state = {rate: initial for rate in PAPER_LEARNING_RATES}
    errors = {f"{rate:g}": [] for rate in PAPER_LEARNING_RATES}
    alive, epochs, trained = list(PAPER_LEARNING_RATES), config.selection_epochs, 0
    while True:
        for rate in alive:
            model.set_weights(state[rate])
            compile_for_paper(model, learning_rate=rate, **steps)
            tracker = _ValidationError()
            model.fit(
                *train_input,
                batch_size=None if train_input[1] is None else config.batch_size,
                epochs=epochs,
                validation_data=validation,
                validation_batch_size=max(config.batch_size, VALIDATION_BATCH_SIZE),
                callbacks=[tracker, keras.callbacks.TerminateOnNaN()],
                verbose=0,
            )
            state[rate] = model.get_weights()
            errors[f"{rate:g}"].append(tracker.error)
            if verbose:
                print(
                    f"Fine-tuning learning rate {rate:g}: validation error "
                    f"{100 * tracker.error:.2f}% after {trained + epochs} epoch(s)"
                )
        trained += epochs
        # Ties go to the larger rate; a diverged trial (inf) is last.
        alive.sort(key=lambda rate: (errors[f"{rate:g}"][-1], -rate))
        alive, epochs = alive[: (len(alive) + 1) // 2], 2 * epochs
        if len(alive) == 1:
            break
    best = alive[0]
    if not math.isfinite(errors[f"{best:g}"][-1]):  # every trial diverged
        best, trained = min(PAPER_LEARNING_RATES), 0
        state[best] = initial
    model.set_weights(state[best])
    selection = {
        "candidates": list(PAPER_LEARNING_RATES),
        "validation_error": {rate: values[-1] for rate, values in errors.items()},
        "validation_error_per_round": errors,
        "learning_rate": best,
        "selection_epochs": config.selection_epochs,
        "trained_epochs": trained,
    }
    with results.atomic_path(weights_path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{f"w{i}": w for i, w in enumerate(state[best])})
    results.write_json_atomic(path, selection)
    if verbose:
        print(f"Selected fine-tuning learning rate {best:g} ({trained} epochs trained).")
    return selection


def summary(result):
    """A short, human-readable summary of a result dict."""
    probed = min(PROBE_ROWS, result["dataset"]["labeled"], result["dataset"]["validation"])
    lines = (
        [
            "WARNING: training diverged (NaN loss); lower --learning_rate or "
            "--pretrain_learning_rate."
        ]
        if result.get("diverged")
        else []
    )
    pretraining = result.get("pretraining") or {}
    if pretraining.get("collapsed_layers"):
        dead = pretraining["dead_fraction_per_layer"]
        lines.append(
            "WARNING: pretraining collapsed "
            + ", ".join(
                f"{name} ({100 * dead.get(name, float('nan')):.1f}% of units dead)"
                for name in pretraining["collapsed_layers"]
            )
            + f", past the threshold of {100 * pretraining['collapse_threshold']:g}%."
        )
    if pretraining.get("dead_fraction_per_layer"):
        lines.append(
            "dead units after pretraining: "
            + ", ".join(
                f"{n} {100 * v:.1f}%" for n, v in pretraining["dead_fraction_per_layer"].items()
            )
        )
    selection = result.get("selection") or {}
    if selection:
        rates = pretraining.get("learning_rate_per_layer") or []
        lines.append(
            "selected (protocol=paper): "
            + (
                "pretraining rates " + ", ".join(f"{r:g}" for r in rates if r is not None) + "; "
                if any(r is not None for r in rates)
                else ""
            )
            + f"fine-tuning rate {selection['learning_rate']:g}, "
            + f"best epoch {selection.get('best_epoch', '?')}"
        )
    lines += [
        f"test error {100 * result['test_error']:.2f}%  "
        f"(validation {100 * result['validation_error']:.2f}%)  "
        f"on {result['dataset']['name']} ({result['dataset']['test']} test examples)",
        "sparsity per hidden layer: "
        + ", ".join(f"{n} {100 * v:.1f}%" for n, v in result["sparsity_per_layer"].items())
        + f"  (average {100 * result['sparsity']:.1f}%)",
        "dead units per hidden layer: "
        + ", ".join(f"{n} {v}" for n, v in result["dead_units_per_layer"].items())
        + f"  (never active on all {result['dataset']['labeled']} labeled training examples;"
        + f" the epoch logs' dead_units count on the first {probed})",
        f"wall time {result['timings_s']['total']:.1f} s "
        f"(training {result['timings_s']['train']:.1f} s)",
        f"results: {result['files']['result']}, model: {result['files']['model']}, "
        f"TensorBoard: {result['files']['tensorboard']}",
    ]
    return "\n".join(lines)
