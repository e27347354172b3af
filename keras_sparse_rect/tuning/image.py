"""The image search (sections 4.1, 4.2) as a ``keras_tuner.HyperModel``."""

from keras_sparse_rect._validation import check_bool, check_choice, check_int, check_seed
from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
from keras_sparse_rect.layers import make_noise
from keras_sparse_rect.models import STEPS_PER_EXECUTION, build_deep_network, compile_for_paper
from keras_sparse_rect.names import NOISE_KINDS
from keras_sparse_rect.tuning import _compat
from keras_sparse_rect.tuning.hypermodel import SpaceHyperModel
from keras_sparse_rect.tuning.space import SEARCH_SPACE, SearchSpace
from keras_sparse_rect.tuning.trial import trial_callbacks, trial_metrics

NOISE_TYPES = NOISE_KINDS


def trial_settings(values):
    """The :class:`~keras_sparse_rect.experiments.image.ImageExperimentConfig` fields of a trial.

    ``hidden_layers`` and ``hidden_units`` become one ``hidden_units`` tuple
    (``3`` x ``1000`` -> ``(1000, 1000, 1000)``); KerasTuner's ``tuner/...``
    entries are dropped.

    Example:

    >>> trial_settings({"learning_rate": 0.01, "hidden_layers": 2, "hidden_units": 32})
    {'learning_rate': 0.01, 'hidden_units': (32, 32)}
    """
    settings = {
        k: v
        for k, v in values.items()
        if k in SEARCH_SPACE and k not in ("hidden_layers", "hidden_units")
    }
    if "hidden_units" in values:
        layers = int(values.get("hidden_layers", 1))
        settings["hidden_units"] = (int(values["hidden_units"]),) * layers
    return settings


class DeepSparseHyperModel(SpaceHyperModel):
    """The paper's hyper-parameter search on images as a ``keras_tuner.HyperModel`` (4.1, 4.2).

    ``build(hp)`` returns the compiled deep classifier for the trial's
    ``activation``, ``hidden_layers`` x ``hidden_units``, ``l1`` and
    ``learning_rate``; ``fit(hp, model, x, y, validation_data=...)`` pretrains its
    hidden layers as stacked denoising autoencoders with the trial's
    ``pretrain_learning_rate`` and ``noise``, fine-tunes it, and returns the
    trial's metrics (at the best epoch by ``val_error``, or the last epoch in
    stage ``"pretrain"``): the ``fit`` logs, ``val_error``,
    ``pretrain/layer_<k>/reconstruction`` and ``pretrain/reconstruction`` (the
    top layer's). A trial whose pretraining or training diverges (NaN) fails
    with a message saying which learning rate to lower. The search itself (stage,
    tuned names, choices, fixed values) is :attr:`space`, a
    :class:`~keras_sparse_rect.tuning.space.SearchSpace`.

    Args:
        input_shape: shape of one example, e.g. ``(28, 28, 1)``.
        num_classes: number of classes, >= 2.
        stage: ``"pretrain"`` (objective ``pretrain/reconstruction``),
            ``"finetune"`` or ``"joint"`` (objective ``val_error``).
        tune: names of the hyper-parameters to tune (default: the stage's,
            ``STAGES``, without the pretraining ones when ``pretrain_epochs=0``).
        search_space: ``{name: choices}`` overriding ``SEARCH_SPACE``.
        fixed: ``{name: value}`` for the hyper-parameters not tuned, overriding
            ``DEFAULT_VALUES`` (e.g. the best values of stage 1; KerasTuner's
            own ``tuner/...`` entries are ignored).
        unlabeled: the inputs to pretrain on (default: ``fit``'s ``x``).
        pretrain_epochs: pretraining epochs per layer; 0: no pretraining.
        noise_type: ``"masking"`` (section 4.1) or ``"salt_and_pepper"``: the
            first layer's noise on binary inputs, masking above (section 4.2).
        sign_flip: negate half of the rectifier units (section 4.1).
        batch_size: mini-batch size of pretraining and fine-tuning (paper: 10).
        sparse: the input is sparse (a bag of words).
        seed: int seed of the weights, signs and noise.
        steps_per_execution, jit_compile: see ``compile_for_paper``.
        name: the hypermodel's name.

    Example:

    >>> from keras_sparse_rect.tuning import DeepSparseHyperModel, make_tuner, run_search
    >>> hypermodel = DeepSparseHyperModel(
    ...     (28, 28, 1), 10, stage="finetune", search_space={"learning_rate": [0.1, 0.01]},
    ...     fixed={"hidden_layers": 1, "hidden_units": 32})
    >>> tuner = make_tuner("grid", hypermodel, max_trials=2, directory="runs/tune")
    >>> run_search(tuner, x, y, validation_data=(x_val, y_val), epochs=1)  # doctest: +SKIP
    >>> tuner.get_best_models()[0].predict(x_test)  # doctest: +SKIP
    """

    def __init__(
        self,
        input_shape,
        num_classes,
        *,
        stage="joint",
        tune=None,
        search_space=None,
        fixed=None,
        unlabeled=None,
        pretrain_epochs=1,
        noise_type="masking",
        sign_flip=True,
        batch_size=10,
        sparse=False,
        seed=0,
        steps_per_execution=STEPS_PER_EXECUTION,
        jit_compile="auto",
        name="deep_sparse_rectifier",
    ):
        super().__init__(name=name, tunable=True)
        try:
            self.input_shape = tuple(int(d) for d in input_shape)
        except (TypeError, ValueError):
            self.input_shape = ()
        if not self.input_shape or min(self.input_shape) < 1:
            raise ValueError(
                f"`input_shape` must be a sequence of ints >= 1; got input_shape={input_shape!r}."
            )
        self.num_classes = check_int("num_classes", num_classes, 2)
        self.pretrain_epochs = check_int("pretrain_epochs", pretrain_epochs, 0)
        if stage == "pretrain" and self.pretrain_epochs == 0:
            raise ValueError(
                "stage='pretrain' selects by reconstruction error and needs pretraining; got "
                "pretrain_epochs=0."
            )
        #: The search: stage, tuned names, choices and fixed values.
        self.space = SearchSpace(
            stage, tune, search_space, fixed, pretraining=self.pretrain_epochs > 0
        )
        self.noise_type = check_choice("noise_type", noise_type, NOISE_TYPES)
        self.sign_flip = check_bool("sign_flip", sign_flip)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.unlabeled = unlabeled
        self.sparse = bool(sparse)
        self.seed = check_seed("seed", seed)
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile

    def declare_hyperparameters(self, hp):
        """Declares every hyper-parameter in ``hp``; returns this trial's values.

        Tuned names are ``hp.Choice``, the others ``hp.Fixed``.
        """
        return self.space.declare(hp)

    def build(self, hp):
        values = self.declare_hyperparameters(hp)
        model = build_deep_network(
            self.input_shape,
            self.num_classes,
            hidden_units=(values["hidden_units"],) * values["hidden_layers"],
            activation=values["activation"],
            sign_flip=self.sign_flip,
            l1=values["l1"],
            seed=self.seed,
            sparse=self.sparse,
        )
        compile_for_paper(
            model,
            values["learning_rate"],
            steps_per_execution=self.steps_per_execution,
            jit_compile=self.jit_compile,
        )
        return model

    def _noise(self, values):
        """The pretraining noise: a masking rate, or salt-and-pepper on the first layer."""
        rate = values["noise"]
        if self.noise_type == "masking" or rate == 0.0:
            return rate
        first = make_noise(rate, seed=self.seed, kind="salt_and_pepper")
        return [first] + [rate] * (values["hidden_layers"] - 1)

    def fit(self, hp, model, x=None, y=None, *, validation_data=None, callbacks=None, **kwargs):
        """Pretrains (with the trial's ``pretrain_learning_rate`` and ``noise``), fine-tunes.

        Returns the trial's metrics (a dict) for KerasTuner. Hyperband's
        continued trials (``tuner/trial_id``) start from a trained checkpoint and
        are not pretrained again.
        """
        values = {name: hp.get(name) for name in SEARCH_SPACE}
        if self.stage != "pretrain" and validation_data is None:
            raise ValueError(
                f"stage={self.stage!r} selects by validation error: pass `validation_data`; "
                "got validation_data=None."
            )
        pretraining = None
        if self.pretrain_epochs > 0 and _compat.CONTINUED_FROM not in hp.values:
            pretraining = GreedyLayerwisePretraining(
                x if self.unlabeled is None else self.unlabeled,
                epochs=self.pretrain_epochs,
                learning_rate=values["pretrain_learning_rate"],
                noise=self._noise(values),
                batch_size=self.batch_size,
                steps_per_execution=self.steps_per_execution,
                jit_compile=self.jit_compile,
                seed=self.seed,
            )
        if hasattr(x, "shape"):
            kwargs.setdefault("batch_size", self.batch_size)
        history = model.fit(
            x,
            y,
            validation_data=validation_data,
            callbacks=trial_callbacks(pretraining, callbacks),
            **kwargs,
        )
        return self._trial_metrics(history.history, pretraining, values)

    def _trial_metrics(self, logs, pretraining, values):
        """:func:`~keras_sparse_rect.tuning.trial.trial_metrics` of a trial.

        The pretrained layers are those whose dead fraction the pretraining
        callback measured (``GreedyLayerwisePretraining.dead_fractions``).
        """
        return trial_metrics(
            logs,
            self.objective.name,
            pretrain_history=None if pretraining is None else pretraining.history,
            layers=() if pretraining is None else tuple(pretraining.dead_fractions),
            rates=values,
        )
