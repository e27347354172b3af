"""The sentiment experiment of section 4.2 (Table 2): deep rectifier networks on sparse text.

:func:`run_sentiment_experiment` is what ``python -m apps.sentiment_experiment``
runs. For each network of Table 2 (no hidden layer, rectifier with 1 or 3
hidden layers, tanh with 3) it

1. pretrains the hidden layers once, greedily, as stacked denoising
   autoencoders on every review (labeled and unlabeled; section 4.2: "Unsupervised
   pre-training of the networks employs both labeled and unlabeled training
   reviews"), in one
   :class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining` call: the
   first layer as a
   :class:`~keras_sparse_rect.models.SparseInputDenoisingAutoencoder` (binary
   salt-and-pepper noise, sigmoid cross-entropy, optional reconstruction
   sampling), the layers above as denoising autoencoders (masking
   noise; rectifier activations scaled into [0, 1] with a sigmoid cross-entropy,
   section 3.2 strategy 2; tanh activations with the tanh cross-entropy);
2. fine-tunes a copy of the pretrained network on each training split of a
   k-fold cross-validation of the labeled reviews, with plain SGD and the L1
   penalty, and evaluates it on the held-out fold: the RMSE of the expected
   rating (:func:`~keras_sparse_rect.metrics.expected_rating`) and the sparsity
   of the hidden layers (fraction of exact zeros, averaged over layers; for the
   network without hidden layer, the sparsity of its input).

The bag of words stays sparse from the vectorizer to the first layer
(:class:`~keras_sparse_rect.layers.SparseDense`). Results go to
``output_dir/table2.md`` (the paper's layout) and ``output_dir/result.json``,
each written atomically; the JSON is rewritten after each network, so a long
run shows its progress.
"""

import time

import keras
import numpy as np

from keras_sparse_rect import results
from keras_sparse_rect._validation import check_bool
from keras_sparse_rect.callbacks.history import layer_entries
from keras_sparse_rect.data.folds import kfold_splits
from keras_sparse_rect.experiments.configs import MODELS, SentimentConfig  # noqa: F401
from keras_sparse_rect.experiments.run_folder import RunFolder
from keras_sparse_rect.experiments.sentiment_network import (  # noqa: F401 (public here too)
    OUTPUT_FILES,
    build_sentiment_network,
    compile_sentiment_network,
    load_stack,
    pretrain_stack,
    save_stack,
)
from keras_sparse_rect.experiments.table2 import (  # noqa: F401 (public here too)
    summary,
    table2_markdown,
    write_results,
)
from keras_sparse_rect.metrics import expected_rating
from keras_sparse_rect.models.deep_network import (
    copy_hidden_weights,
    hidden_layer_names,
)
from keras_sparse_rect.sparse import sparse_batches
from keras_sparse_rect.utils import hidden_activation_model, quiet_retracing

# Fine-tuning and evaluation -------------------------------------------------------------


def rmse(predictions, truth):
    """Root mean squared error."""
    predictions, truth = np.asarray(predictions, "float64"), np.asarray(truth, "float64")
    return float(np.sqrt(np.mean((predictions - truth) ** 2)))


def _hidden_sparsity(model, hidden_layers, x, batch_size):
    """Fraction of exact zeros of each hidden layer's output on ``x``."""
    names = [hidden_layer_names(i)[1] for i in range(1, hidden_layers + 1)]
    probe, _ = hidden_activation_model(model, names)
    outputs = probe.predict(sparse_batches(x, batch_size=batch_size), verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [float(np.mean(np.asarray(h) == 0)) for h in outputs]


def run_fold(config, name, reviews, train, test, pretrained, fold, verbose=0):
    """Fine-tunes one network on ``train`` rows, evaluates it on ``test`` rows; returns a dict."""
    _, activation, hidden_layers = MODELS[name]
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed + fold)
    model = build_sentiment_network(
        reviews.x.shape[1],
        reviews.scale.num_classes,
        hidden_layers,
        config.hidden_units,
        activation or "rectifier",
        config.l1,
        seed=config.seed + 1000 * (fold + 1),
    )
    copy_hidden_weights(pretrained or [], model)
    compile_sentiment_network(model, config.learning_rate)
    model.fit(
        sparse_batches(
            reviews.x[train],
            reviews.y[train],
            batch_size=config.batch_size,
            shuffle=True,
            seed=config.seed + fold,
        ),
        epochs=config.epochs,
        shuffle=False,  # sparse_batches shuffles (Keras cannot shuffle a Dataset)
        verbose=verbose,
    )
    x_test = reviews.x[test]
    probabilities = model.predict(sparse_batches(x_test, batch_size=256), verbose=0)
    values = reviews.scale.values
    predicted = np.asarray(keras.ops.convert_to_numpy(expected_rating(probabilities, values)))
    if hidden_layers:
        per_layer = _hidden_sparsity(model, hidden_layers, x_test, 256)
    else:
        per_layer = [1.0 - x_test.nnz / (x_test.shape[0] * x_test.shape[1])]
    return {
        "fold": fold,
        "rmse": rmse(predicted, reviews.ratings[test]),
        "accuracy": float(np.mean(np.argmax(probabilities, axis=1) == reviews.y[test])),
        "sparsity": float(np.mean(per_layer)),
        "sparsity_per_layer": per_layer,
        "train_examples": int(len(train)),
        "test_examples": int(len(test)),
        "seconds": time.perf_counter() - started,
    }


def _summary_stats(folds):
    out = {}
    for key in ("rmse", "accuracy", "sparsity"):
        values = np.array([f[key] for f in folds], dtype="float64")
        out[f"{key}_mean"] = float(values.mean())
        out[f"{key}_std"] = float(values.std())
    return out


def run_sentiment_experiment(
    config, reviews, data_name="reviews", verbose=0, log=print, restart=False
):
    """Runs every network of ``config.models``; returns the result dict (also on disk).

    ``config.output_dir`` is a
    :class:`~keras_sparse_rect.experiments.run_folder.RunFolder`: a finished run
    of the same configuration and data is shown, not rerun; an unfinished one
    resumes at its first missing fold; one of another configuration or data is
    refused; a second process is refused.

    Args:
        config: a :class:`SentimentConfig`.
        reviews: :class:`~keras_sparse_rect.data.reviews.Reviews` (labeled, and
            optionally unlabeled, reviews as sparse bags of words).
        data_name: how ``table2.md`` names the data.
        verbose: Keras verbosity of each ``fit``.
        log: called with one line per finished fold and network (``None``: silent).
        restart: delete the run in ``config.output_dir`` (finished or not) and
            start afresh.

    Returns:
        A dict with ``config``, ``data``, ``models`` (per network: per-fold
        results and mean/std of RMSE, accuracy and sparsity) and ``environment``.

    Raises:
        ValueError: an invalid ``config``.
        RunConflictError: ``output_dir`` holds a run of another configuration
            or other data.
        RunLockedError: another process is running in ``output_dir``.
    """
    config.validate()
    check_bool("restart", restart)
    log = log or (lambda line: None)
    started = time.perf_counter()
    result = {
        "config": config.to_dict(),
        "data": _data_summary(reviews, data_name),
        "models": {},
        "environment": results.environment(),
        "complete": False,
    }
    folder = RunFolder(
        config.output_dir,
        {"config": result["config"], "data": result["data"]},
        files=OUTPUT_FILES,
        identity=lambda saved: {"config": saved.get("config"), "data": saved.get("data")},
        started=started,
    )
    finished = None if restart else folder.finished()
    if finished is not None:
        log(f"{config.output_dir} holds this run, finished: its result is shown")
        return finished
    with folder.claim(restart=restart), quiet_retracing():
        return _run(config, reviews, result, folder, verbose, log)


def _data_summary(reviews, data_name):
    return {
        "name": data_name,
        "sources": reviews.sources,
        "labeled": int(reviews.x.shape[0]),
        "unlabeled": int(0 if reviews.x_unlabeled is None else reviews.x_unlabeled.shape[0]),
        "terms": int(reviews.x.shape[1]),
        "density": reviews.density,
        "scale": list(reviews.scale.labels),
        "rating_values": list(reviews.scale.values),
        "bad_rows_skipped": len(reviews.bad_rows),
    }


def _run(config, reviews, result, folder, verbose, log):
    splits = kfold_splits(reviews.x.shape[0], config.folds, seed=config.seed)
    pretraining_inputs = reviews.pretraining_inputs()
    # An unfinished result.json of this run (the claim refused any other): its folds are kept.
    previous = results.read_json(folder.join("result.json"))
    stacks = {}
    for name in config.models:
        title, activation, hidden_layers = MODELS[name]
        model_started = time.perf_counter()
        pretrained, history = None, {}
        if hidden_layers and config.pretrain:
            deepest = max(MODELS[m][2] for m in config.models if MODELS[m][1] == activation)
            if activation not in stacks:
                # A stack on disk is this run's only if its result.json is (same config, data).
                stacks[activation] = (
                    load_stack(folder.path, activation, deepest) if previous else None
                )
            if stacks[activation] is None:
                reviews_count = pretraining_inputs.shape[0]
                log(f"pretraining {deepest} {activation} layer(s) on {reviews_count} reviews")
                stacks[activation] = pretrain_stack(
                    config,
                    pretraining_inputs,
                    activation,
                    deepest,
                    reviews.scale.num_classes,
                    verbose=verbose,
                )
                save_stack(folder.path, activation, *stacks[activation])
            weights, history = stacks[activation]
            pretrained = weights[:hidden_layers]
        # Folds finished by an earlier (killed) run of the same configuration are kept.
        folds = list(((previous or {}).get("models", {}).get(name) or {}).get("folds", []))
        if folds:
            log(f"{name}: {len(folds)} of {len(splits)} folds finished before, resuming")
        for fold, (train, test) in enumerate(splits):
            if fold < len(folds):
                continue
            folds.append(run_fold(config, name, reviews, train, test, pretrained, fold, verbose))
            log(
                f"{name} fold {fold + 1}/{len(splits)}: RMSE {folds[-1]['rmse']:.4f}, "
                f"sparsity {100 * folds[-1]['sparsity']:.1f}%"
            )
            result["models"][name] = _model_entry(
                name, folds, len(splits), pretrained, history, model_started
            )
            folder.record()  # every process's wall time, kept across kills
            folder.commit()
            result["seconds"] = folder.timings()["total"]
            write_results(result, folder.path)
        result["models"][name] = _model_entry(
            name, folds, len(splits), pretrained, history, model_started
        )
        write_results(result, folder.path)
    result["seconds"] = folder.timings()["total"]
    result["complete"] = True
    table = table2_markdown(result) if result["models"] else None
    return folder.finish(result, {"table2.md": lambda tmp: _write(tmp, table)} if table else {})


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _model_entry(name, folds, num_folds, pretrained, history, model_started):
    title, activation, hidden_layers = MODELS[name]
    return {
        "title": title,
        "activation": activation,
        "hidden_layers": hidden_layers,
        "pretrained": pretrained is not None,
        "folds": folds,
        "complete": len(folds) == num_folds,
        **_summary_stats(folds),
        "pretraining_history": layer_entries(history, hidden_layers),
        "seconds": time.perf_counter() - model_started,
    }
