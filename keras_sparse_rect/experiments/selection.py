"""Section 4.1's choice of the fine-tuning learning rate, by validation error.

The paper picks hyper-parameters by validation error; under ``protocol="paper"``
:func:`select_learning_rate` tries every rate of ``PAPER_LEARNING_RATES`` by
successive halving before the run's own training.
"""

import math
import os

import keras
import numpy as np

from keras_sparse_rect import results

#: Batch size of the validation pass after each epoch: Keras would use the training
#: batch (10), which makes validating 10,000 digits cost a fifth of an epoch.
VALIDATION_BATCH_SIZE = 256
SELECTION_FILE = "selection.json"
SELECTION_WEIGHTS_FILE = "selection_weights.npz"


def fit_arguments(config, train_input, validation):
    """The arguments of ``model.fit`` shared by the trials and the run's own training."""
    return {
        "batch_size": None if train_input[1] is None else config.batch_size,
        "validation_data": validation,
        "validation_batch_size": max(config.batch_size, VALIDATION_BATCH_SIZE),
    }


def select_learning_rate(model, config, train_input, validation, model_dir, steps, verbose):
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
    ``selection_weights.npz`` (the weights first), so a resumed run does not
    repeat the trials.

    Args:
        model: the compiled network (its weights are the trials' start).
        config: the run's ``ImageExperimentConfig``.
        train_input: ``(x, y)``, or ``(dataset, None)``.
        validation: ``(x_val, y_val)``.
        model_dir: where the outcome is kept.
        steps: ``{"steps_per_execution": n}`` for ``compile_for_paper``.
        verbose: print one line per trial when true.

    Returns:
        ``{"candidates", "validation_error", "validation_error_per_round",
        "learning_rate", "selection_epochs", "trained_epochs"}``.
    """
    from keras_sparse_rect.callbacks import ValidationError
    from keras_sparse_rect.models import PAPER_LEARNING_RATES, compile_for_paper

    path = os.path.join(model_dir, SELECTION_FILE)
    weights_path = os.path.join(model_dir, SELECTION_WEIGHTS_FILE)
    saved = results.read_json(path)
    if isinstance(saved, dict) and os.path.exists(weights_path):
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
            tracker = ValidationError()
            model.fit(
                *train_input,
                epochs=epochs,
                callbacks=[tracker, keras.callbacks.TerminateOnNaN()],
                verbose=0,
                **fit_arguments(config, train_input, validation),
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
