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

import json
import os
import time

import keras
import numpy as np

from keras_sparse_rect import results
from keras_sparse_rect._validation import check_int
from keras_sparse_rect.data.folds import kfold_splits
from keras_sparse_rect.experiments.configs import MODELS, SentimentConfig  # noqa: F401
from keras_sparse_rect.layers import BinaryFlipNoise
from keras_sparse_rect.metrics import expected_rating
from keras_sparse_rect.models.deep_network import (
    build_deep_network,
    compile_for_paper,
    copy_hidden_weights,
    hidden_layer_names,
    hidden_weights,
)
from keras_sparse_rect.sparse import sparse_batches
from keras_sparse_rect.utils import hidden_activation_model, quiet_retracing


def build_sentiment_network(
    num_terms,
    num_classes,
    hidden_layers,
    hidden_units=5000,
    activation="rectifier",
    l1=0.0,
    seed=None,
):
    """A network of Table 2: sparse bag of words -> hidden layers -> softmax over the ratings.

    It is :func:`~keras_sparse_rect.models.build_deep_network` with a sparse
    input (the first layer a :class:`~keras_sparse_rect.layers.SparseDense`: only
    the kernel rows of the review's terms are read), ``hidden_layers`` layers of
    ``hidden_units`` plain (not sign-flipped) units and a per-layer L1; with
    ``hidden_layers=0`` it is softmax regression on the bag of words.

    Args:
        num_terms: input width (vocabulary size).
        num_classes: number of ratings.
        hidden_layers: 0, 1 or more.
        hidden_units: units per hidden layer: one, or one per layer.
        activation: ``"rectifier"``, ``"softplus"`` or ``"tanh"``.
        l1: one coefficient, or one per hidden layer (extra values are ignored).
        seed: int seed of the weights.

    Example:

    >>> from keras_sparse_rect.experiments.sentiment import build_sentiment_network
    >>> model = build_sentiment_network(5000, 5, hidden_layers=3, hidden_units=5000)
    """
    check_int("hidden_layers", hidden_layers, 0)
    units = tuple(hidden_units) if isinstance(hidden_units, (list, tuple)) else (hidden_units,)
    if len(units) == 1:
        units = units * hidden_layers
    elif len(units) < hidden_layers:
        raise ValueError(
            f"`hidden_units` needs one value or one per hidden layer; got hidden_units={units!r}."
        )
    if isinstance(l1, (list, tuple)):
        if len(l1) < hidden_layers:
            raise ValueError(f"`l1` needs one value per hidden layer; got l1={l1!r}.")
        l1 = tuple(l1[:hidden_layers])
    return build_deep_network(
        (num_terms,),
        num_classes,
        hidden_units=units[:hidden_layers],
        activation=activation,
        sign_flip=False,
        l1=l1,
        seed=seed,
        sparse=True,
        name=f"{activation}_{hidden_layers}" if hidden_layers else "no_hidden",
    )


def compile_sentiment_network(model, learning_rate, metrics=None):
    """:func:`~keras_sparse_rect.models.compile_for_paper` as the experiment trains: no metrics."""
    compile_for_paper(model, learning_rate, metrics=metrics, steps_per_execution=50)


# Pretraining -------------------------------------------------------------------------


def pretrain_stack(config, inputs, activation, hidden_layers, num_classes, verbose=0):
    """Greedy pretraining of ``hidden_layers`` layers on ``inputs`` (CSR); returns their weights.

    One :class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining` call:
    layer 1 is a :class:`~keras_sparse_rect.models.SparseInputDenoisingAutoencoder`
    on the sparse input (``BinaryFlipNoise``, reconstruction sampling), layers 2
    and 3 denoising autoencoders with masking noise on the cached representation
    (section 3.2 strategy 2 for rectifiers: ``scaled_sigmoid_cross_entropy``).

    Returns:
        ``(weights, history)``: ``[(kernel, bias), ...]`` per hidden layer, and
        the pretraining history (``pretrain/layer_<k>/...``).
    """
    from keras_sparse_rect.callbacks.pretraining import GreedyLayerwisePretraining

    model = build_sentiment_network(
        inputs.shape[1],
        num_classes,
        hidden_layers,
        config.hidden_units,
        activation,
        config.l1,
        config.seed,
    )
    history = {}
    if config.pretrain_epochs > 0:
        reconstruction = (
            "sigmoid_cross_entropy" if activation == "tanh" else "scaled_sigmoid_cross_entropy"
        )
        first_noise = BinaryFlipNoise(config.pepper_rate, config.salt_rate, seed=config.seed)
        callback = GreedyLayerwisePretraining(
            inputs,
            epochs=config.pretrain_epochs,
            learning_rate=list(config.pretrain_learning_rates[:hidden_layers]),
            noise=[first_noise, *config.masking_noise][:hidden_layers],
            reconstruction=["auto"] + [reconstruction] * (hidden_layers - 1),
            batch_size=config.batch_size,
            reconstruction_sampling=config.reconstruction_sampling,
            sampled_zeros=config.sampled_zeros,
            steps_per_execution=50,
            seed=config.seed,
            verbose=verbose,
        )
        history = callback.pretrain(model)
    return [(kernel, bias) for kernel, bias, _ in hidden_weights(model)], history


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


def _layers_history(history, hidden_layers):
    """The entries ``pretrain/layer_<k>/...`` of ``history`` for k <= ``hidden_layers``."""
    keep = {f"pretrain/layer_{k}/" for k in range(1, hidden_layers + 1)}
    return {key: value for key, value in history.items() if key[: key.rindex("/") + 1] in keep}


def _summary_stats(folds):
    out = {}
    for key in ("rmse", "accuracy", "sparsity"):
        values = np.array([f[key] for f in folds], dtype="float64")
        out[f"{key}_mean"] = float(values.mean())
        out[f"{key}_std"] = float(values.std())
    return out


def run_sentiment_experiment(config, reviews, data_name="reviews", verbose=0, log=print):
    """Runs every network of ``config.models``; returns the result dict (also on disk).

    Args:
        config: a :class:`SentimentConfig`.
        reviews: :class:`~keras_sparse_rect.data.reviews.Reviews` (labeled, and
            optionally unlabeled, reviews as sparse bags of words).
        data_name: how ``table2.md`` names the data.
        verbose: Keras verbosity of each ``fit``.
        log: called with one line per finished fold and network (``None``: silent).

    Returns:
        A dict with ``config``, ``data``, ``models`` (per network: per-fold
        results and mean/std of RMSE, accuracy and sparsity) and ``environment``.
    """
    config.validate()
    with quiet_retracing():
        return _run(config, reviews, data_name, verbose, log or (lambda line: None))


def _run(config, reviews, data_name, verbose, log):
    started = time.perf_counter()
    splits = kfold_splits(reviews.x.shape[0], config.folds, seed=config.seed)
    pretraining_inputs = reviews.pretraining_inputs()
    result = {
        "config": config.to_dict(),
        "data": {
            "name": data_name,
            "sources": reviews.sources,
            "labeled": int(reviews.x.shape[0]),
            "unlabeled": int(0 if reviews.x_unlabeled is None else reviews.x_unlabeled.shape[0]),
            "terms": int(reviews.x.shape[1]),
            "density": reviews.density,
            "scale": list(reviews.scale.labels),
            "rating_values": list(reviews.scale.values),
            "bad_rows_skipped": len(reviews.bad_rows),
        },
        "models": {},
        "environment": results.environment(),
        "complete": False,
    }
    previous = _previous_run(config.output_dir, result)
    if previous and previous.get("complete"):
        log(f"{config.output_dir} holds this run, finished: its result is shown")
        return previous
    earlier_seconds = previous.get("seconds", 0.0) if previous else 0.0
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
                    _load_stack(config.output_dir, activation, deepest) if previous else None
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
                _save_stack(config.output_dir, activation, *stacks[activation])
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
            result["seconds"] = earlier_seconds + time.perf_counter() - started
            write_results(result, config.output_dir)
        result["models"][name] = _model_entry(
            name, folds, len(splits), pretrained, history, model_started
        )
        write_results(result, config.output_dir)
    result["seconds"] = earlier_seconds + time.perf_counter() - started
    result["complete"] = True
    write_results(result, config.output_dir)
    return result


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
        "pretraining_history": _layers_history(history, hidden_layers),
        "seconds": time.perf_counter() - model_started,
    }


def _previous_run(output_dir, result):
    """The ``result.json`` in ``output_dir`` of the same configuration and data, if any."""
    try:
        with open(os.path.join(output_dir, "result.json"), encoding="utf-8") as f:
            previous = json.load(f)
    except (OSError, ValueError):
        return None
    if previous.get("config") != result["config"] or previous.get("data") != result["data"]:
        return None
    return previous


def _stack_path(output_dir, activation):
    return os.path.join(output_dir, f"pretrained_{activation}.npz")


def _save_stack(output_dir, activation, weights, history):
    """Keeps a pretrained stack, so that a resumed run fine-tunes the same weights."""
    arrays = {f"kernel_{i}": k for i, (k, _) in enumerate(weights)}
    arrays.update({f"bias_{i}": b for i, (_, b) in enumerate(weights)})
    os.makedirs(output_dir, exist_ok=True)
    with results.atomic_path(_stack_path(output_dir, activation)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, history=json.dumps(history), layers=len(weights), **arrays)


def _load_stack(output_dir, activation, layers):
    """A stack saved by :func:`_save_stack` with ``layers`` layers, or ``None``."""
    try:
        with np.load(_stack_path(output_dir, activation), allow_pickle=False) as arrays:
            if int(arrays["layers"]) != layers:
                return None
            weights = [(arrays[f"kernel_{i}"], arrays[f"bias_{i}"]) for i in range(layers)]
            return weights, json.loads(str(arrays["history"]))
    except (OSError, ValueError, KeyError):
        return None


# Results ------------------------------------------------------------------------------------


def table2_markdown(result):
    """Table 2 in the paper's layout: one column per network, rows RMSE and sparsity."""
    models = result["models"]
    names = [n for n in MODELS if n in models]
    data = result["data"]
    config = result["config"]
    lines = [
        f"Table 2: RMSE and sparsity by {config['folds']}-fold cross-validation on "
        f"{data['name']} ({data['labeled']} labeled reviews"
        + (f", {data['unlabeled']} unlabeled" if data["unlabeled"] else "")
        + f", {data['terms']} terms, {100 * data['density']:.2f}% non-zeros; ratings "
        f"{' < '.join(str(s) for s in data['scale'])}). Mean ± standard deviation over folds.",
        "",
        "| Network | " + " | ".join(models[n]["title"] for n in names) + " |",
        "| --- |" + " --- |" * len(names),
        "| RMSE | "
        + " | ".join(f"{models[n]['rmse_mean']:.3f} ± {models[n]['rmse_std']:.3f}" for n in names)
        + " |",
        "| Sparsity | "
        + " | ".join(
            f"{100 * models[n]['sparsity_mean']:.1f}%"
            if not models[n]["hidden_layers"]
            else f"{100 * models[n]['sparsity_mean']:.1f}% ± {100 * models[n]['sparsity_std']:.1f}"
            for n in names
        )
        + " |",
    ]
    if not result.get("complete"):
        done = {n: len(models[n]["folds"]) for n in names}
        pending = [n for n in MODELS if n in config["models"] and n not in models]
        lines += [
            "",
            "**Unfinished run**: "
            + ", ".join(f"{models[n]['title']} {done[n]} of {config['folds']} folds" for n in names)
            + (f"; not started: {', '.join(pending)}" if pending else "")
            + ". Start the same command again to resume.",
        ]
    return "\n".join(lines) + "\n"


def write_results(result, output_dir):
    """Writes ``table2.md`` and ``result.json`` into ``output_dir``, atomically."""
    os.makedirs(output_dir, exist_ok=True)
    results.write_json_atomic(os.path.join(output_dir, "result.json"), result)
    if result["models"]:
        results.write_text_atomic(os.path.join(output_dir, "table2.md"), table2_markdown(result))


def summary(result):
    """The printed summary: Table 2 and where the files are."""
    config = result["config"]
    return (
        table2_markdown(result)
        + f"\nWritten to {os.path.join(config['output_dir'], 'table2.md')} and result.json"
        + (f" in {result['seconds']:.0f} s." if "seconds" in result else ".")
    )
