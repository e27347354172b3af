"""Per-layer pretraining settings: one value for every hidden layer, or one per layer.

Each of ``epochs``, ``learning_rate``, ``noise``, ``reconstruction``,
``batch_size``, ``l1`` and ``tied`` follows the library's one per-layer rule
(:func:`keras_sparse_rect._validation.per_layer`, the same as the apps' flags):
a single value, a one-item list, or a list of one value per hidden layer
(e.g. Glorot's text setting ``learning_rate=[0.005, 0.001, 0.001]``).

>>> settings = LayerSettings([1, 0, 1], 0.001, [0.25], "auto", 10, None, True)
>>> [s["noise"] for s in settings.expand(3)]
[0.25, 0.25, 0.25]
>>> [s["epochs"] for s in settings.expand(3)]
[1, 0, 1]
"""

import keras

from keras_sparse_rect._validation import (
    check_bool,
    check_int,
    check_non_negative,
    check_positive,
    per_layer,
)
from keras_sparse_rect.layers import make_noise
from keras_sparse_rect.names import RECONSTRUCTIONS


def _check_reconstruction(name, value):
    if value != "auto" and value not in RECONSTRUCTIONS:
        raise ValueError(
            f"`{name}` must be 'auto' or one of {list(RECONSTRUCTIONS)}; got {name}={value!r}."
        )
    return value


def _check_noise(name, value):
    if isinstance(value, keras.layers.Layer):
        return value
    try:
        make_noise(value)
    except ValueError:
        raise ValueError(
            f"`{name}` must be None, a masking rate in [0, 1) or a noise layer; got "
            f"{name}={value!r}."
        ) from None
    return value


CHECKS = {
    "epochs": lambda name, value: check_int(name, value, 0),
    "learning_rate": check_positive,
    "noise": _check_noise,
    "reconstruction": _check_reconstruction,
    "batch_size": lambda name, value: check_int(name, value, 1),
    "l1": lambda name, value: None if value is None else check_non_negative(name, value),
    "tied": check_bool,
}


class LayerSettings:
    """The per-layer settings of greedy layer-wise pretraining (section 4.1), checked.

    The defaults are ``GreedyLayerwisePretraining``'s.

    Args:
        epochs: pretraining epochs per layer, >= 0 (0 leaves a layer as it is).
        learning_rate: constant SGD learning rate per layer, > 0.
        noise: corruption per layer: a masking rate, a noise layer, or ``None``.
        reconstruction: ``"auto"`` or one of ``DenoisingAutoencoder``'s strategies.
        batch_size: mini-batch size per layer, >= 1.
        l1: L1 activation penalty, >= 0, or ``None`` for the network layer's own.
        tied: tie decoder and encoder weights.

    Raises:
        ValueError: naming the argument (and the item of a list) and its value.
    """

    def __init__(self, epochs, learning_rate, noise, reconstruction, batch_size, l1, tied):
        given = (epochs, learning_rate, noise, reconstruction, batch_size, l1, tied)
        given = dict(zip(CHECKS, given, strict=True))
        self.values = {}
        for name, value in given.items():
            check = CHECKS[name]
            if isinstance(value, (list, tuple)):
                if not value:
                    raise ValueError(f"`{name}` must not be an empty list; got {name}={value!r}.")
                value = [check(f"{name}[{i}]", v) for i, v in enumerate(value)]
            else:
                value = check(name, value)
            self.values[name] = value

    def expand(self, num_layers):
        """One dict of settings per hidden layer.

        Raises:
            ValueError: if a list has neither one value nor ``num_layers``.
        """
        expanded = {name: per_layer(name, v, num_layers) for name, v in self.values.items()}
        return [{name: v[i] for name, v in expanded.items()} for i in range(num_layers)]
