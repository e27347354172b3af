"""The deep classifier of section 4: hidden layers, then softmax regression.

The paper's SGD training setup (:func:`compile_for_paper`,
:func:`resolve_jit_compile`, :func:`steps_per_execution_for`) lives in
:mod:`keras_sparse_rect.models.training` and is re-exported here.
"""

import dataclasses
import math

import keras
import numpy as np

from keras_sparse_rect import activations, names
from keras_sparse_rect._arrays import to_numpy
from keras_sparse_rect._memory import check_network_fits
from keras_sparse_rect._validation import (
    check_bool,
    check_choice,
    check_int,
    check_int_sequence,
    check_non_negative,
    check_seed,
    per_layer,
)
from keras_sparse_rect.layers import SignFlippedRectifier, SparseDense
from keras_sparse_rect.models._seeds import offset_seed
from keras_sparse_rect.models.training import (  # noqa: F401  (re-exported: old import path)
    PAPER_LEARNING_RATES,
    STEPS_PER_EXECUTION,
    compile_for_paper,
    resolve_jit_compile,
    steps_per_execution_for,
    under_tf_distribute,
)
from keras_sparse_rect.regularizers import ActivityL1


def hidden_layer_names(index):
    """Names of hidden layer ``index`` (1-based): ``(dense name, activation name)``.

    :func:`build_deep_network` names its layers this way, and
    :class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining` finds them by it.
    """
    return f"hidden_{index}_dense", f"hidden_{index}"


@dataclasses.dataclass(frozen=True)
class HiddenLayerSpec:
    """What :func:`build_deep_network` built as one hidden layer, passed down to pretraining.

    The model carries one per hidden layer (``model.hidden_layer_specs``), and
    :class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining` builds each
    layer's autoencoder from it instead of reading the settings back out of the
    layers.

    Attributes:
        index: 1-based number of the hidden layer.
        units: its units.
        activation: ``"rectifier"``, ``"softplus"`` or ``"tanh"``.
        sign_flip: half of its rectifier units are negated (``SignFlippedRectifier``).
        l1: coefficient of its L1 activation penalty.
        sparse_input: its input is sparse (a ``SparseDense`` first layer).
    """

    index: int
    units: int
    activation: str
    sign_flip: bool
    l1: float
    sparse_input: bool = False


def hidden_layer_specs(model):
    """The :class:`HiddenLayerSpec` of each hidden layer of ``model``.

    A network from :func:`build_deep_network` carries them; for any other model
    whose layers follow :func:`hidden_layer_names` (e.g. one loaded from a
    ``.keras`` file, which does not keep Python attributes) they are described
    from the layers: the activation's function, ``SignFlippedRectifier``, the
    ``ActivityL1`` coefficient, ``SparseDense``.

    Raises:
        ValueError: a hidden layer's non-linearity is not a rectifier,
            softplus or tanh.
    """
    pairs = hidden_layers(model)
    carried = getattr(model, "hidden_layer_specs", None)
    if carried is not None and len(carried) == len(pairs):
        return tuple(carried)
    specs = []
    for index, (dense, layer) in enumerate(pairs, start=1):
        activation, sign_flip = _activation_kind(layer)
        l1 = float(getattr(layer.activity_regularizer, "l1", 0.0) or 0.0)
        specs.append(
            HiddenLayerSpec(
                index, int(dense.units), activation, sign_flip, l1, isinstance(dense, SparseDense)
            )
        )
    return tuple(specs)


def _activation_kind(layer):
    """``(activation name, sign_flip)`` of a hidden layer's non-linearity."""
    if isinstance(layer, SignFlippedRectifier):
        return "rectifier", True
    if isinstance(layer, keras.layers.Activation):
        name = getattr(layer.activation, "__name__", "")
        kind = {"rectifier": "rectifier", "relu": "rectifier"}.get(name, name)
        if kind in names.ACTIVATIONS:
            return kind, False
    raise ValueError(
        f"Hidden layer {layer.name!r} must be a SignFlippedRectifier or an Activation "
        f"layer with a rectifier, softplus or tanh; got {layer!r}."
    )


def _is_allocation_failure(error):
    """Whether ``error`` is a backend's out-of-memory error (TensorFlow, JAX, numpy)."""
    text = f"{type(error).__name__} {error}"
    return isinstance(error, MemoryError) or any(
        mark in text for mark in ("ResourceExhausted", "RESOURCE_EXHAUSTED", "Out of memory")
    )


def build_deep_network(
    input_shape,
    num_classes,
    hidden_units=(1000, 1000, 1000),
    activation="rectifier",
    sign_flip=True,
    l1=1e-3,
    seed=None,
    sparse=False,
    name="deep_network",
):
    """A deep classifier as in section 4: hidden layers, then softmax regression.

    Each hidden layer ``k`` (1-based) is a ``Dense`` layer named ``hidden_k_dense``
    followed by its non-linearity, named ``hidden_k``:

    - ``"rectifier"`` with ``sign_flip=True``: a :class:`SignFlippedRectifier`
      (half of the units negated, section 4.1); with ``sign_flip=False`` a plain
      rectifier;
    - ``"softplus"`` or ``"tanh"``: a ``keras.layers.Activation``
      (``sign_flip`` applies to rectifiers only and is ignored here).

    Every non-linearity carries ``activity_regularizer=ActivityL1(l1)``, the
    paper's L1 penalty on the activations (section 4.1: 0.001 "during pre-training
    and fine-tuning"). The paper states it for its rectifier networks; it is
    applied to every activation here so that Table 1's neuron types train with
    one setup; pass ``l1=0`` to turn it off. The output is
    ``Dense(num_classes, activation="softmax")`` named ``output``, trained with the
    negative log-likelihood (:func:`compile_for_paper`). Inputs of rank > 1
    (images) are flattened first.

    Initialisation is that of Glorot's code: weights uniform in
    ``±sqrt(6 / (fan_in + fan_out))`` (``glorot_uniform``), biases zero, for the
    hidden layers and the softmax layer alike.

    Without pretraining this is the "without unsupervised pre-training" half of
    Table 1; :class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining`
    pretrains its hidden layers as stacked denoising autoencoders.

    Args:
        input_shape: shape of one example, e.g. ``(784,)`` or ``(28, 28)``.
        num_classes: number of classes, >= 2.
        hidden_units: units per hidden layer: ``(1000, 1000, 1000)`` for MNIST,
            CIFAR10 and NISTP; ``(4000, 2000)`` for NORB; ``(5000,)`` or
            ``(5000,) * 3`` for the text of section 4.2.
        activation: ``"rectifier"``, ``"softplus"`` or ``"tanh"``.
        sign_flip: negate half of the rectifier units (section 4.1).
        l1: coefficient of the L1 activation penalty, >= 0: one for every hidden
            layer (a number or a one-item list), or one per hidden layer (Glorot's
            text setting: ``(1e-4, 0, 0)``); the rule of
            :func:`keras_sparse_rect._validation.per_layer`.
        seed: int seed of the weights and sign patterns, in [0, 2**32 - 1];
            ``None`` for random.
        sparse: the input is sparse (``keras.Input(sparse=True)``), e.g. a
            bag of words; the first layer is then a
            :class:`~keras_sparse_rect.layers.SparseDense` (section 4.2's inputs
            have 0.6% non-zeros).
        name: the model's name.

    Returns:
        An uncompiled functional ``keras.Model``.

    Raises:
        ValueError: naming the first invalid argument and its value; for
            ``hidden_units`` also when training the network would need more
            than this machine's memory (:func:`keras_sparse_rect._memory.check_network_fits`),
            or the backend fails to allocate its weights.

    Example:

    >>> from keras_sparse_rect.models import build_deep_network, compile_for_paper
    >>> model = build_deep_network((784,), 10, hidden_units=(1000, 1000, 1000), seed=0)
    >>> [layer.name for layer in model.layers][1:4]
    ['hidden_1_dense', 'hidden_1', 'hidden_2_dense']
    >>> compile_for_paper(model, learning_rate=0.01)
    >>> model.fit(x_train, y_train, batch_size=10)  # doctest: +SKIP
    """
    if isinstance(hidden_units, (list, tuple)) and len(hidden_units) == 0:
        hidden_units = ()  # softmax regression (section 4.2's network without hidden layer)
    else:
        hidden_units = check_int_sequence("hidden_units", hidden_units, minimum=1)
    input_shape = check_int_sequence("input_shape", input_shape, minimum=1)
    check_int("num_classes", num_classes, 2)
    activation = check_choice("activation", activation, (*names.ACTIVATIONS, "relu"))
    check_bool("sign_flip", sign_flip)
    l1s = per_layer("l1", l1, len(hidden_units), check_non_negative) if hidden_units else ()
    seed = check_seed("seed", seed)
    if sparse and len(input_shape) != 1:
        raise ValueError(
            f"`sparse` input must be of rank 1 per example; got input_shape={input_shape!r}."
        )
    check_network_fits("hidden_units", hidden_units, math.prod(input_shape), num_classes)
    try:
        return _build(
            input_shape, num_classes, hidden_units, activation, sign_flip, l1s, seed, sparse, name
        )
    except Exception as error:
        if not _is_allocation_failure(error):
            raise
        raise ValueError(
            f"`hidden_units` asks for more memory than the backend could allocate ({error}); "
            f"got hidden_units={hidden_units!r}."
        ) from error


def _build(input_shape, num_classes, hidden_units, activation, sign_flip, l1s, seed, sparse, name):
    """The network of :func:`build_deep_network`, from checked arguments."""
    activation_fn = activations.get(activation)

    inputs = keras.Input(shape=input_shape, sparse=bool(sparse), name="input")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    specs = []
    for index, units in enumerate(hidden_units, start=1):
        l1 = l1s[index - 1]
        dense_name, activation_name = hidden_layer_names(index)
        # On sparse input the first layer reads only the kernel rows of the present terms.
        dense_class = SparseDense if sparse and index == 1 else keras.layers.Dense
        x = dense_class(
            units,
            kernel_initializer=keras.initializers.GlorotUniform(seed=offset_seed(seed, 2 * index)),
            bias_initializer="zeros",
            name=dense_name,
        )(x)
        if activation_fn is activations.rectifier and sign_flip:
            layer = SignFlippedRectifier(
                seed=offset_seed(seed, 2 * index + 1),
                activity_regularizer=ActivityL1(l1),
                name=activation_name,
            )
        else:
            layer = keras.layers.Activation(
                activation_fn, activity_regularizer=ActivityL1(l1), name=activation_name
            )
        x = layer(x)
        specs.append(
            HiddenLayerSpec(
                index,
                units,
                "rectifier" if activation == "relu" else activation,
                isinstance(layer, SignFlippedRectifier),
                l1,
                bool(sparse) and index == 1,
            )
        )
    outputs = (SparseDense if sparse and not hidden_units else keras.layers.Dense)(
        num_classes,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=offset_seed(seed, 0)),
        bias_initializer="zeros",
        name="output",
    )(x)
    model = keras.Model(inputs, outputs, name=name)
    #: Settings of each hidden layer, for GreedyLayerwisePretraining (see HiddenLayerSpec).
    model.hidden_layer_specs = tuple(specs)
    return model


def hidden_weights(model):
    """``[(kernel, bias, signs), ...]`` of ``model``'s hidden layers, as numpy copies.

    ``signs`` is the sign pattern of a :class:`SignFlippedRectifier` layer, else
    ``None``. The layers are found by their names (:func:`hidden_layer_names`).

    Example:

    >>> weights = hidden_weights(pretrained)  # doctest: +SKIP
    >>> copy_hidden_weights(weights, fresh_model)  # doctest: +SKIP
    """
    out = []
    for dense, activation in hidden_layers(model):
        signs = getattr(activation, "signs", None)
        out.append(
            (
                to_numpy(dense.kernel),
                to_numpy(dense.bias),
                None if signs is None else to_numpy(signs),
            )
        )
    return out


def copy_hidden_weights(source, target):
    """Copies hidden-layer weights into ``target``'s first hidden layers; returns ``target``.

    ``source`` is a model built like ``target`` (:func:`build_deep_network`
    names), or a list of ``(kernel, bias)`` or ``(kernel, bias, signs)`` per
    hidden layer (e.g. from :func:`hidden_weights`); it may cover fewer layers
    than ``target`` has (a 3-layer pretrained stack into a 1-layer network). The
    values are copied through numpy, so that no variable shares a buffer with
    another model's (on JAX, shared buffers are freed together).

    Raises:
        ValueError: ``source`` has more layers than ``target``, or a shape differs.
    """
    weights = hidden_weights(source) if isinstance(source, keras.Model) else list(source)
    pairs = hidden_layers(target)
    if len(weights) > len(pairs):
        raise ValueError(
            f"`source` has {len(weights)} hidden layers but `target` {target.name!r} has "
            f"{len(pairs)}."
        )
    covered = zip(weights, pairs[: len(weights)], strict=True)
    for index, (entry, (dense, activation)) in enumerate(covered, start=1):
        kernel, bias, *rest = entry
        kernel, bias = np.asarray(kernel, "float32"), np.asarray(bias, "float32")
        if tuple(kernel.shape) != tuple(dense.kernel.shape):
            raise ValueError(
                f"hidden layer {index}: `source` kernel has shape {kernel.shape} but "
                f"`target`'s has {tuple(dense.kernel.shape)}."
            )
        dense.kernel.assign(kernel)
        dense.bias.assign(bias)
        signs = rest[0] if rest else None
        if signs is not None and getattr(activation, "signs", None) is not None:
            activation.signs.assign(np.asarray(signs, "float32"))
    return target


def hidden_layers(model):
    """The ``(dense, activation)`` layers of each hidden layer of ``model``, in order.

    The layers that greedy layer-wise pretraining (section 3.2) trains one at a time, found
    by the names of :func:`hidden_layer_names`.

    Args:
        model: a Keras model, usually one of :func:`build_deep_network`.

    Returns:
        A list of ``(dense, activation)`` layer pairs; ``[]`` for a model without them.

    >>> import keras_sparse_rect as ksr
    >>> model = ksr.models.build_deep_network((8,), 2, hidden_units=(4, 4))
    >>> [(dense.name, activation.name) for dense, activation in hidden_layers(model)]
    [('hidden_1_dense', 'hidden_1'), ('hidden_2_dense', 'hidden_2')]
    """
    names = {layer.name for layer in model.layers}
    pairs = []
    while True:
        dense_name, activation_name = hidden_layer_names(len(pairs) + 1)
        if dense_name not in names or activation_name not in names:
            return pairs
        pairs.append((model.get_layer(dense_name), model.get_layer(activation_name)))
