"""The networks of Table 2 (section 4.2) and their greedy pretraining on sparse text.

A network of Table 2 reads a sparse bag of words, has 0, 1 or 3 hidden layers
of rectifier or tanh units with an L1 penalty, and a softmax over the ratings.
Its hidden layers are pretrained once per activation, greedily, as stacked
denoising autoencoders; the stack is kept on disk so that a resumed run
fine-tunes the same weights.
"""

import json
import os

import numpy as np

from keras_sparse_rect import results
from keras_sparse_rect._validation import check_int
from keras_sparse_rect.layers import BinaryFlipNoise
from keras_sparse_rect.models.deep_network import (
    build_deep_network,
    compile_for_paper,
    hidden_weights,
)


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


#: The run's own files in ``output_dir`` beside ``result.json``: the table and the
#: pretrained stacks (one per activation).
OUTPUT_FILES = ("table2.md", *(f"pretrained_{a}.npz" for a in ("rectifier", "softplus", "tanh")))


def stack_path(output_dir, activation):
    return os.path.join(output_dir, f"pretrained_{activation}.npz")


def save_stack(output_dir, activation, weights, history):
    """Keeps a pretrained stack, so that a resumed run fine-tunes the same weights."""
    arrays = {f"kernel_{i}": k for i, (k, _) in enumerate(weights)}
    arrays.update({f"bias_{i}": b for i, (_, b) in enumerate(weights)})
    os.makedirs(output_dir, exist_ok=True)
    with results.atomic_path(stack_path(output_dir, activation)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, history=json.dumps(history), layers=len(weights), **arrays)


def load_stack(output_dir, activation, layers):
    """A stack saved by :func:`save_stack` with ``layers`` layers, or ``None``."""
    try:
        with np.load(stack_path(output_dir, activation), allow_pickle=False) as arrays:
            if int(arrays["layers"]) != layers:
                return None
            weights = [(arrays[f"kernel_{i}"], arrays[f"bias_{i}"]) for i in range(layers)]
            return weights, json.loads(str(arrays["history"]))
    except (OSError, ValueError, KeyError):
        return None
