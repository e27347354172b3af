"""The networks and the call loop shared by the sparse-inference tests."""

import keras
import numpy as np

from keras_sparse_rect.models import build_deep_network
from tests.helpers import to_numpy

#: Largest absolute difference allowed between the sparse forward and ``model.predict``.
ATOL = 1e-5


def varied_network(sign_flip=True, input_shape=(784,)):
    """A 784-256-256-10 network whose biases make activity vary from unit to unit."""
    model = build_deep_network(
        input_shape, 10, hidden_units=(256, 256), sign_flip=sign_flip, seed=3
    )
    rng = np.random.default_rng(0)
    for name in ("hidden_1_dense", "hidden_2_dense"):
        layer = model.get_layer(name)
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, rng.normal(-0.6, 0.5, bias.shape).astype("float32")])
    return model


def run(forward, x, batch_size):
    """``forward`` (returning fallbacks) over ``x`` in batches: outputs and fallbacks, numpy."""
    outs, fallbacks = [], []
    for i in range(0, len(x), batch_size):
        out, fallback = forward(keras.ops.convert_to_tensor(x[i : i + batch_size]))
        outs.append(to_numpy(out))
        fallbacks.append(to_numpy(fallback))
    return np.concatenate(outs), np.array(fallbacks)
