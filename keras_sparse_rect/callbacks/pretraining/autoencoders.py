"""Building the denoising autoencoder that pretrains one hidden layer (sections 3.2, 4.1, 4.2).

Hidden layer ``k`` is pretrained as a denoising autoencoder with the layer's
units, non-linearity, sign pattern and L1 penalty, starting from the layer's
current (initial) weights (:func:`dense_factory`). Its reconstruction is
section 4.1's choice (:func:`auto_reconstruction`). A sparse first layer whose
noise flips binary inputs is pretrained by a sparse-input autoencoder on the
scipy.sparse input itself (section 4.2; :func:`sparse_factory`).

>>> auto_reconstruction("auto", "tanh"), auto_reconstruction("auto", "rectifier")
('sigmoid_cross_entropy', 'softplus_quadratic')
"""

import keras

from keras_sparse_rect._arrays import to_numpy
from keras_sparse_rect.layers import BinaryFlipNoise, SignFlippedRectifier, make_noise
from keras_sparse_rect.models import (
    DenoisingAutoencoder,
    HiddenLayerSpec,
    SparseInputDenoisingAutoencoder,
    compile_for_paper,
    deep_network,
    hidden_layer_specs,
    steps_per_execution_for,
)


def layers_to_pretrain(model, specs=None):
    """``([(dense, activation), ...], [HiddenLayerSpec, ...])``: the hidden layers to pretrain.

    :func:`keras_sparse_rect.models.hidden_layers` finds the layers; this adds
    their specs and the callback's errors.

    Args:
        model: a network of :func:`build_deep_network` (hidden layers named
            ``hidden_<k>_dense``, ``hidden_<k>``).
        specs: the :class:`~keras_sparse_rect.models.HiddenLayerSpec` of each hidden
            layer, or ``None`` for the network's own.

    Raises:
        ValueError: if the model has no such layers, or ``specs`` another number.
    """
    pairs = deep_network.hidden_layers(model)
    if not pairs:
        names = sorted(layer.name for layer in model.layers)
        raise ValueError(
            "GreedyLayerwisePretraining needs a model whose hidden layers are named "
            "'hidden_1_dense', 'hidden_1', 'hidden_2_dense', ... (see "
            f"keras_sparse_rect.models.build_deep_network); model {model.name!r} has "
            f"layers {names}."
        )
    specs = specs if specs is not None else hidden_layer_specs(model)
    if len(specs) != len(pairs):
        raise ValueError(
            f"`layers` describes {len(specs)} hidden layers but model {model.name!r} "
            f"has {len(pairs)}."
        )
    return pairs, specs


def check_layer_specs(layers):
    """``layers`` as a tuple of :class:`HiddenLayerSpec`, or ``None``."""
    if layers is None:
        return None
    layers = tuple(layers)
    if not layers or not all(isinstance(spec, HiddenLayerSpec) for spec in layers):
        raise ValueError(
            "`layers` must be None or a non-empty sequence of HiddenLayerSpec (see "
            f"build_deep_network's model.hidden_layer_specs); got layers={layers!r}."
        )
    return layers


def signs_of(layer):
    """The sign pattern of a :class:`SignFlippedRectifier` as float32 numpy, else ``None``."""
    if isinstance(layer, SignFlippedRectifier):
        return to_numpy(layer.signs).astype("float32")
    return None


def shuffle_seed(dae, seed):
    """``fit``'s seed of the sparse batches' shuffling (a sparse-input autoencoder's only)."""
    return {"seed": seed} if isinstance(dae, SparseInputDenoisingAutoencoder) else {}


def auto_reconstruction(reconstruction, activation):
    """Section 4.1's reconstruction for ``"auto"``: the cross-entropy for tanh, else quadratic."""
    if reconstruction != "auto":
        return reconstruction
    return "sigmoid_cross_entropy" if activation == "tanh" else "softplus_quadratic"


def target_range(layer, reconstruction, cache):
    """The range the reconstruction's sigmoid maps to, read off the cached input.

    Raises:
        ValueError: if the input's range does not suit ``reconstruction``.
    """
    if reconstruction == "scaled_sigmoid_cross_entropy" and cache.low < 0:
        raise ValueError(
            f"`reconstruction`='scaled_sigmoid_cross_entropy' for hidden layer {layer} "
            "needs inputs of one sign per unit (rectifier units, or data >= 0), "
            f"but they reach {cache.low:g}. Use 'softplus_quadratic' or "
            "'sigmoid_cross_entropy'."
        )
    if reconstruction != "sigmoid_cross_entropy":
        return (0.0, 1.0)
    if cache.low >= 0.0 and cache.high <= 1.0:
        return (0.0, 1.0)
    if cache.low >= -1.0 and cache.high <= 1.0:
        return (-1.0, 1.0)
    raise ValueError(
        f"`reconstruction`='sigmoid_cross_entropy' for hidden layer {layer} needs "
        f"inputs in [0, 1] or [-1, 1]; they span [{cache.low:g}, {cache.high:g}]. "
        "Use 'softplus_quadratic' or 'scaled_sigmoid_cross_entropy'."
    )


def sparse_reconstruction(layer, reconstruction):
    """The sparse-input autoencoder's reconstruction: the sigmoid cross-entropy (section 4.2)."""
    if reconstruction not in ("auto", "sigmoid_cross_entropy"):
        raise ValueError(
            f"hidden layer {layer} reads a sparse input: its autoencoder reconstructs "
            "with the sigmoid cross-entropy (section 4.2); `reconstruction` must be 'auto' "
            f"or 'sigmoid_cross_entropy' for it; got {reconstruction!r}."
        )
    return "sigmoid_cross_entropy"


def dense_factory(pair, spec, setting, cache, *, l1, seed, input_signs, options):
    """``build(learning_rate)``: a fresh autoencoder from hidden layer ``k``'s current weights.

    Args:
        pair: the layer's ``(Dense, activation layer)``.
        spec: its :class:`~keras_sparse_rect.models.HiddenLayerSpec`.
        setting: its per-layer settings (``noise``, ``reconstruction``, ``tied``,
            ``batch_size``).
        cache: the layer's cached input (its ``width``, ``rows``, ``low``, ``high``).
        l1: the L1 penalty of the code.
        seed: the layer's seed, or ``None``.
        input_signs: the sign pattern of the layer below, or ``None``.
        options: ``sign_consistent``, ``steps_per_execution``, ``jit_compile``.

    Returns:
        ``(build, reconstruction)``.
    """
    dense, activation_layer = pair
    reconstruction = auto_reconstruction(setting["reconstruction"], spec.activation)
    output_range = target_range(spec.index, reconstruction, cache)

    def build(learning_rate):
        dae = DenoisingAutoencoder(
            dense.units,
            activation=spec.activation,
            sign_flip=spec.sign_flip,
            l1=l1,
            noise=make_noise(setting["noise"], seed),  # a fresh copy each time
            reconstruction=reconstruction,
            tied=setting["tied"],
            target_range=output_range,
            input_signs=input_signs,
            seed=seed,
            sign_consistent=options["sign_consistent"],
            name=f"pretrain_layer_{spec.index}",
        )
        # Copies through numpy: on JAX, variables that share a buffer die
        # together when Keras frees the network's state during fit.
        dae.build((None, cache.width))
        dae.encoder.kernel.assign(to_numpy(dense.kernel))
        dae.encoder.bias.assign(to_numpy(dense.bias))
        if spec.sign_flip:
            dae.encoder_activation.signs.assign(to_numpy(activation_layer.signs))
        compile_for_paper(
            dae,
            learning_rate,
            loss=None,
            metrics=None,
            steps_per_execution=steps_per_execution_for(
                cache.rows, setting["batch_size"], options["steps_per_execution"]
            ),
            jit_compile=options["jit_compile"],
        )
        return dae

    return build, reconstruction


def sparse_factory(pair, spec, setting, rows, *, l1, seed, options):
    """``build(learning_rate)``: a fresh sparse-input autoencoder for a sparse first layer.

    Args:
        pair: the layer's ``(SparseDense, activation layer)``.
        spec: its :class:`~keras_sparse_rect.models.HiddenLayerSpec`.
        setting: its per-layer settings (``noise``, a ``BinaryFlipNoise``; ``batch_size``).
        rows: unlabeled examples.
        l1: the L1 penalty of the code.
        seed: the layer's seed, or ``None``.
        options: ``reconstruction_sampling``, ``sampled_zeros``,
            ``steps_per_execution``, ``jit_compile``.

    Returns:
        ``(build, "sigmoid_cross_entropy")``.

    Raises:
        ValueError: if the layer is sign-flipped or ``reconstruction`` is not
            the sigmoid cross-entropy.
    """
    dense, _ = pair
    reconstruction = sparse_reconstruction(spec.index, setting["reconstruction"])
    if spec.sign_flip:
        raise ValueError(
            f"hidden layer {spec.index} reads a sparse input and is sign-flipped; the "
            "sparse-input autoencoder has no sign flip (build the network with "
            "sign_flip=False)."
        )
    pepper, salt = setting["noise"].pepper_rate, setting["noise"].salt_rate
    # TensorFlow's sparse ops do not compile with XLA; JAX's BCOO ops do.
    jit = options["jit_compile"]
    jit = keras.backend.backend() == "jax" if jit == "auto" else jit

    def build(learning_rate):
        dae = SparseInputDenoisingAutoencoder(
            spec.units,
            activation=spec.activation,
            l1=l1,
            pepper_rate=pepper,
            salt_rate=salt,
            reconstruction_sampling=options["reconstruction_sampling"],
            sampled_zeros=options["sampled_zeros"],
            seed=seed,
            name=f"pretrain_layer_{spec.index}",
        )
        dae.build((None, int(dense.kernel.shape[0])))
        dae.encoder.kernel.assign(to_numpy(dense.kernel))
        dae.encoder.bias.assign(to_numpy(dense.bias))
        dae.compile(
            optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
            jit_compile=jit,
            steps_per_execution=steps_per_execution_for(
                rows, setting["batch_size"], options["steps_per_execution"]
            ),
        )
        return dae

    return build, reconstruction


def layer_factory(pair, spec, setting, cache, *, l1, seed, input_signs, options):
    """``(build, reconstruction)`` for hidden layer ``spec.index``: sparse-input or dense.

    A sparse first layer whose noise is a ``BinaryFlipNoise`` gets
    :func:`sparse_factory` (section 4.2), every other layer :func:`dense_factory`.
    """
    if is_sparse_input(spec, setting):
        return sparse_factory(pair, spec, setting, cache.rows, l1=l1, seed=seed, options=options)
    return dense_factory(
        pair, spec, setting, cache, l1=l1, seed=seed, input_signs=input_signs, options=options
    )


def is_sparse_input(spec, setting):
    """Whether the layer is pretrained on the sparse input itself (section 4.2)."""
    return spec.sparse_input and isinstance(setting["noise"], BinaryFlipNoise)


def copy_encoder(dae, pair, sign_flip):
    """Copies the trained encoder into the network's ``(Dense, activation layer)`` pair."""
    dense, activation_layer = pair
    kernel, bias = dae.encoder_weights()
    dense.kernel.assign(kernel)
    dense.bias.assign(bias)
    if sign_flip:
        activation_layer.signs.assign(to_numpy(dae.encoder_activation.signs))
