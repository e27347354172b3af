"""The image experiment's evaluation and its ``result.json``: errors, sparsity, dead units.

Section 4.1 reports the test error of each network and, for rectifiers, the
average sparsity of the hidden layers (the fraction of exact zeros) and the
dead units (never active on the training set). :func:`evaluate` measures
them on a trained network, :func:`assemble_result` builds the result dict that
``result.json`` holds, and :func:`summary` prints it.
"""

import numpy as np

from keras_sparse_rect import results
from keras_sparse_rect.callbacks.history import layer_values

#: Examples on which the per-epoch monitors measure sparsity and dead units.
PROBE_ROWS = 2000


def evaluate(model, data, x_train, batch_size):
    """Validation and test error, sparsity and dead units of a trained network.

    Args:
        model: the trained network.
        data: the ``ImageDataset``.
        x_train: the labeled training examples (for the dead units).
        batch_size: the batch size of the evaluation passes.

    Returns:
        A dict: ``test_probabilities``, ``test_predictions``, ``test_correct``
        (booleans per test example), ``validation_error``, ``sparsity`` (the
        average and ``sparsity/<layer>``), ``dead_units`` (``dead_units/<layer>``)
        and ``layer_names``.
    """
    from keras_sparse_rect.callbacks import DeadUnitMonitor
    from keras_sparse_rect.metrics import ActivationSparsity
    from keras_sparse_rect.utils import hidden_activation_model

    val_probs = model.predict(data.x_val, batch_size=batch_size, verbose=0)
    test_probs = model.predict(data.x_test, batch_size=batch_size, verbose=0)
    test_pred = np.argmax(test_probs, axis=-1)
    val_pred = np.argmax(val_probs, axis=-1)
    probe, names = hidden_activation_model(model)
    sparsity = ActivationSparsity(layer_names=names)
    for start in range(0, data.x_test.shape[0], batch_size):
        outputs = probe(data.x_test[start : start + batch_size], training=False)
        sparsity.update_state(outputs if isinstance(outputs, (list, tuple)) else [outputs])
    dead = DeadUnitMonitor(x_train, layer_names=None, batch_size=batch_size)
    dead.set_model(model)
    return {
        "test_probabilities": test_probs,
        "test_predictions": test_pred,
        "test_correct": test_pred == np.asarray(data.y_test).ravel(),
        "validation_error": float(np.mean(val_pred != np.asarray(data.y_val).ravel())),
        "sparsity": {k: float(v) for k, v in sparsity.result().items()},
        "dead_units": dead.compute(),
        "layer_names": names,
    }


def pretraining_summary(pretraining, names, config):
    """What ``result.json`` says of the greedy pretraining (``None`` without it)."""
    if pretraining is None:
        return None
    return {
        "dead_fraction_per_layer": {
            names[k - 1]: v for k, v in sorted(pretraining.dead_fractions.items())
        },
        "collapsed_layers": [names[k - 1] for k in pretraining.collapsed_layers],
        "collapse_threshold": config.collapse_threshold,
        "eligible_dead_fraction": config.eligible_dead_fraction,
        "learning_rate_per_layer": layer_values(pretraining.history, "learning_rate", len(names)),
    }


def assemble_result(config, data, labeled, evaluation, history, pretraining, selection, extra):
    """The result dict of one run (``result.json``).

    Args:
        config: the ``ImageExperimentConfig``.
        data: the ``ImageDataset``.
        labeled: how many labeled training examples the run used.
        evaluation: :func:`evaluate`'s dict.
        history: ``{key: [per epoch]}`` of every epoch of the run.
        pretraining: the ``GreedyLayerwisePretraining`` callback, or ``None``.
        selection: the fine-tuning rate selection (``{}`` without it).
        extra: ``timings_s``, ``replicas``, ``files`` and ``diverged``.
    """
    names = evaluation["layer_names"]
    sparsity = evaluation["sparsity"]
    collapsed = bool(pretraining is not None and pretraining.collapsed_layers)
    diverged = extra["diverged"]
    if pretraining is not None:
        history = {**pretraining.history, **history}
    return {
        "config": config.to_dict(),
        "dataset": {
            "name": config.dataset,
            "train": int(data.x_train.shape[0]),
            "labeled": int(labeled),
            "validation": int(data.x_val.shape[0]),
            "test": int(data.x_test.shape[0]),
            "num_classes": int(data.num_classes),
            "input_shape": list(data.input_shape),
        },
        "test_error": float(1.0 - np.mean(evaluation["test_correct"])),
        "diverged": diverged,
        "collapsed": collapsed,
        "status": "diverged" if diverged else ("collapsed" if collapsed else "ok"),
        "pretraining": pretraining_summary(pretraining, names, config),
        "selection": selection,
        "validation_error": evaluation["validation_error"],
        "sparsity": sparsity["sparsity"],
        "sparsity_per_layer": {n: sparsity[f"sparsity/{n}"] for n in names},
        "dead_units_per_layer": {n: evaluation["dead_units"][f"dead_units/{n}"] for n in names},
        "history": history,
        "timings_s": extra["timings_s"],
        "replicas": extra["replicas"],
        "environment": results.environment(),
        "files": extra["files"],
    }


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
