"""Model utilities: finding hidden representations, the rescaling of section 3.1, quiet logs."""

import contextlib
import logging

import keras

from keras_sparse_rect._validation import check_positive


def all_layers(model):
    """Every layer of ``model``, nested models' layers included, depth first, each once.

    Public API only: ``model.layers`` (graph order for a functional model, the
    order of ``add`` for a ``Sequential``, tracked attributes for a subclassed
    model), recursing into the layers that are models themselves. Layers that a
    plain (non-model) custom layer holds are not listed, as Keras has no public
    listing of them.
    """
    found, seen = [], set()

    def visit(owner):
        for layer in owner.layers:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            found.append(layer)
            if isinstance(layer, keras.Model):
                visit(layer)

    visit(model)
    return found


def dense_layers(model):
    """The model's ``Dense`` layers (nested models' included), in the order they were added."""
    return [layer for layer in all_layers(model) if isinstance(layer, keras.layers.Dense)]


def _producers(model):
    """``{id(tensor): layer}`` for the symbolic output of every layer of ``model``.

    Public API: a layer's ``.output`` (its first call). A nested model's
    ``.output`` is its own inner output, so plain layers are asked first.
    """
    layers = all_layers(model)
    producers = {}
    for layer in sorted(layers, key=lambda layer: isinstance(layer, keras.Model)):
        try:
            outputs = layer.output
        except (AttributeError, ValueError):  # never called, or no single output node
            continue
        for tensor in keras.tree.flatten(outputs):
            producers.setdefault(id(tensor), layer)
    return producers


def hidden_tensors(model, layer_names=None):
    """Symbolic hidden representations of a functional or Sequential model.

    By default a hidden representation is the input of every ``Dense`` layer
    but the first (so ``Dense -> SignFlippedRectifier -> Dense`` yields the
    rectifier's output, and ``Dense(activation="relu") -> Dense`` the first
    layer's output). With ``layer_names`` the outputs of those layers are used.
    Each representation is named after the layer that produces it; one that no
    layer of the model produces at its first call (for example the input of a
    nested model, or the output of a functional model nested in a
    ``Sequential``) is named ``hidden_k``.

    Returns:
        A list of ``(name, keras_tensor)`` pairs.
    """
    if layer_names is not None:
        return [(name, model.get_layer(name).output) for name in layer_names]
    denses = dense_layers(model)
    if len(denses) < 2:
        raise ValueError(
            f"Model {model.name!r} has {len(denses)} Dense layer(s); a hidden layer needs"
            " at least two. Pass `layer_names` to choose the hidden layers."
        )
    producers = _producers(model)
    pairs = []
    for index, layer in enumerate(denses[1:], start=1):
        tensor = layer.input
        producer = producers.get(id(tensor))
        name = producer.name if producer is not None else f"hidden_{index}"
        pairs.append((name, tensor))
    return pairs


def hidden_activation_model(model, layer_names=None):
    """A model from ``model``'s inputs to its hidden representations (see :func:`hidden_tensors`).

    It shares ``model``'s weights, so it always reflects the current parameters.

    Returns:
        ``(probe, names)``: a ``keras.Model`` with one output per hidden layer,
        and the names of those layers.
    """
    pairs = hidden_tensors(model, layer_names)
    names = [name for name, _ in pairs]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [tensor for _, tensor in pairs], name=f"{model.name}_hidden")
    return probe, names


def rescale_layers(model, alphas):
    """Scales the parameters of each ``Dense`` layer as in section 3.1, in place.

    Layer ``i`` gets ``W_i / alpha_i`` and ``b_i / prod_{j<=i} alpha_j``. Because
    the rectifier is positively homogeneous, the output pre-activations become
    ``s / prod_j alpha_j``: the network function is unchanged when the product of
    the alphas is 1 ("ill-conditioning of the parametrization"). Only meaningful
    for networks whose hidden non-linearities are rectifiers (sign flip included).

    Args:
        model: a model whose ``Dense`` layers form the network, input to output.
        alphas: one positive number per ``Dense`` layer.

    Returns:
        ``model``, rescaled.

    Example:

    >>> from keras_sparse_rect.utils import rescale_layers
    >>> rescale_layers(model, [2.0, 0.5, 1.0])  # doctest: +SKIP
    """
    denses = dense_layers(model)
    alphas = list(alphas)
    if len(alphas) != len(denses):
        raise ValueError(
            f"`alphas` must have one value per Dense layer ({len(denses)}); got alphas={alphas!r}."
        )
    for index, alpha in enumerate(alphas):
        check_positive(f"alphas[{index}]", alpha)
    product = 1.0
    for layer, alpha in zip(denses, alphas, strict=True):
        product *= alpha
        layer.kernel.assign(layer.kernel / alpha)
        if layer.use_bias:
            layer.bias.assign(layer.bias / product)
    return model


@contextlib.contextmanager
def quiet_retracing():
    """Silences TensorFlow's "retracing" warnings inside the block.

    Code that builds many models in turn (the folds of an experiment, the trials
    of a search) makes TensorFlow warn about function retracing from the fifth
    model on: expected there, and not a problem. Other backends: no effect.
    """
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
