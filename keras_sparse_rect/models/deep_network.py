"""The deep classifier of section 4 and the paper's SGD training setup."""

import dataclasses
import math
import numbers
import warnings

import keras
import numpy as np

from keras_sparse_rect import activations
from keras_sparse_rect._arrays import to_numpy
from keras_sparse_rect._validation import (
    check_int,
    check_non_negative,
    check_positive,
    check_seed,
)
from keras_sparse_rect.layers import SignFlippedRectifier, SparseDense
from keras_sparse_rect.regularizers import ActivityL1

#: Default ``steps_per_execution`` of :func:`compile_for_paper`: at the paper's
#: batch of 10 a step is so short that per-step overhead dominates, so many steps
#: run per call into the backend (see ``bench/sgd_speed.py``).
STEPS_PER_EXECUTION = 100
#: The constant learning rates the paper explored, for pretraining and fine-tuning (4.1).
PAPER_LEARNING_RATES = (0.1, 0.01, 0.001, 0.0001)


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
    pairs = _hidden_pairs(model)
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
        if kind in activations.NAMES:
            return kind, False
    raise ValueError(
        f"Hidden layer {layer.name!r} must be a SignFlippedRectifier or an Activation "
        f"layer with a rectifier, softplus or tanh; got {layer!r}."
    )


def _check_l1(l1, num_layers):
    """One coefficient for every hidden layer, or one per hidden layer."""
    if isinstance(l1, (list, tuple)):
        if len(l1) != num_layers:
            raise ValueError(
                f"`l1` must be one number or one per hidden layer ({num_layers}); got l1={l1!r}."
            )
        return tuple(check_non_negative(f"l1[{i}]", v) for i, v in enumerate(l1))
    return (check_non_negative("l1", l1),) * num_layers


def _check_units(name, values):
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if not values or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in values
    ):
        raise ValueError(
            f"`{name}` must be a non-empty sequence of ints >= 1; got {name}={values!r}."
        )
    return tuple(int(v) for v in values)


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
            layer, or a sequence of one per hidden layer (Glorot's text setting:
            ``(1e-4, 0, 0)``).
        seed: int seed of the weights and sign patterns; ``None`` for random.
        sparse: the input is sparse (``keras.Input(sparse=True)``), e.g. a
            bag of words; the first layer is then a
            :class:`~keras_sparse_rect.layers.SparseDense` (section 4.2's inputs
            have 0.6% non-zeros).
        name: the model's name.

    Returns:
        An uncompiled functional ``keras.Model``.

    Example:

    >>> from keras_sparse_rect.models import build_deep_network, compile_for_paper
    >>> model = build_deep_network((784,), 10, hidden_units=(1000, 1000, 1000))
    >>> compile_for_paper(model, learning_rate=0.01)
    >>> model.fit(x_train, y_train, batch_size=10)  # doctest: +SKIP
    """
    if isinstance(hidden_units, (list, tuple)) and len(hidden_units) == 0:
        hidden_units = ()  # softmax regression (section 4.2's network without hidden layer)
    else:
        hidden_units = _check_units("hidden_units", hidden_units)
    input_shape = _check_units("input_shape", input_shape)
    check_int("num_classes", num_classes, 2)
    if not isinstance(activation, str):
        raise ValueError(
            f"`activation` must be one of {list(activations.NAMES)}; got activation={activation!r}."
        )
    activation_fn = activations.get(activation)
    if not isinstance(sign_flip, bool):
        raise ValueError(f"`sign_flip` must be a bool; got sign_flip={sign_flip!r}.")
    l1s = _check_l1(l1, len(hidden_units))
    seed = check_seed("seed", seed)
    if sparse and len(input_shape) != 1:
        raise ValueError(
            f"`sparse` input must be of rank 1 per example; got input_shape={input_shape!r}."
        )

    def sub_seed(offset):
        return None if seed is None else seed + offset

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
            kernel_initializer=keras.initializers.GlorotUniform(seed=sub_seed(2 * index)),
            bias_initializer="zeros",
            name=dense_name,
        )(x)
        if activation_fn is activations.rectifier and sign_flip:
            layer = SignFlippedRectifier(
                seed=sub_seed(2 * index + 1),
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
        kernel_initializer=keras.initializers.GlorotUniform(seed=sub_seed(0)),
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
    for dense, activation in _hidden_pairs(model):
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
    pairs = _hidden_pairs(target)
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


def _hidden_pairs(model):
    names = {layer.name for layer in model.layers}
    pairs = []
    while True:
        dense_name, activation_name = hidden_layer_names(len(pairs) + 1)
        if dense_name not in names or activation_name not in names:
            return pairs
        pairs.append((model.get_layer(dense_name), model.get_layer(activation_name)))


def steps_per_execution_for(rows, batch_size, most=STEPS_PER_EXECUTION):
    """The largest divisor of an epoch's steps up to ``most`` (unless it is tiny).

    Keras' progress bar advances by ``steps_per_execution`` per call, so an
    epoch whose last call runs fewer steps counts past its end (``400/350``).
    A divisor below a quarter of ``most`` (an epoch of a prime number of steps)
    would cost speed, so ``most`` is kept then.

    Example:

    >>> steps_per_execution_for(3500, 10)  # 350 steps: 5 calls of 70
    70
    """
    steps = max(1, math.ceil(rows / batch_size))
    best = max(d for d in range(1, min(most, steps) + 1) if steps % d == 0)
    return best if best >= min(most, steps) // 4 else most


def resolve_jit_compile(jit_compile="auto", model=None):
    """Turns ``"auto"`` into an explicit XLA choice for this backend.

    Keras' own ``"auto"`` turns XLA off on a CPU-only TensorFlow machine
    (``docs/facts.md``, "jit_compile="auto" on CPU TensorFlow"), where it is what
    makes batch-10 SGD fast. Here
    ``"auto"`` means: on, except on PyTorch, for sparse inputs on TensorFlow (its
    sparse ops do not compile; JAX's BCOO ops do) and under a ``tf.distribute``
    strategy (as Keras does).
    """
    if jit_compile != "auto":
        if not isinstance(jit_compile, bool):
            raise ValueError(
                f"`jit_compile` must be a bool or 'auto'; got jit_compile={jit_compile!r}."
            )
        return jit_compile
    if keras.backend.backend() not in ("tensorflow", "jax"):
        return False
    sparse = model is not None and any(getattr(t, "sparse", False) for t in _model_inputs(model))
    if sparse and keras.backend.backend() == "tensorflow":
        return False
    return not under_tf_distribute(model)


def under_tf_distribute(model=None):
    """Whether a ``tf.distribute`` strategy is in scope, or ``model`` was built in one."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf  # TensorFlow only: the strategy check.

    if tf.distribute.has_strategy():
        return True
    strategy = getattr(model, "distribute_strategy", None)
    return strategy is not None and strategy is not tf.distribute.get_strategy()


def _model_inputs(model):
    try:
        return list(model.inputs or [])
    except (AttributeError, ValueError):
        return []


def compile_for_paper(
    model,
    learning_rate=0.01,
    *,
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    steps_per_execution=STEPS_PER_EXECUTION,
    jit_compile="auto",
    **kwargs,
):
    """Compiles ``model`` for the paper's training: SGD at a constant learning rate.

    Section 4.1: "stochastic gradient descent with mini-batches of size 10 for both
    unsupervised and supervised training phases", constant learning rates, and
    the negative log-likelihood of a softmax output. Pass ``batch_size=10`` to
    ``fit``. At that batch size a step is so short that per-step overhead
    dominates, so by default many steps run per call into the backend
    (``steps_per_execution``) and each step is compiled with XLA
    (:func:`resolve_jit_compile`); ``bench/sgd_speed.py`` measures the gain.
    Under a ``tf.distribute`` strategy Keras' multi-step loop fails (Keras 3.15,
    TensorFlow 2.21: "You must feed a value for placeholder tensor"), so there
    ``steps_per_execution`` is 1, with a warning.

    Args:
        model: a ``keras.Model`` (a classifier, or a
            :class:`~keras_sparse_rect.models.DenoisingAutoencoder` with ``loss=None``
            and ``metrics=None``).
        learning_rate: the constant SGD learning rate, > 0.
        loss: the loss (default: negative log-likelihood of integer labels).
        metrics: metrics to report (default accuracy).
        steps_per_execution: training steps per call into the backend, >= 1.
        jit_compile: ``"auto"`` (see :func:`resolve_jit_compile`) or a bool.
        **kwargs: other ``compile`` arguments.

    Example:

    >>> compile_for_paper(model, learning_rate=0.01)  # doctest: +SKIP
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    steps_per_execution = check_int("steps_per_execution", steps_per_execution, 1)
    if steps_per_execution > 1 and under_tf_distribute(model):
        warnings.warn(
            f"compile_for_paper: steps_per_execution={steps_per_execution} fails under "
            "tf.distribute in this Keras version; using 1.",
            stacklevel=2,
        )
        steps_per_execution = 1
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss=loss,
        metrics=list(metrics) if metrics else None,
        steps_per_execution=int(steps_per_execution),
        jit_compile=resolve_jit_compile(jit_compile, model),
        **kwargs,
    )
