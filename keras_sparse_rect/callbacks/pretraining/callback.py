"""The greedy layer-wise pretraining callback (sections 3.2 and 4.1)."""

import contextlib
import dataclasses
import time
import warnings

import keras

from keras_sparse_rect._validation import check_bool, check_choice, check_int, check_seed
from keras_sparse_rect.callbacks.history import layer_values, pretraining_key
from keras_sparse_rect.callbacks.pretraining import checkpoint as _checkpoint
from keras_sparse_rect.callbacks.pretraining import collapse as _collapse
from keras_sparse_rect.callbacks.pretraining.autoencoders import (
    check_layer_specs,
    copy_encoder,
    is_sparse_input,
    layer_factory,
    layers_to_pretrain,
    shuffle_seed,
    signs_of,
)
from keras_sparse_rect.callbacks.pretraining.collapse import PretrainingCollapseError
from keras_sparse_rect.callbacks.pretraining.deprecated import resolve
from keras_sparse_rect.callbacks.pretraining.records import TensorBoardWriter, layer_logs
from keras_sparse_rect.callbacks.pretraining.representation import (
    check_unlabeled,
    check_width,
    fit_inputs,
    layer_input,
)
from keras_sparse_rect.callbacks.pretraining.selection import (
    Attempt,
    selection_line,
    train_first_eligible,
)
from keras_sparse_rect.callbacks.pretraining.settings import LayerSettings
from keras_sparse_rect.models import STEPS_PER_EXECUTION

_OPTIONS = (
    "sign_consistent", "steps_per_execution", "jit_compile", "reconstruction_sampling",
    "sampled_zeros",
)  # fmt: skip


class GreedyLayerwisePretraining(keras.callbacks.Callback):
    """Pretrains a network's hidden layers as stacked denoising autoencoders.

    Section 3.2 and 4.1: before supervised fine-tuning, hidden layer 1, 2, ... is
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

    Each per-layer setting is one value, a one-item list, or one value per
    hidden layer (e.g. Glorot's text setting ``learning_rate=[0.005, 0.001,
    0.001]``); ``epochs`` 0 leaves a layer as it is. ``reconstruction="auto"`` is
    section 4.1's choice (:mod:`.autoencoders`). A sparse first layer (section
    4.2) with ``BinaryFlipNoise`` is pretrained on the scipy.sparse input itself.

    **Logs.** Each layer's reconstruction cost and loss per epoch, dead fraction
    and learning rate (:mod:`.records`) go to ``self.history``, the ``History``
    of ``fit`` and, with ``log_dir``, TensorBoard (``<log_dir>/pretrain``). The
    autoencoders stay in ``self.autoencoders``, the rates in ``self.learning_rates``.

    **Learning rates.** With ``rate_selection`` (a :class:`RateSelection`),
    each layer's rate is chosen among candidates by short trials (section 4.1),
    logged as ``pretrain/layer_<k>/selection/<rate>``; ``learning_rate`` is then unused.

    **Collapse.** After each layer is pretrained, the fraction of its units that
    are dead (section 3.1) is logged as ``pretrain/layer_<k>/dead_fraction`` and
    kept in ``self.dead_fractions``. A layer past the ``collapse`` policy's
    threshold, or whose reconstruction cost became NaN, is listed in
    ``self.collapsed_layers`` and handled as :class:`CollapsePolicy` says
    (by default a warning; a divergence raises :class:`PretrainingCollapseError`).
    A pretraining that fails so removes the TensorBoard files and the empty
    folders it made.

    **Once only.** Pretraining runs at the first ``fit`` only: not again on a
    later ``fit`` call, and not when the network's optimizer has already taken
    steps (e.g. weights restored by ``BackupAndRestore``, placed before this
    callback). With ``checkpoint_dir`` each finished layer's weights are saved
    there, and an interrupted pretraining resumes from its last finished layer.

    Args:
        unlabeled: the inputs to pretrain on: an array (numpy, scipy.sparse), or
            a ``tf.data.Dataset`` of inputs or ``(inputs, labels)``, batched or not.
        epochs, learning_rate, noise, reconstruction, batch_size, l1, tied: the
            per-layer settings of :class:`~.settings.LayerSettings` (section 4.1:
            masking noise 0.25, batch 10, learning rates 0.1 to 0.0001; the default
            rate 0.001 is the safe end: on the digits 0.01 made the second layer of
            a rectifier network diverge, while ``[0.01, 0.001, 0.001]`` trained well).
        rate_selection: ``None`` (use ``learning_rate``), or a
            :class:`RateSelection` (or its config dict).
        collapse: a :class:`CollapsePolicy` (or its config dict); ``None``: the defaults.
        checkpoint_dir: directory for resumable progress, or ``None``.
        log_dir: TensorBoard directory, or ``None``.
        callbacks: extra callbacks for each autoencoder's ``fit``.
        steps_per_execution: see :func:`compile_for_paper`.
        jit_compile: see :func:`compile_for_paper`.
        max_cache_bytes: largest representation kept in memory (default 2 GiB).
        sign_consistent: the tied decoder of a sign-flipped layer decodes the
            unsigned code with the encoder's effective weights (see
            ``DenoisingAutoencoder``); ``False`` is DeepANN's decoder.
        layers: the :class:`~keras_sparse_rect.models.HiddenLayerSpec` of each
            hidden layer; ``None`` takes the network's own.
        reconstruction_sampling: a sparse first layer's autoencoder decodes the
            present terms and a weighted sample of the absent ones (section 4.2).
        sampled_zeros: absent terms sampled per batch by reconstruction sampling.
        seed: int seed of the corruption; ``None`` for random.
        verbose: verbosity of each autoencoder's ``fit`` (0, 1 or 2).
        **deprecated: ``select_learning_rate``, ``selection_examples``,
            ``selection_epochs``, ``eligible_dead_fraction`` (now
            ``rate_selection``) and ``collapse_threshold``, ``on_collapse``,
            ``dead_unit_sample`` (now ``collapse``): accepted with a
            ``DeprecationWarning`` until the next release.

    Raises:
        ValueError: naming the argument and its value.

    Example:

    >>> import numpy as np
    >>> from keras_sparse_rect.callbacks import CollapsePolicy
    >>> from keras_sparse_rect.models import build_deep_network
    >>> model = build_deep_network((8,), 2, hidden_units=(4, 4), seed=0)
    >>> x = np.random.default_rng(0).random((40, 8), dtype="float32")
    >>> pretraining = GreedyLayerwisePretraining(
    ...     x, epochs=1, noise=[0.25], collapse=CollapsePolicy(action="ignore"), seed=0
    ... )
    >>> history = pretraining.pretrain(model)  # or model.fit(..., callbacks=[pretraining])
    >>> sorted(pretraining.learning_rates.items())
    [(1, 0.001), (2, 0.001)]
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
        rate_selection=None,
        collapse=None,
        checkpoint_dir=None,
        log_dir=None,
        callbacks=None,
        steps_per_execution=STEPS_PER_EXECUTION,
        jit_compile="auto",
        max_cache_bytes=2 * 2**30,
        sign_consistent=True,
        layers=None,
        reconstruction_sampling=True,
        sampled_zeros=256,
        seed=None,
        verbose=0,
        **deprecated,
    ):
        super().__init__()
        self.unlabeled = check_unlabeled(unlabeled)
        self.layers = check_layer_specs(layers)
        self.settings = LayerSettings(
            epochs, learning_rate, noise, reconstruction, batch_size, l1, tied
        )
        self.rate_selection, self.collapse = resolve(rate_selection, collapse, deprecated)
        self.checkpoint_dir = _checkpoint.check_directory("checkpoint_dir", checkpoint_dir)
        self.log_dir = _checkpoint.check_directory("log_dir", log_dir)
        self.callbacks = list(callbacks or [])
        self.steps_per_execution = check_int("steps_per_execution", steps_per_execution, 1)
        self.jit_compile = jit_compile
        self.max_cache_bytes = check_int("max_cache_bytes", max_cache_bytes, 0)
        self.sign_consistent = check_bool("sign_consistent", sign_consistent)
        self.reconstruction_sampling = check_bool(
            "reconstruction_sampling", reconstruction_sampling
        )
        self.sampled_zeros = check_int("sampled_zeros", sampled_zeros, 1)
        self.seed = check_seed("seed", seed)
        self.verbose = check_choice("verbose", verbose, (0, 1, 2))

        #: Number of hidden layers pretrained (or restored) so far.
        self.completed_layers = 0
        #: ``{"pretrain/layer_<k>/reconstruction": [per epoch], ...}``.
        self.history = {}
        #: The trained autoencoders, one per hidden layer (``None`` if restored or skipped).
        self.autoencoders = []
        #: ``{layer: fraction of its units dead}`` for every pretrained layer (1-based).
        self.dead_fractions = {}
        #: ``{layer: the learning rate it was pretrained with}`` (1-based; chosen or given).
        self.learning_rates = {}
        #: 1-based numbers of the layers that collapsed or whose reconstruction diverged.
        self.collapsed_layers = []
        self.done = False
        self._ran_in_this_fit = False
        self._tensorboard = None

    def pretrain(self, model):
        """Pretrains ``model``'s hidden layers now, without ``fit``; returns :attr:`history`.

        For pretraining on its own, e.g. once before several fine-tunings (the
        sentiment experiment pretrains one stack and fine-tunes a copy per fold).
        The same rules hold as in ``fit``: once only, resumable with
        ``checkpoint_dir``. ``model`` need not be compiled.

        Raises:
            ValueError: if ``model`` is not a ``keras.Model``.
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
        pairs, specs = layers_to_pretrain(self.model, self.layers)
        check_width(self.unlabeled, self.model)
        settings = self.settings.expand(len(pairs))
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        if iterations is not None and int(keras.ops.convert_to_numpy(iterations)) > 0:
            warnings.warn(
                "GreedyLayerwisePretraining: the network's optimizer has already taken "
                "steps (a later fit, or restored weights); pretraining is skipped.",
                stacklevel=2,
            )
            if self.checkpoint_dir is not None:  # a resumed run still reports its pretraining
                self._apply(_checkpoint.load(self.checkpoint_dir, pairs, weights=False), pairs)
            self.done = True
            return
        self.autoencoders = [None] * len(pairs)
        made = []
        if self.checkpoint_dir is not None:
            made = _checkpoint.make_directory("checkpoint_dir", self.checkpoint_dir)
        self._tensorboard = None if self.log_dir is None else TensorBoardWriter(self.log_dir)
        try:
            self._run(pairs, specs, settings)
        except Exception as error:
            if self._tensorboard is not None and isinstance(
                error, (PretrainingCollapseError, ValueError)
            ):
                self._tensorboard.discard()
            _checkpoint.remove_empty(made)
            raise
        self.done = True
        self._ran_in_this_fit = True

    def on_train_end(self, logs=None):
        history = getattr(self.model, "history", None)
        if self._ran_in_this_fit and isinstance(history, keras.callbacks.History):
            history.history.update({key: list(values) for key, values in self.history.items()})

    def _run(self, pairs, specs, settings):
        """Restores the checkpointed layers, then pretrains the others in turn."""
        if self.checkpoint_dir is not None:
            records = _checkpoint.load(self.checkpoint_dir, pairs)
            self._apply(records, pairs)
            self.completed_layers = 0 if records is None else records.completed_layers
            if self.completed_layers and self.verbose:
                print(
                    f"Resumed pretraining: {self.completed_layers} hidden layer(s) restored "
                    "from checkpoint."
                )
        strategy = getattr(self.model, "distribute_strategy", None)
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            for index in range(self.completed_layers, len(pairs)):
                if settings[index]["epochs"] > 0:
                    spec = dataclasses.replace(specs[index], index=index + 1)
                    self._pretrain_layer(index, pairs, spec, settings[index])
                self.completed_layers = index + 1
                if self.checkpoint_dir is not None:
                    _checkpoint.save(self.checkpoint_dir, pairs, self._records())

    def _records(self):
        return _checkpoint.Checkpoint(
            self.completed_layers, self.history, self.dead_fractions, self.collapsed_layers
        )

    def _apply(self, records, pairs):
        """Takes the history, dead fractions and collapsed layers of a checkpoint."""
        if records is None:
            return
        self.history.update(records.history)
        self.dead_fractions.update(records.dead_fractions)
        self.collapsed_layers = list(records.collapsed_layers)
        rates = layer_values(self.history, "learning_rate", len(pairs))
        self.learning_rates.update({k: r for k, r in enumerate(rates, 1) if r is not None})

    # One layer ----------------------------------------------------------------------

    def _pretrain_layer(self, index, pairs, spec, setting):
        dense = pairs[index][0]
        layer = index + 1
        started = time.perf_counter()
        l1 = spec.l1 if setting["l1"] is None else setting["l1"]
        seed = None if self.seed is None else self.seed + index
        input_signs = signs_of(pairs[index - 1][1]) if index > 0 else None
        options = {name: getattr(self, name) for name in _OPTIONS}
        cache = layer_input(
            self.model, dense, self.unlabeled, sparse=is_sparse_input(spec, setting),
            max_bytes=self.max_cache_bytes, input_signs=input_signs,
        )  # fmt: skip
        costs = {}
        try:
            data = cache.finish()
            build, reconstruction = layer_factory(
                pairs[index], spec, setting, cache, l1=l1, seed=seed,
                input_signs=input_signs, options=options,
            )  # fmt: skip
            ranked, bound = [setting["learning_rate"]], self.collapse.threshold
            if self.rate_selection is not None:
                bound = self.rate_selection.bound(self.collapse)
                ranked, costs, trial_dead = self.rate_selection.rank(
                    build, data, setting["batch_size"], self.collapse, seed
                )
                if self.verbose:
                    print(
                        selection_line(
                            layer, ranked, costs, trial_dead, self.collapse.threshold, bound
                        )
                    )
            inputs, batch_size = fit_inputs(data, cache, setting["batch_size"], seed)

            def train(learning_rate):
                dae = build(learning_rate)
                dae.adapt(data)
                if self.verbose:
                    where = "in memory" if cache.path is None else "from disk"
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
                    **shuffle_seed(dae, seed),
                )
                dead = _collapse.dead_fraction(dae, data, self.collapse.sample, self.seed)
                return Attempt(dae, result, dead, learning_rate)

            attempt, rejected = train_first_eligible(train, ranked, bound, layer, self.verbose)
        finally:
            data = None
            cache.cleanup()
        copy_encoder(attempt.dae, pairs[index], spec.sign_flip)
        self.autoencoders[index] = attempt.dae
        logs = layer_logs(
            layer, attempt.result.history, attempt.dead, attempt.learning_rate, costs, rejected
        )
        self.history.update(logs)
        if self._tensorboard is not None:
            self._tensorboard.write(logs)
        self.learning_rates[layer] = float(attempt.learning_rate)
        self.dead_fractions[layer] = attempt.dead
        if self.verbose:
            print(
                f"Hidden layer {layer} pretrained in {time.perf_counter() - started:.1f} s; "
                f"{100 * attempt.dead:.1f}% of its units dead."
            )
        reconstruction_costs = logs[pretraining_key(layer, "reconstruction")]
        try:
            collapsed = self.collapse.check(
                layer, dense.units, attempt.dead, reconstruction_costs, attempt.learning_rate
            )
        except PretrainingCollapseError:
            self.collapsed_layers.append(layer)
            raise
        if collapsed:
            self.collapsed_layers.append(layer)
