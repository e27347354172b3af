"""Greedy layer-wise pretraining as stacked denoising autoencoders (sections 3.2 and 4)."""

import contextlib
import json
import math
import os
import time
import warnings

import keras
import numpy as np

from keras_sparse_rect._validation import (
    check_int,
    check_non_negative,
    check_positive,
    check_rate,
    check_seed,
)
from keras_sparse_rect.callbacks._representation import (
    _CACHE_BATCH,
    _dead_fraction,
    _numpy,
    _raw_batches,
    _RepresentationCache,
    _rows,
    _ShuffledBatches,
)
from keras_sparse_rect.layers import BinaryFlipNoise, SignFlippedRectifier, make_noise
from keras_sparse_rect.models.deep_network import (
    STEPS_PER_EXECUTION,
    HiddenLayerSpec,
    _hidden_pairs,
    compile_for_paper,
    hidden_layer_specs,
    steps_per_execution_for,
)
from keras_sparse_rect.models.denoising_autoencoder import RECONSTRUCTIONS, DenoisingAutoencoder
from keras_sparse_rect.models.sparse_autoencoder import SparseInputDenoisingAutoencoder

_STATE_FILE = "state.json"
#: What ``GreedyLayerwisePretraining`` does when a layer collapses.
ON_COLLAPSE = ("warn", "raise", "ignore")
#: Examples of the unlabeled data on which dead units are counted (all, if fewer).
DEAD_UNIT_SAMPLE = 10_000
_SELECTION_HELD_OUT = 2_000


# Per-layer settings -------------------------------------------------------------


def _check_epochs(name, value):
    return check_int(name, value, 0)


def _check_batch_size(name, value):
    return check_int(name, value, 1)


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


def _check_l1(name, value):
    return None if value is None else check_non_negative(name, value)


def _check_tied(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be a bool; got {name}={value!r}.")
    return value


_CHECKS = {
    "epochs": _check_epochs,
    "learning_rate": check_positive,
    "noise": _check_noise,
    "reconstruction": _check_reconstruction,
    "batch_size": _check_batch_size,
    "l1": _check_l1,
    "tied": _check_tied,
}


def _per_layer(name, value):
    """Validates a setting: one value, or a list/tuple of one value per hidden layer."""
    check = _CHECKS[name]
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"`{name}` must not be an empty list; got {name}={value!r}.")
        return [check(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return check(name, value)


def _expand(name, value, num_layers):
    if not isinstance(value, list):
        return [value] * num_layers
    if len(value) != num_layers:
        raise ValueError(
            f"`{name}` has {len(value)} values but the model has {num_layers} hidden "
            f"layers; give one value or one per hidden layer; got {name}={value!r}."
        )
    return value


# Finding the hidden layers ------------------------------------------------------


def _hidden_layers(model):
    """``[(dense, activation), ...]`` named as by :func:`build_deep_network`."""
    pairs = _hidden_pairs(model)
    if not pairs:
        names = sorted(layer.name for layer in model.layers)
        raise ValueError(
            "GreedyLayerwisePretraining needs a model whose hidden layers are named "
            "'hidden_1_dense', 'hidden_1', 'hidden_2_dense', ... (see "
            f"keras_sparse_rect.models.build_deep_network); model {model.name!r} has "
            f"layers {names}."
        )
    return pairs


def _signs(layer):
    if isinstance(layer, SignFlippedRectifier):
        return _numpy(layer.signs).astype("float32")
    return None


class _SparseInput:
    """The unlabeled sparse input of a sparse first layer, used as it is (no cache)."""

    path = None

    def __init__(self, unlabeled):
        if not hasattr(unlabeled, "tocsr"):
            raise ValueError(
                "The first hidden layer reads a sparse input (SparseDense): `unlabeled` must "
                f"be a scipy.sparse matrix; got {type(unlabeled).__name__}."
            )
        self.data = unlabeled.tocsr()
        self.rows, self.width = self.data.shape

    def finish(self):
        return self.data

    def cleanup(self):
        self.data = None


def _shuffle_seed(dae, seed):
    """``fit``'s seed of the sparse batches' shuffling (a sparse-input autoencoder's only)."""
    return {"seed": seed} if isinstance(dae, SparseInputDenoisingAutoencoder) else {}


def _check_unlabeled(unlabeled):
    """``unlabeled`` as given, if it is an array of examples or a tf.data.Dataset."""
    if hasattr(unlabeled, "element_spec"):  # tf.data.Dataset
        return unlabeled
    if hasattr(unlabeled, "tocsr"):  # scipy.sparse
        return unlabeled
    if isinstance(unlabeled, (list, tuple)):
        try:
            unlabeled = np.asarray(unlabeled, dtype="float32")
        except (TypeError, ValueError):
            raise ValueError(
                "`unlabeled` must be numbers of shape (examples, ...); got a "
                f"{type(unlabeled).__name__} whose items are not numbers (first: "
                f"{unlabeled[0]!r})."
            ) from None
    shape = getattr(unlabeled, "shape", None)
    if shape is None or len(shape) < 2:
        raise ValueError(
            "`unlabeled` must be an array of shape (examples, ...), a scipy.sparse matrix or a "
            f"tf.data.Dataset; got unlabeled={unlabeled!r}."
        )
    dtype = getattr(unlabeled, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "biuf":
        raise ValueError(f"`unlabeled` must hold numbers; got an array of dtype {dtype}.")
    if isinstance(unlabeled, np.ndarray) and np.dtype(unlabeled.dtype).kind == "f":
        bad = np.argwhere(~np.isfinite(unlabeled))
        if bad.size:
            raise ValueError(
                f"`unlabeled` holds {bad.shape[0]} NaN or infinite values; the first is at "
                f"index {tuple(int(i) for i in bad[0])}."
            )
    return unlabeled


def _check_width(unlabeled, model):
    """``unlabeled``'s example shape must be the network's input shape."""
    shape = getattr(unlabeled, "shape", None)
    expected = tuple(model.inputs[0].shape[1:])
    if shape is None or None in expected:
        return
    if tuple(shape[1:]) != expected:
        raise ValueError(
            f"`unlabeled` has examples of shape {tuple(shape[1:])} but model "
            f"{model.name!r} takes inputs of shape {expected}."
        )


class PretrainingCollapseError(RuntimeError):
    """A pretrained layer diverged, or lost most of its units with ``on_collapse="raise"``."""


# The callback -------------------------------------------------------------------


class GreedyLayerwisePretraining(keras.callbacks.Callback):
    """Pretrains a network's hidden layers as stacked denoising autoencoders.

    Section 3.2 and 4: before supervised fine-tuning, hidden layer 1, 2, ... is
    trained in turn as a :class:`~keras_sparse_rect.models.DenoisingAutoencoder`
    on the clean representation computed by the layers below it (greedy
    layer-wise pretraining, Vincent et al., 2008). Pass it to ``fit`` of a
    network from :func:`~keras_sparse_rect.models.build_deep_network`: at the
    beginning of training, before the first supervised epoch, it

    1. computes the input of hidden layer ``k`` for all of ``unlabeled`` **once**,
       with the network's current weights, and caches it (in memory, or in a
       temporary file streamed by blocks of rows when it is larger than
       ``max_cache_bytes``); the layers below are never re-run during training;
    2. builds an autoencoder with layer ``k``'s units, non-linearity, sign pattern
       and L1 penalty, starting from layer ``k``'s initial weights, and trains it
       with SGD on mini-batches (:func:`compile_for_paper`);
    3. copies the trained encoder into layer ``k`` (kernel and bias; see
       ``DenoisingAutoencoder.encoder_weights`` for the scaled strategy), and
       goes on with layer ``k + 1``.

    Then ``fit`` fine-tunes the whole network. Without this callback the same
    network trains from random initialisation: the two halves of Table 1.
    ``unlabeled`` may be larger than the labeled set (semi-supervised, Figure 3
    right).

    Each of ``epochs``, ``learning_rate``, ``noise``, ``reconstruction``,
    ``batch_size``, ``l1`` and ``tied`` is one value for every hidden layer, or a
    list with one value per hidden layer (e.g. Glorot's text setting
    ``learning_rate=[0.005, 0.001, 0.001]``, ``noise=[SaltAndPepperNoise(0.1),
    0.5, 0.3]``). ``epochs`` 0 leaves a layer as it is.

    ``reconstruction="auto"`` is section 4.1's choice: ``"softplus_quadratic"``
    for rectifier and softplus networks, ``"sigmoid_cross_entropy"`` for tanh
    networks (with ``target_range`` (0, 1) or (-1, 1), read off the cached
    input). Below a sign-flipped rectifier layer the autoencoder gets that layer's
    sign pattern as ``input_signs``, as in Glorot's code.

    **Sparse input.** A first layer that reads a sparse input (``SparseDense``,
    ``build_deep_network(sparse=True)``, e.g. section 4.2's bags of words) whose
    ``noise`` is a :class:`~keras_sparse_rect.layers.BinaryFlipNoise` is
    pretrained by a :class:`~keras_sparse_rect.models.SparseInputDenoisingAutoencoder`
    on the scipy.sparse ``unlabeled`` itself (its rates, sigmoid cross-entropy,
    ``reconstruction_sampling``), never densified; with any other noise it is
    pretrained on its densified input like the layers above.

    **Logs.** The reconstruction cost of each layer and epoch (training,
    corrupted input) is recorded as ``pretrain/layer_<k>/reconstruction`` and the
    total cost (with the L1 penalty) as ``pretrain/layer_<k>/loss``: in
    ``self.history`` as soon as a layer is done, in the ``History`` returned by
    ``fit`` (one list per key, one value per pretraining epoch), and, with
    ``log_dir``, as TensorBoard scalars (step = pretraining epoch) in
    ``<log_dir>/pretrain``. The trained autoencoders stay in ``self.autoencoders``.

    **Collapse.** After each layer is pretrained, the fraction of its units that
    are dead (exactly 0 on every one of ``dead_unit_sample`` unlabeled
    examples, section 3.1) is logged as ``pretrain/layer_<k>/dead_fraction``
    and kept in ``self.dead_fractions``. A layer past ``collapse_threshold``, or
    whose reconstruction cost became NaN, is listed in ``self.collapsed_layers``
    and, with ``on_collapse="warn"`` (default), named in one warning line;
    ``"raise"`` stops with :class:`PretrainingCollapseError` instead. A layer
    that diverged stops pretraining (the error) unless ``on_collapse="ignore"``:
    fine-tuning NaN weights could only fail, and blame its own learning rate.

    **Once only.** Pretraining runs at the first ``fit`` only: not again on a
    later ``fit`` call, and not when the network's optimizer has already taken
    steps (e.g. weights restored by ``BackupAndRestore``, placed before this
    callback). With ``checkpoint_dir`` each finished layer's weights are saved
    there, and an interrupted pretraining resumes from its last finished layer
    (restoring the finished layers into the network).

    Args:
        unlabeled: the inputs to pretrain on: an array (numpy, scipy.sparse), or
            a ``tf.data.Dataset`` of inputs or ``(inputs, labels)``, batched or not.
        epochs: pretraining epochs per layer, >= 0.
        learning_rate: constant SGD learning rate per layer (the paper explored
            0.1, 0.01, 0.001, 0.0001). The default, 0.001, is the safe end: the
            inputs of higher layers are larger than pixels, and on the digits 0.01
            made the second layer of a rectifier network diverge, while
            ``[0.01, 0.001, 0.001]`` trained well.
        noise: corruption per layer: a masking rate, a noise layer, or ``None``
            (section 4.1: masking noise, 0.25).
        reconstruction: ``"auto"`` or one of ``DenoisingAutoencoder``'s strategies.
        batch_size: mini-batch size per layer (the paper: 10).
        l1: L1 activation penalty during pretraining; ``None`` uses the
            network layer's own (``ActivityL1``) coefficient.
        tied: tie decoder and encoder weights.
        checkpoint_dir: directory for resumable progress, or ``None``.
        log_dir: TensorBoard directory, or ``None``.
        callbacks: extra callbacks for each autoencoder's ``fit``.
        steps_per_execution: see :func:`compile_for_paper`.
        jit_compile: see :func:`compile_for_paper`.
        max_cache_bytes: largest representation kept in memory (default 2 GiB).
        collapse_threshold: largest fraction of dead units, in [0, 1], that a
            pretrained layer may have without counting as collapsed.
        eligible_dead_fraction: with ``select_learning_rate``, the largest
            fraction of dead units, in [0, 1], that a candidate rate may leave
            (in its trial, then in full training) and still be preferred; the
            stricter of it and ``collapse_threshold`` holds. Candidates between
            the two are tried only when no preferred one is left. On full MNIST
            a rate that left 29.8% of layer 2 dead, under a 0.5 bound, cost the
            fine-tuned network 0.3 points of test error (README, Table 1).
        on_collapse: ``"warn"``, ``"raise"`` or ``"ignore"``.
        dead_unit_sample: unlabeled examples on which dead units are counted.
        select_learning_rate: ``None``, or candidate rates (section 4.1:
            ``PAPER_LEARNING_RATES``, 0.1 to 0.0001): per layer, greedily, the one
            whose short trial (``selection_epochs`` on ``selection_examples``
            cached rows) has the lowest clean reconstruction cost on 2,000 other
            rows, among those that do not collapse the layer (a dead unit
            reconstructs with the bias alone, which a short trial can make cheap;
            see ``eligible_dead_fraction``), is chosen and the layer is then
            trained fully with it; if the full training leaves more than
            ``eligible_dead_fraction`` of the units dead, the next-best candidate
            is trained instead (``pretrain/layer_<k>/rejected/<rate>``: its dead
            fraction), and when every one does, the training with the fewest dead
            units is kept (``learning_rate`` is then unused). Logged as
            ``pretrain/layer_<k>/learning_rate`` and ``.../selection/<rate>``.
        selection_examples: rows of the cached input each trial trains on.
        selection_epochs: epochs of each trial.
        layers: the :class:`~keras_sparse_rect.models.HiddenLayerSpec` of each
            hidden layer (activation, sign flip, L1, sparse input); ``None`` takes
            the network's own (``model.hidden_layer_specs`` of
            :func:`build_deep_network`, or described from its layers).
        reconstruction_sampling: a sparse first layer's autoencoder decodes the
            present terms and a weighted sample of the absent ones (section 4.2;
            see below).
        sampled_zeros: absent terms sampled per batch by reconstruction sampling.
        sign_consistent: the tied decoder of a sign-flipped layer decodes the
            unsigned code with the encoder's effective weights (see
            ``DenoisingAutoencoder``); ``False`` is DeepANN's decoder, which
            kills units of the second layer on full MNIST.
        seed: int seed of the corruption; ``None`` for random.
        verbose: verbosity of each autoencoder's ``fit`` (0, 1 or 2).

    Example:

    >>> from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
    >>> from keras_sparse_rect.models import build_deep_network, compile_for_paper
    >>> model = build_deep_network((784,), 10)
    >>> compile_for_paper(model, learning_rate=0.01)
    >>> pretraining = GreedyLayerwisePretraining(x_unlabeled, epochs=10, learning_rate=0.001)
    >>> model.fit(x, y, batch_size=10, epochs=10, callbacks=[pretraining])  # doctest: +SKIP
    """

    def __init__(
        self,
        unlabeled,
        epochs=10,
        learning_rate=0.001,
        noise=0.25,
        reconstruction="auto",
        batch_size=10,
        l1=None,
        tied=True,
        *,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        steps_per_execution=STEPS_PER_EXECUTION,
        jit_compile="auto",
        max_cache_bytes=2 * 2**30,
        collapse_threshold=0.5,
        eligible_dead_fraction=0.1,
        on_collapse="warn",
        dead_unit_sample=DEAD_UNIT_SAMPLE,
        sign_consistent=True,
        select_learning_rate=None,
        selection_examples=10_000,
        selection_epochs=1,
        layers=None,
        reconstruction_sampling=True,
        sampled_zeros=256,
        seed=None,
        verbose=0,
    ):
        super().__init__()
        self.unlabeled = _check_unlabeled(unlabeled)
        if layers is not None:
            layers = tuple(layers)
            if not layers or not all(isinstance(spec, HiddenLayerSpec) for spec in layers):
                raise ValueError(
                    "`layers` must be None or a non-empty sequence of HiddenLayerSpec (see "
                    f"build_deep_network's model.hidden_layer_specs); got layers={layers!r}."
                )
        self.layers = layers
        if not isinstance(reconstruction_sampling, bool):
            raise ValueError(
                "`reconstruction_sampling` must be a bool; got "
                f"reconstruction_sampling={reconstruction_sampling!r}."
            )
        self.reconstruction_sampling = reconstruction_sampling
        self.sampled_zeros = check_int("sampled_zeros", sampled_zeros, 1)
        self.settings = {
            "epochs": _per_layer("epochs", epochs),
            "learning_rate": _per_layer("learning_rate", learning_rate),
            "noise": _per_layer("noise", noise),
            "reconstruction": _per_layer("reconstruction", reconstruction),
            "batch_size": _per_layer("batch_size", batch_size),
            "l1": _per_layer("l1", l1),
            "tied": _per_layer("tied", tied),
        }
        self.checkpoint_dir = None if checkpoint_dir is None else os.fspath(checkpoint_dir)
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.callbacks = list(callbacks or [])
        self.steps_per_execution = check_int("steps_per_execution", steps_per_execution, 1)
        self.jit_compile = jit_compile
        self.max_cache_bytes = check_int("max_cache_bytes", max_cache_bytes, 0)
        self.collapse_threshold = check_rate(
            "collapse_threshold", collapse_threshold, allow_one=True
        )
        self.eligible_dead_fraction = check_rate(
            "eligible_dead_fraction", eligible_dead_fraction, allow_one=True
        )
        if on_collapse not in ON_COLLAPSE:
            raise ValueError(
                f"`on_collapse` must be one of {list(ON_COLLAPSE)}; got "
                f"on_collapse={on_collapse!r}."
            )
        self.on_collapse = on_collapse
        self.dead_unit_sample = check_int("dead_unit_sample", dead_unit_sample, 1)
        if not isinstance(sign_consistent, bool):
            raise ValueError(
                f"`sign_consistent` must be a bool; got sign_consistent={sign_consistent!r}."
            )
        self.sign_consistent = sign_consistent
        if select_learning_rate is not None:
            if isinstance(select_learning_rate, (str, bytes)) or not hasattr(
                select_learning_rate, "__iter__"
            ):
                raise ValueError(
                    "`select_learning_rate` must be None or a sequence of learning rates; got "
                    f"select_learning_rate={select_learning_rate!r}."
                )
            select_learning_rate = tuple(
                check_positive(f"select_learning_rate[{i}]", v)
                for i, v in enumerate(select_learning_rate)
            )
            if not select_learning_rate:
                raise ValueError("`select_learning_rate` must not be empty; got ().")
        self.select_learning_rate = select_learning_rate
        self.selection_examples = check_int("selection_examples", selection_examples, 1)
        self.selection_epochs = check_int("selection_epochs", selection_epochs, 1)
        self.seed = check_seed("seed", seed)
        if verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2; got verbose={verbose!r}.")
        self.verbose = verbose

        #: Number of hidden layers pretrained (or restored) so far.
        self.completed_layers = 0
        #: ``{"pretrain/layer_<k>/reconstruction": [per epoch], ...}``.
        self.history = {}
        #: The trained autoencoders, one per hidden layer (``None`` if restored or skipped).
        self.autoencoders = []
        #: ``{layer: fraction of its units dead}`` for every pretrained layer (1-based).
        self.dead_fractions = {}
        #: 1-based numbers of the layers whose dead fraction exceeded ``collapse_threshold``
        #: or whose reconstruction cost became NaN or infinite.
        self.collapsed_layers = []
        self.done = False
        self._ran_in_this_fit = False

    def pretrain(self, model):
        """Pretrains ``model``'s hidden layers now, without ``fit``; returns :attr:`history`.

        For pretraining on its own, e.g. once before several fine-tunings (the
        sentiment experiment pretrains one stack and fine-tunes a copy per fold).
        The same rules hold as in ``fit``: once only, resumable with
        ``checkpoint_dir``. ``model`` need not be compiled.

        Example:

        >>> pretraining = GreedyLayerwisePretraining(x_unlabeled, epochs=10)
        >>> pretraining.pretrain(model)["pretrain/layer_1/reconstruction"]  # doctest: +SKIP
        """
        if not isinstance(model, keras.Model):
            raise ValueError(f"`model` must be a keras.Model; got model={model!r}.")
        self.set_model(model)
        self.on_train_begin()
        return self.history

    # Callback hooks ---------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._ran_in_this_fit = False
        if self.done:
            return
        pairs = _hidden_layers(self.model)
        specs = self.layers if self.layers is not None else hidden_layer_specs(self.model)
        if len(specs) != len(pairs):
            raise ValueError(
                f"`layers` describes {len(specs)} hidden layers but model {self.model.name!r} "
                f"has {len(pairs)}."
            )
        _check_width(self.unlabeled, self.model)
        expanded = {name: _expand(name, v, len(pairs)) for name, v in self.settings.items()}
        settings = [{name: v[i] for name, v in expanded.items()} for i in range(len(pairs))]
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        if iterations is not None and int(keras.ops.convert_to_numpy(iterations)) > 0:
            warnings.warn(
                "GreedyLayerwisePretraining: the network's optimizer has already taken "
                "steps (a later fit, or restored weights); pretraining is skipped.",
                stacklevel=2,
            )
            self._restore_records(pairs)  # a resumed run still reports its pretraining
            self.done = True
            return
        self.autoencoders = [None] * len(pairs)
        self.completed_layers = self._restore(pairs)
        strategy = getattr(self.model, "distribute_strategy", None)
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            for index in range(self.completed_layers, len(pairs)):
                if settings[index]["epochs"] > 0:
                    self._pretrain_layer(index, pairs, specs[index], settings[index])
                self.completed_layers = index + 1
                self._save(pairs)
        self.done = True
        self._ran_in_this_fit = True

    def on_train_end(self, logs=None):
        history = getattr(self.model, "history", None)
        if self._ran_in_this_fit and isinstance(history, keras.callbacks.History):
            history.history.update({key: list(values) for key, values in self.history.items()})

    # One layer ----------------------------------------------------------------------

    def _pretrain_layer(self, index, pairs, spec, setting):
        dense, activation_layer = pairs[index]
        activation, sign_flip = spec.activation, spec.sign_flip
        input_signs = _signs(pairs[index - 1][1]) if index > 0 else None
        layer = index + 1
        started = time.perf_counter()
        l1 = spec.l1 if setting["l1"] is None else setting["l1"]
        seed = None if self.seed is None else self.seed + index
        sparse_dae = spec.sparse_input and isinstance(setting["noise"], BinaryFlipNoise)
        if sparse_dae:
            cache = _SparseInput(self.unlabeled)
            reconstruction = self._sparse_reconstruction(layer, setting)
        else:
            cache = self._cache_representation(dense, input_signs)
        selection, rejected = {}, {}
        try:
            data = cache.finish()
            if sparse_dae:
                autoencoder = self._sparse_autoencoder(dense, spec, setting, l1, seed)
            else:
                reconstruction = setting["reconstruction"]
                if reconstruction == "auto":
                    reconstruction = (
                        "sigmoid_cross_entropy" if activation == "tanh" else "softplus_quadratic"
                    )
                target_range = self._target_range(layer, reconstruction, cache)

                def autoencoder(learning_rate):
                    """A fresh autoencoder from layer ``k``'s current (initial) weights."""
                    dae = DenoisingAutoencoder(
                        dense.units,
                        activation=activation,
                        sign_flip=sign_flip,
                        l1=l1,
                        noise=make_noise(setting["noise"], seed),  # a fresh copy each time
                        reconstruction=reconstruction,
                        tied=setting["tied"],
                        target_range=target_range,
                        input_signs=input_signs,
                        seed=seed,
                        sign_consistent=self.sign_consistent,
                        name=f"pretrain_layer_{layer}",
                    )
                    # Copies through numpy: on JAX, variables that share a buffer die
                    # together when Keras frees the network's state during fit.
                    dae.build((None, cache.width))
                    dae.encoder.kernel.assign(_numpy(dense.kernel))
                    dae.encoder.bias.assign(_numpy(dense.bias))
                    if sign_flip:
                        dae.encoder_activation.signs.assign(_numpy(activation_layer.signs))
                    compile_for_paper(
                        dae,
                        learning_rate,
                        loss=None,
                        metrics=None,
                        steps_per_execution=steps_per_execution_for(
                            cache.rows, setting["batch_size"], self.steps_per_execution
                        ),
                        jit_compile=self.jit_compile,
                    )
                    return dae

            ranked = [setting["learning_rate"]]
            if self.select_learning_rate is not None:
                ranked, selection, trial_dead = self._select(autoencoder, data, setting, seed)
                if self.verbose:
                    print(
                        _selection_line(
                            layer,
                            ranked,
                            selection,
                            trial_dead,
                            self.collapse_threshold,
                            self._eligible_bound,
                        )
                    )
            if getattr(cache, "path", None) is None:
                inputs, batch_size = data, setting["batch_size"]
            else:
                inputs = _ShuffledBatches(data, setting["batch_size"], seed=seed)
                batch_size = None
            kept = None  # (score, dead, learning rate, autoencoder, history): best attempt
            for learning_rate in ranked:
                dae = autoencoder(learning_rate)
                dae.adapt(data)
                if self.verbose:
                    where = "in memory" if getattr(cache, "path", None) is None else "from disk"
                    print(
                        f"Pretraining hidden layer {layer}/{len(pairs)} ({dense.units} units, "
                        f"{reconstruction}, learning rate {learning_rate:g}) on {cache.rows} "
                        f"examples ({where})."
                    )
                result = dae.fit(
                    inputs,
                    batch_size=batch_size,
                    epochs=setting["epochs"],
                    shuffle=True,
                    verbose=self.verbose,
                    callbacks=self.callbacks,
                    **_shuffle_seed(dae, seed),
                )
                dead = _dead_fraction(dae, data, self.dead_unit_sample, self.seed)
                finite = all(math.isfinite(v) for v in result.history["reconstruction"])
                score = dead if finite else math.inf
                if kept is None or score < kept[0]:
                    kept = (score, dead, learning_rate, dae, result)
                if len(ranked) == 1 or score <= self._eligible_bound:
                    break
                # A full epoch can kill units that the short trial left alive: the
                # selection goes on to the next-best candidate.
                rejected[float(learning_rate)] = score
                if self.verbose:
                    print(
                        f"Hidden layer {layer}: learning rate {learning_rate:g} left "
                        f"{100 * dead:.1f}% of the units dead in full training (more than "
                        f"{100 * self._eligible_bound:g}%); trying the next-best candidate."
                    )
            # The accepted attempt, or, when every candidate left too many dead
            # units, the one that left the fewest.
            _, dead, learning_rate, dae, result = kept
            rejected.pop(float(learning_rate), None)
        finally:
            data = None
            cache.cleanup()
        kernel, bias = dae.encoder_weights()
        dense.kernel.assign(kernel)
        dense.bias.assign(bias)
        if sign_flip:
            activation_layer.signs.assign(_numpy(dae.encoder_activation.signs))
        self.autoencoders[index] = dae
        logs = {
            f"pretrain/layer_{layer}/{key}": [float(v) for v in result.history[key]]
            for key in ("reconstruction", "loss")
        }
        logs[f"pretrain/layer_{layer}/dead_fraction"] = [dead]
        logs[f"pretrain/layer_{layer}/learning_rate"] = [float(learning_rate)]
        for rate, cost in selection.items():
            logs[f"pretrain/layer_{layer}/selection/{rate:g}"] = [cost]
        for rate, fraction in rejected.items():
            logs[f"pretrain/layer_{layer}/rejected/{rate:g}"] = [fraction]
        self.history.update(logs)
        self._write_tensorboard(logs)
        if self.verbose:
            print(
                f"Hidden layer {layer} pretrained in {time.perf_counter() - started:.1f} s; "
                f"{100 * dead:.1f}% of its units dead."
            )
        self._check_collapse(layer, dense.units, dead, logs, learning_rate)

    @staticmethod
    def _sparse_reconstruction(layer, setting):
        if setting["reconstruction"] not in ("auto", "sigmoid_cross_entropy"):
            raise ValueError(
                f"hidden layer {layer} reads a sparse input: its autoencoder reconstructs "
                "with the sigmoid cross-entropy (section 4.2); `reconstruction` must be 'auto' "
                f"or 'sigmoid_cross_entropy' for it; got {setting['reconstruction']!r}."
            )
        return "sigmoid_cross_entropy"

    def _sparse_autoencoder(self, dense, spec, setting, l1, seed):
        """A factory of :class:`SparseInputDenoisingAutoencoder` for a sparse first layer."""
        pepper, salt = setting["noise"].pepper_rate, setting["noise"].salt_rate
        if spec.sign_flip:
            raise ValueError(
                f"hidden layer {spec.index} reads a sparse input and is sign-flipped; the "
                "sparse-input autoencoder has no sign flip (build the network with "
                "sign_flip=False)."
            )
        # TensorFlow's sparse ops do not compile with XLA; JAX's BCOO ops do.
        jit = keras.backend.backend() == "jax" if self.jit_compile == "auto" else self.jit_compile

        def autoencoder(learning_rate):
            dae = SparseInputDenoisingAutoencoder(
                spec.units,
                activation=spec.activation,
                l1=l1,
                pepper_rate=pepper,
                salt_rate=salt,
                reconstruction_sampling=self.reconstruction_sampling,
                sampled_zeros=self.sampled_zeros,
                seed=seed,
                name=f"pretrain_layer_{spec.index}",
            )
            dae.build((None, int(dense.kernel.shape[0])))
            dae.encoder.kernel.assign(_numpy(dense.kernel))
            dae.encoder.bias.assign(_numpy(dense.bias))
            dae.compile(
                optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                jit_compile=jit,
                steps_per_execution=steps_per_execution_for(
                    int(self.unlabeled.shape[0]), setting["batch_size"], self.steps_per_execution
                ),
            )
            return dae

        return autoencoder

    def _select(self, autoencoder, data, setting, seed):
        """Section 4.1: the candidate rate with the lowest held-out reconstruction cost.

        Each candidate trains a fresh autoencoder (the same initial weights) for
        ``selection_epochs`` on up to ``selection_examples`` rows of the cached
        input; the clean reconstruction cost of other rows decides, among the
        candidates that leave at most ``eligible_dead_fraction`` of the units
        dead, then among those under ``collapse_threshold``. Returns ``(eligible
        rates, best first; {rate: cost}; {rate: dead fraction})``; a diverged
        candidate's cost is ``inf``.
        """
        rows = data.shape[0]
        held_out = max(1, min(_SELECTION_HELD_OUT, rows // 5))
        count = min(self.selection_examples, rows - held_out)
        if count < 1:
            raise ValueError(
                f"GreedyLayerwisePretraining: {rows} unlabeled examples are too few to "
                "select a learning rate (select_learning_rate needs at least 2)."
            )
        order = np.random.default_rng(seed).permutation(rows)
        train = _rows(data, np.sort(order[:count]))
        valid = _rows(data, np.sort(order[count : count + held_out]))
        costs, dead = {}, {}
        for rate in self.select_learning_rate:
            dae = autoencoder(rate)
            dae.adapt(train)
            dae.fit(
                train,
                batch_size=setting["batch_size"],
                epochs=self.selection_epochs,
                shuffle=True,
                verbose=0,
                **_shuffle_seed(dae, seed),
            )
            cost = float(
                dae.evaluate(valid, batch_size=_CACHE_BATCH, verbose=0, return_dict=True)[
                    "reconstruction"
                ]
            )
            costs[float(rate)] = cost if math.isfinite(cost) else math.inf
            dead[float(rate)] = _dead_fraction(dae, valid, self.dead_unit_sample, seed)
        # A dead unit reconstructs with the decoder's bias alone, which a short trial
        # can make cheap: a candidate that kills the layer is not eligible.
        # Units that a trial kills seldom come back in full training: a candidate
        # that kills many is tried only after those that kill few.
        finite = [rate for rate in costs if math.isfinite(costs[rate])]
        preferred = [rate for rate in finite if dead[rate] <= self._eligible_bound]
        tolerated = [
            rate for rate in finite if self._eligible_bound < dead[rate] <= self.collapse_threshold
        ]
        if not preferred and not tolerated:  # all diverged or collapsed: the smallest rate
            return [min(costs)], costs, dead

        def by_cost(rates):
            return sorted(rates, key=lambda rate: (costs[rate], -rate))

        return by_cost(preferred) + by_cost(tolerated), costs, dead

    @property
    def _eligible_bound(self):
        """The dead fraction up to which a candidate rate is preferred."""
        return min(self.eligible_dead_fraction, self.collapse_threshold)

    def _check_collapse(self, layer, units, dead, logs, learning_rate):
        """Records the layer's dead fraction; warns or raises past the threshold."""
        self.dead_fractions[layer] = dead
        costs = logs[f"pretrain/layer_{layer}/reconstruction"]
        diverged = not all(math.isfinite(v) for v in costs)
        if not diverged and dead <= self.collapse_threshold:
            return
        self.collapsed_layers.append(layer)
        if diverged:
            message = (
                f"GreedyLayerwisePretraining: hidden layer {layer}'s reconstruction cost became "
                f"{costs[-1]} (diverged) at pretraining learning_rate={learning_rate:g}; lower it."
            )
        else:
            message = (
                f"GreedyLayerwisePretraining: hidden layer {layer} collapsed: "
                f"{round(dead * units)} of its {units} units ({100 * dead:.1f}%) are dead after "
                f"pretraining (threshold {100 * self.collapse_threshold:g}%); try a lower "
                f"pretraining learning_rate (it was {learning_rate:g}) or a smaller l1."
            )
        # A diverged layer would hand NaN to fine-tuning, whose learning rate would then
        # be blamed: it stops here unless the collapse is to be ignored.
        if self.on_collapse == "raise" or (diverged and self.on_collapse == "warn"):
            raise PretrainingCollapseError(message)
        if self.on_collapse == "warn":
            warnings.warn(message, stacklevel=3)

    def _cache_representation(self, dense, input_signs):
        """The input of ``dense`` for every unlabeled example, computed once."""
        model = self.model
        inputs = model.inputs[0]
        probe = None if dense.input is inputs else keras.Model(inputs, dense.input)
        cache = _RepresentationCache(self.max_cache_bytes, signs=input_signs)
        for batch in _raw_batches(self.unlabeled, _CACHE_BATCH, len(inputs.shape)):
            if probe is not None:
                batch = np.asarray(keras.ops.convert_to_numpy(probe.predict_on_batch(batch)))
            cache.append(batch)
        return cache

    @staticmethod
    def _target_range(layer, reconstruction, cache):
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

    # Logging and checkpoints -------------------------------------------------------

    def _write_tensorboard(self, logs):
        if self.log_dir is None:
            return
        import tensorflow as tf  # TensorBoard summaries (tensorflow is a dependency)

        writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "pretrain"))
        with writer.as_default():
            for tag, values in logs.items():
                for epoch, value in enumerate(values):
                    tf.summary.scalar(tag, value, step=epoch)
        writer.flush()
        writer.close()

    def _save(self, pairs):
        if self.checkpoint_dir is None:
            return
        os.makedirs(self.checkpoint_dir, exist_ok=True)
        index = self.completed_layers - 1
        dense, activation_layer = pairs[index]
        arrays = {"kernel": _numpy(dense.kernel), "bias": _numpy(dense.bias)}
        signs = _signs(activation_layer)
        if signs is not None:
            arrays["signs"] = signs
        path = os.path.join(self.checkpoint_dir, f"layer_{index + 1}.npz")
        with open(path + ".tmp", "wb") as f:
            np.savez(f, **arrays)
        os.replace(path + ".tmp", path)
        state = {
            "completed_layers": self.completed_layers,
            "shapes": [list(d.kernel.shape) for d, _ in pairs],
            "history": self.history,
            "collapsed_layers": self.collapsed_layers,
            "dead_fractions": {str(k): v for k, v in self.dead_fractions.items()},
        }
        path = os.path.join(self.checkpoint_dir, _STATE_FILE)
        with open(path + ".tmp", "w") as f:
            json.dump(state, f, indent=1)
        os.replace(path + ".tmp", path)

    def _restore_records(self, pairs):
        """Loads the history and dead fractions of ``checkpoint_dir``, not the weights."""
        if self.checkpoint_dir is None:
            return
        path = os.path.join(self.checkpoint_dir, _STATE_FILE)
        try:
            with open(path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            return
        if state.get("shapes") != [list(d.kernel.shape) for d, _ in pairs]:
            return
        self.history.update(state.get("history", {}))
        self.dead_fractions.update(
            {int(k): float(v) for k, v in state.get("dead_fractions", {}).items()}
        )
        self.collapsed_layers = [int(k) for k in state.get("collapsed_layers", [])]

    def _restore(self, pairs):
        """Loads finished layers from ``checkpoint_dir``; returns how many."""
        if self.checkpoint_dir is None:
            return 0
        path = os.path.join(self.checkpoint_dir, _STATE_FILE)
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            state = json.load(f)
        shapes = [list(d.kernel.shape) for d, _ in pairs]
        if state["shapes"] != shapes:
            raise ValueError(
                f"`checkpoint_dir`={self.checkpoint_dir!r} holds pretraining of hidden "
                f"layers of shapes {state['shapes']}; this model's are {shapes}."
            )
        completed = int(state["completed_layers"])
        for index in range(completed):
            dense, activation_layer = pairs[index]
            with np.load(os.path.join(self.checkpoint_dir, f"layer_{index + 1}.npz")) as arrays:
                dense.kernel.assign(arrays["kernel"])
                dense.bias.assign(arrays["bias"])
                if "signs" in arrays and isinstance(activation_layer, SignFlippedRectifier):
                    activation_layer.signs.assign(arrays["signs"])
        self.history.update(state.get("history", {}))
        self.dead_fractions.update(
            {int(k): float(v) for k, v in state.get("dead_fractions", {}).items()}
        )
        self.collapsed_layers = [int(k) for k in state.get("collapsed_layers", [])]
        if completed and self.verbose:
            print(f"Resumed pretraining: {completed} hidden layer(s) restored from checkpoint.")
        return completed


def _selection_line(layer, ranked, costs, dead, threshold, preferred=None):
    """The chosen rate and every candidate's trial cost, naming those that were not eligible.

    ``preferred`` (default: ``threshold``) is the dead fraction up to which a
    candidate is preferred; those between it and ``threshold`` are marked as
    tried after the others.
    """
    preferred = threshold if preferred is None else preferred
    parts, any_eligible = [], False
    for rate, cost in costs.items():
        text = f"{rate:g}: {cost:.4g}"
        if not math.isfinite(cost):
            text += " (diverged)"
        elif dead[rate] > threshold:
            text += f" ({100 * dead[rate]:.0f}% of the units dead: not eligible)"
        elif dead[rate] > preferred:
            text += f" ({100 * dead[rate]:.0f}% of the units dead: tried last)"
            any_eligible = True
        else:
            any_eligible = True
        parts.append(text)
    verdict = (
        "has the lowest held-out reconstruction cost of the candidates that leave the layer alive"
        if any_eligible
        else "is the smallest candidate (none left the layer alive)"
    )
    costs_text = ", ".join(parts)
    return (
        f"Hidden layer {layer}: pretraining learning rate {ranked[0]:g} {verdict} ({costs_text})."
    )
