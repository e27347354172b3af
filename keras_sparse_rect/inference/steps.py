"""The steps of a trained rectifier network: its ``Dense`` layers as kernels, biases, activations.

Sparse inference (paper, Sections 2.2 and 3.1: a rectifier network's representations are truly
sparse, so "sparsity can be exploited") works on the affine steps of a ``Dense`` + rectifier
stack. :func:`extract_steps` reads them from a Keras model, folding the sign pattern of each
:class:`~keras_sparse_rect.layers.SignFlippedRectifier` (Section 4.1) into the next kernel's rows;
:func:`measure_activity` reports the fraction of non-zero inputs of each step.
"""

import keras
import numpy as np
from keras import ops

from keras_sparse_rect.layers import (
    BinaryFlipNoise,
    MaskingNoise,
    SaltAndPepperNoise,
    SignFlippedRectifier,
    SparseDense,
)

#: Output activations a step may end with; hidden steps are ``relu`` (or ``linear``).
ACTIVATIONS = ("linear", "relu", "softmax", "sigmoid")

_IDENTITY_AT_INFERENCE = (
    keras.layers.InputLayer,
    keras.layers.Dropout,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    MaskingNoise,
    SaltAndPepperNoise,
    BinaryFlipNoise,
)


def _activation_name(fn):
    """The name of a Dense/Activation layer's activation among :data:`ACTIVATIONS`, or None."""
    if fn is None:
        return "linear"
    name = getattr(fn, "__name__", None)
    if name == "rectifier":
        return "relu"
    return name if name in ACTIVATIONS else None


def _check_model(model):
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model; got model={model!r}.")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"`model` must have one input and one output; model {model.name!r} has "
            f"{len(model.inputs)} and {len(model.outputs)}."
        )


def _dense_step(layer, steps, scale):
    """The step of a ``Dense``/``SparseDense`` layer (``scale``: signs to fold into its rows)."""
    kind = type(layer).__name__
    activation = _activation_name(layer.activation)
    if activation is None:
        raise ValueError(
            f"Layer {layer.name!r} ({kind}) has activation {layer.activation!r}; sparse "
            f"inference supports {list(ACTIVATIONS)}."
        )
    if getattr(layer, "lora_enabled", False) or layer.kernel.dtype != "float32":
        raise ValueError(
            f"Layer {layer.name!r} ({kind}) must have a plain float32 kernel; got "
            f"dtype {layer.kernel.dtype}."
        )
    kernel = np.asarray(ops.convert_to_numpy(layer.kernel), dtype="float32")
    if steps and kernel.shape[0] != steps[-1]["kernel"].shape[1]:
        raise ValueError(
            f"Layer {layer.name!r} ({kind}) expects {kernel.shape[0]} inputs; the "
            f"previous layer has {steps[-1]['kernel'].shape[1]} units."
        )
    if steps and steps[-1]["activation"] in ("softmax", "sigmoid"):
        raise ValueError(
            f"Layer {layer.name!r} ({kind}) follows a {steps[-1]['activation']} layer; "
            "only rectifier or linear layers may feed another Dense."
        )
    if scale is not None:
        kernel = kernel * scale[:, None]
    bias = (
        np.asarray(ops.convert_to_numpy(layer.bias), dtype="float32")
        if layer.bias is not None
        else np.zeros(kernel.shape[1], "float32")
    )
    return {"kernel": kernel, "bias": bias, "activation": activation}


def _layer_activation(layer):
    """The activation a non-Dense layer applies (``"relu"``, ...), or None if it is not one."""
    if isinstance(layer, SignFlippedRectifier):
        return "relu"
    if isinstance(layer, keras.layers.Activation):
        return _activation_name(layer.activation)
    if isinstance(layer, keras.layers.ReLU):
        plain = layer.max_value is None and not layer.negative_slope and not layer.threshold
        return "relu" if plain else None
    return None


def extract_steps(model):
    """The affine steps of a ``Dense`` + rectifier stack, as numpy arrays.

    Walks the layers of a single-input, single-chain functional or Sequential model:
    ``Flatten``/``Reshape`` before the first ``Dense``; ``Dense`` or
    :class:`~keras_sparse_rect.layers.SparseDense` (dense input); a rectifier (``Dense``
    activation ``"relu"``/``rectifier``, ``Activation``, ``ReLU()``) or a
    :class:`~keras_sparse_rect.layers.SignFlippedRectifier` after each (its signs are
    folded into the next kernel's rows: ``(relu(z) * s) @ W == relu(z) @ (s[:, None] * W)``,
    paper Section 4.1); ``softmax``, ``sigmoid`` or linear output; layers that are the
    identity at inference (dropout, the library's noise layers, activity regularization)
    are skipped.

    Args:
        model: a ``keras.Model`` with one input and one output.

    Returns:
        ``(steps, output_scale)``: ``steps`` a list of dicts with ``kernel``
        (``(d_in, d_out)``, the previous layer's signs folded into its rows), ``bias`` and
        ``activation``; ``output_scale`` the signs of a final sign-flipped layer, or None.

    Raises:
        ValueError: naming the first layer that is not part of such a stack, or if
            ``model`` is not a single-input, single-output ``keras.Model``.

    Example:

    >>> import keras
    >>> from keras_sparse_rect.inference import extract_steps
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> steps, output_scale = extract_steps(model)
    >>> [(step["kernel"].shape, step["activation"]) for step in steps], output_scale
    ([((4, 3), 'relu'), ((3, 2), 'softmax')], None)
    """
    _check_model(model)
    steps, scale, previous = [], None, None
    for layer in model.layers:
        if previous is not None and not isinstance(model, keras.Sequential):
            if layer.input is not previous.output:
                raise ValueError(
                    f"Layer {layer.name!r} ({type(layer).__name__}) does not take the previous "
                    f"layer's output: sparse inference needs a single chain of layers."
                )
        previous = layer
        kind = type(layer).__name__
        if isinstance(layer, _IDENTITY_AT_INFERENCE):
            continue
        if isinstance(layer, (keras.layers.Flatten, keras.layers.Reshape)) and not steps:
            continue
        if isinstance(layer, (keras.layers.Dense, SparseDense)):
            steps.append(_dense_step(layer, steps, scale))
            scale = None
            continue
        activation = _layer_activation(layer)
        if activation is None:
            raise ValueError(
                f"Layer {layer.name!r} ({kind}) is not part of a Dense + rectifier stack; sparse "
                "inference supports Dense, SparseDense, rectifiers, SignFlippedRectifier, "
                "softmax/sigmoid outputs, Flatten before the first Dense, and dropout/noise."
            )
        if not steps:
            raise ValueError(
                f"Layer {layer.name!r} ({kind}) comes before the first Dense layer; sparse "
                "inference needs a Dense layer first."
            )
        last = steps[-1]
        if scale is not None or last["activation"] not in ("linear", activation):
            raise ValueError(
                f"Layer {layer.name!r} ({kind}) applies {activation} after "
                f"{'signs' if scale is not None else last['activation']}; sparse inference "
                "supports one rectifier (or output activation) per Dense layer."
            )
        last["activation"] = activation
        if isinstance(layer, SignFlippedRectifier):
            scale = np.asarray(ops.convert_to_numpy(layer.signs), dtype="float32")
    if not steps:
        raise ValueError(f"Model {model.name!r} has no Dense layer.")
    return steps, scale


def step_inputs(steps, x):
    """The input of each step on examples ``x``: the dense forward in numpy.

    Args:
        steps: the steps of :func:`extract_steps`.
        x: examples, ``(n, ...)``, flattened to ``(n, d_in)``.

    Returns:
        One float32 array ``(n, d_in_k)`` per step (the features, then each hidden layer).
    """
    h = np.asarray(x, dtype="float32").reshape(len(x), -1)
    inputs = []
    for step in steps:
        inputs.append(h)
        h = h @ step["kernel"] + step["bias"]
        if step["activation"] == "relu":
            h = np.maximum(h, 0.0)
    return inputs


def measure_activity(model, x):
    """Fraction of non-zero inputs of each Dense step of ``model`` on examples ``x``.

    Step 1's inputs are the features (pixels), step ``k`` > 1's the hidden units of layer
    ``k - 1``: one minus each is that layer's exact sparsity (paper, Section 4.1: 83.4% of a
    trained MNIST network's hidden units are exactly zero).

    Args:
        model: a ``Dense`` + rectifier stack (:func:`extract_steps`).
        x: numpy examples of the model's input shape.

    Returns:
        A list of floats, one per ``Dense`` step.

    Raises:
        ValueError: as :func:`extract_steps`.

    Example:

    >>> import keras, numpy as np
    >>> from keras_sparse_rect.inference import measure_activity
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="relu")])
    >>> model.layers[0].set_weights([np.eye(2, dtype="float32"), np.zeros(2, "float32")])
    >>> measure_activity(model, np.array([[1.0, 0.0], [0.0, 0.0]]))
    [0.25]
    """
    steps, _ = extract_steps(model)
    return [float(np.mean(h != 0)) for h in step_inputs(steps, x)]
