"""How each Figure 3 network is trained: one run to its best validation error, cached pretraining.

Section 4.1's training (SGD at a constant rate, mini-batches of 10) with early
stopping on the whole validation set, keeping the best epoch's weights
(:func:`fine_tune`). A small labeled set gets as many updates per epoch as a
set of ``min_epoch_examples`` (its examples repeated, reshuffled each epoch).
Greedy layer-wise pretraining (section 3.2) on the whole training set runs once
per network configuration and is cached on disk (:func:`pretrained_weights`).

Each run keeps ``result.json`` (settings, errors, sparsity, best epoch,
updates, wall time) and ``test_predictions.npy`` in its folder; a finished run
of the same settings is reused, one of other settings refused.
"""

import dataclasses
import math
import os
import time

import numpy as np

from keras_sparse_rect import results
from keras_sparse_rect._validation import check_int
from keras_sparse_rect.experiments.run_folder import BACKUP_FOLDER, RunFolder
from keras_sparse_rect.experiments.run_lock import holding

#: Settings a finished run may differ in and still be the same run (trained on, not refused).
RESUMABLE = ("epochs", "patience")


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How each Figure 3 network is trained to its best validation error.

    Args:
        epochs: most epochs of fine-tuning.
        patience: stop this many epochs after the best validation accuracy;
            the best epoch's weights are kept.
        min_epoch_examples: an epoch of a smaller labeled set repeats its
            examples up to at least this many (updates scaled for small fractions).
    """

    epochs: int = 30
    patience: int = 5
    min_epoch_examples: int = 5000

    def __post_init__(self):
        check_int("epochs", self.epochs, 1)
        check_int("patience", self.patience, 1)
        check_int("min_epoch_examples", self.min_epoch_examples, 1)


def run_settings(config, protocol, **extra):
    """The settings that define one run (what a reused run must match)."""
    keep = ("dataset", "activation", "hidden_units", "l1", "sign_flip", "learning_rate")
    keep += ("batch_size", "seed")
    settings = {k: v for k, v in config.to_dict().items() if k in keep}
    return {**settings, **dataclasses.asdict(protocol), **extra}


def _build(config, data):
    import keras

    from keras_sparse_rect.experiments.image import build_network

    keras.utils.set_random_seed(config.seed)
    return build_network(config, data)


def pretrained_weights(config, data, folder, verbose=0):
    """The network of ``config`` pretrained on all of ``data.x_train``, cached in ``folder``.

    Greedy layer-wise pretraining (section 3.2) with ``config``'s noise,
    epochs and per-layer ``pretrain_learning_rate``; the weights are kept in
    ``folder/pretrained.npz`` and the summary in ``folder/pretraining.json``, and
    loaded from there when the settings match. A killed pretraining resumes from
    its last finished layer (``folder/checkpoints``).

    Returns:
        ``(weights, summary)``: the list of the network's weights and a dict
        (dead fraction per layer, collapsed layers, wall time).
    """
    every = config.to_dict()
    settings = {k: every[k] for k in ("dataset", "activation", "hidden_units", "l1", "sign_flip")}
    settings.update(
        {k: every[k] for k in ("batch_size", "seed", "noise", "pretrain_epochs")},
        pretrain_learning_rate=every["pretrain_learning_rate"],
        unlabeled=int(data.x_train.shape[0]),
    )
    weights_path, summary_path = _pretraining_paths(folder)
    summary = results.read_json(summary_path)
    if summary and summary.get("settings") == settings and os.path.exists(weights_path):
        with np.load(weights_path, allow_pickle=False) as arrays:
            return [arrays[f"w{i}"] for i in range(len(arrays.files))], summary
    os.makedirs(folder, exist_ok=True)
    with holding(folder):
        return _pretrain(config, data, folder, settings, verbose)


def _pretraining_paths(folder):
    """The cached weights and summary of :func:`pretrained_weights` in ``folder``."""
    return os.path.join(folder, "pretrained.npz"), os.path.join(folder, "pretraining.json")


def _pretrain(config, data, folder, settings, verbose):
    from keras_sparse_rect.callbacks import CollapsePolicy, GreedyLayerwisePretraining
    from keras_sparse_rect.models import steps_per_execution_for

    weights_path, summary_path = _pretraining_paths(folder)
    started = time.perf_counter()
    model = _build(config, data)
    pretraining = GreedyLayerwisePretraining(
        data.x_train,
        epochs=config.pretrain_epochs,
        learning_rate=list(config.per_layer("pretrain_learning_rate")),
        noise=list(config.per_layer("noise")),
        batch_size=config.batch_size,
        checkpoint_dir=os.path.join(folder, "checkpoints"),
        collapse=CollapsePolicy(threshold=config.collapse_threshold),
        steps_per_execution=steps_per_execution_for(data.x_train.shape[0], config.batch_size),
        seed=config.seed,
        verbose=verbose,
    )
    pretraining.pretrain(model)
    weights = model.get_weights()
    summary = {
        "settings": settings,
        "dead_fraction_per_layer": {str(k): v for k, v in pretraining.dead_fractions.items()},
        "collapsed_layers": list(pretraining.collapsed_layers),
        "history": pretraining.history,
        "wall_time_s": round(time.perf_counter() - started, 1),
        "examples": int(data.x_train.shape[0]) * len(config.hidden_units) * config.pretrain_epochs,
    }
    with results.atomic_path(weights_path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{f"w{i}": w for i, w in enumerate(weights)})
    results.write_json_atomic(summary_path, summary)
    return weights, summary


def fine_tune(
    config, data, labeled, protocol, folder, initial_weights=None, verbose=0, train=True, **extra
):
    """Trains one network on ``data.x_train[labeled]`` to its best validation error.

    Reuses ``folder/result.json`` when it holds a finished run of the same
    settings; raises :class:`~keras_sparse_rect.experiments.image.RunConflictError`
    when it holds another's. ``epochs`` and ``patience`` may differ: a finished
    run trains again (only when ``train``; gathered as it is otherwise) when
    ``protocol.patience`` is larger than its own (it might not have stopped
    yet), or when the cap stopped it before its patience ran out (``capped``)
    and ``protocol.epochs`` is larger. ``initial_weights`` is
    a list of weights, or a function returning one (called only when the run
    trains, e.g. to pretrain on first need).

    Returns:
        The result dict, plus ``"test_correct"`` (booleans per test example);
        ``None`` when the run is not finished and ``train`` is false.
    """
    settings = run_settings(config, protocol, labeled=int(len(labeled)), **extra)
    path = os.path.join(folder, "result.json")
    predictions = os.path.join(folder, "test_predictions.npy")
    y_test = np.asarray(data.y_test).ravel()
    finished = results.read_json(path)
    if finished is not None and os.path.exists(predictions):
        if _without_epochs(finished.get("settings")) != _without_epochs(settings):
            from keras_sparse_rect.experiments.image import RunConflictError

            raise RunConflictError(
                f"{folder} holds a run of other settings; delete it or give another model_dir.",
                model_dir=folder,
                what="a run of other settings",
            )
        old = finished["settings"]
        longer = protocol.patience > old["patience"] or (
            capped(finished) and protocol.epochs > old["epochs"]
        )
        if not (train and longer):
            correct = np.load(predictions, allow_pickle=False) == y_test
            return {**finished, "test_correct": correct, "reused": True}
    if not train:
        return None
    run = RunFolder(
        folder,
        settings,
        resumable=RESUMABLE,
        required=("test_predictions.npy",),
        identity=lambda result: result.get("settings"),
    )
    with run.claim():
        result, test_predictions = _fine_tune(
            config, data, labeled, protocol, run, initial_weights, verbose
        )
    return {**result, "test_correct": test_predictions == y_test}


def _fine_tune(config, data, labeled, protocol, run, initial_weights, verbose):
    import keras

    from keras_sparse_rect.experiments.run_callbacks import RunBackup, RunProgress
    from keras_sparse_rect.models import compile_for_paper, steps_per_execution_for

    started = time.perf_counter()
    model = _build(config, data)
    if callable(initial_weights):
        initial_weights = initial_weights()
    if initial_weights is not None:
        model.set_weights(initial_weights)
    labeled = np.asarray(labeled)
    if len(labeled) == data.x_train.shape[0]:
        x, y = data.x_train, data.y_train
    else:
        repeats = max(1, math.ceil(protocol.min_epoch_examples / len(labeled)))
        index = np.tile(labeled, repeats)
        x, y = data.x_train[index], data.y_train[index]
    steps = steps_per_execution_for(x.shape[0], config.batch_size)
    compile_for_paper(model, learning_rate=config.learning_rate, steps_per_execution=steps)
    stopping = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=protocol.patience, restore_best_weights=True
    )
    history = model.fit(
        x,
        y,
        batch_size=config.batch_size,
        epochs=protocol.epochs,
        validation_data=(data.x_val, data.y_val),
        validation_batch_size=256,
        # The backup holds the early stopping's state: a killed run resumes at its last epoch.
        callbacks=[
            RunProgress(run),
            RunBackup(run.join(BACKUP_FOLDER), stopping),
            keras.callbacks.TerminateOnNaN(),
        ],
        verbose=verbose,
    )
    trained = time.perf_counter()
    evaluation = evaluate(model, data, data.x_train[labeled])
    logs = run.history() or history.history  # every process's epochs
    epochs = len(logs.get("loss", []))
    result = {
        "settings": run.config,
        **{k: v for k, v in evaluation.items() if k != "test_predictions"},
        "best_epoch": int(stopping.best_epoch) + 1,
        "epochs_trained": epochs,
        "epoch_examples": int(x.shape[0]),
        "updates": epochs * math.ceil(x.shape[0] / config.batch_size),
        "history": {k: [float(v) for v in vs] for k, vs in logs.items()},
        "train_examples_per_s": round(
            len(history.history.get("loss", [])) * x.shape[0] / max(trained - started, 1e-9), 1
        ),
        "wall_time_s": round(time.perf_counter() - started, 1),
        "timings_s": run.timings(),
        "environment": results.environment(),
    }

    def write_predictions(tmp):
        with open(tmp, "wb") as f:
            np.save(f, evaluation["test_predictions"].astype("int32"), allow_pickle=False)

    result = run.finish(result, files={"test_predictions.npy": write_predictions})
    return result, evaluation["test_predictions"]


def evaluate(model, data, x_labeled, batch_size=256):
    """Validation and test error, the exact sparsity of the hidden layers on the test set, and
    the dead units on the labeled examples (the image experiment's evaluation)."""
    from keras_sparse_rect.experiments.image_result import evaluate as evaluate_run

    measured = evaluate_run(model, data, x_labeled, batch_size)
    names = measured["layer_names"]
    return {
        "validation_error": measured["validation_error"],
        "test_error": float(1.0 - np.mean(measured["test_correct"])),
        "diverged": bool(not np.all(np.isfinite(measured["test_probabilities"]))),
        "sparsity": measured["sparsity"]["sparsity"],
        "sparsity_per_layer": {n: measured["sparsity"][f"sparsity/{n}"] for n in names},
        "dead_units_per_layer": {n: measured["dead_units"][f"dead_units/{n}"] for n in names},
        "test_predictions": measured["test_predictions"],
    }


def capped(result):
    """Whether a finished run was stopped by the epoch cap before its patience ran out.

    >>> capped({"best_epoch": 27, "epochs_trained": 30, "settings": {"epochs": 30, "patience": 5}})
    True
    """
    settings = result["settings"]
    trained = result["epochs_trained"]
    return trained >= settings["epochs"] and result["best_epoch"] + settings["patience"] > trained


def _without_epochs(settings):
    return {k: v for k, v in (settings or {}).items() if k not in RESUMABLE}
