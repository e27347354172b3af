"""Hyper-parameter search with KerasTuner: the paper's selection, rerunnable (sections 4.1, 4.2).

The paper chooses its hyper-parameters by search. Section 4.1: the pretraining
learning rate is constant, "the following values have been explored:
{.1, .01, .001, .0001}. We select the model with the lowest reconstruction
error"; the fine-tuning learning rate comes from the same set, chosen "with
respect to the supervised validation error". Section 4.2: "We selected the noise
level of each layer based on the classification performance, the other
hyperparameters are selected according to the reconstruction error."

:class:`DeepSparseHyperModel` is that search space as a ``keras_tuner.HyperModel``.
``build(hp)`` returns the compiled classifier of section 4
(:func:`~keras_sparse_rect.models.build_deep_network` and
:func:`~keras_sparse_rect.models.compile_for_paper`); ``fit(hp, model, ...)``
pretrains it greedily with the trial's pretraining hyper-parameters
(:class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining`) and then
fine-tunes it, so that both stages are tunable. The names are those of the flags
of ``apps/image_experiment.py``:

======================  =========================  ====================  =======
hyper-parameter         default choices            selected by           paper
======================  =========================  ====================  =======
pretrain_learning_rate  0.1, 0.01, 0.001, 0.0001   reconstruction error  4.1
l1                      0, 0.0001, 0.001           reconstruction error  4.2
learning_rate           0.1, 0.01, 0.001, 0.0001   validation error      4.1
noise                   0, 0.1, 0.25, 0.5          validation error      4.2
activation              rectifier, tanh, softplus  validation error      3.1
hidden_layers           1, 2, 3                    validation error      4
hidden_units            500, 1000                  validation error      4
======================  =========================  ====================  =======

**Two stages, as in the paper** (``stage=``), each one KerasTuner search:

1. ``"pretrain"`` tunes ``pretrain_learning_rate`` and ``l1``. Its objective is
   ``pretrain/reconstruction`` (min): the top hidden layer's reconstruction cost
   in its last pretraining epoch, as logged by ``GreedyLayerwisePretraining``
   (``pretrain/layer_<k>/reconstruction``). Reconstruction error favours a small
   L1; fix ``l1`` (the paper's images: 0.001) when you want the sparsity.
2. ``"finetune"`` tunes ``learning_rate`` and ``noise`` with stage 1's best
   values fixed: ``fixed=stage1_tuner.get_best_hyperparameters()[0].values``
   (each becomes an ``hp.Fixed``). Its objective is ``val_error`` (min), the
   validation classification error (1 - ``val_accuracy``).

``"joint"`` tunes all seven in one search by validation error. Whatever a stage
does not tune is an ``hp.Fixed``: its value in ``fixed``, else
:data:`DEFAULT_VALUES`. ``tune=`` overrides which names are tuned and
``search_space=`` their choices. The reconstruction cost only compares networks
of one shape, so stage 1 runs on a fixed architecture.

:func:`make_tuner` makes a random, Bayesian, Hyperband or grid tuner that keeps
its state in ``directory/project_name``: started again on the same folder, a
stopped search resumes where it stopped (finished trials are kept, the one that
was running is run again). With KerasTuner's environment variables
``KERASTUNER_TUNER_ID`` (``chief``, ``tuner0``, ``tuner1``, ...),
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` the same code runs a
distributed search: the chief holds the oracle, the workers run trials.
:func:`run_search` runs the search and surfaces failed trials, which KerasTuner
only counts (:func:`summarize`); :func:`write_search_results` writes the best
configuration as a flagfile of ``apps/image_experiment.py`` and a summary of all
trials.

:class:`SentimentHyperModel` is the same search on reviews (section 4.2): each
trial runs one network of Table 2 as ``apps/sentiment_experiment.py`` does, and
the flagfile is that app's.

Example:

>>> from keras_sparse_rect.tuning import DeepSparseHyperModel, make_tuner, run_search
>>> stage1 = DeepSparseHyperModel((28, 28, 1), 10, stage="pretrain", pretrain_epochs=5)
>>> tuner = make_tuner("random", stage1, max_trials=8, project_name="stage1")
>>> result = run_search(tuner, x, y, validation_data=(x_val, y_val), epochs=5)  # doctest: +SKIP
>>> best = tuner.get_best_hyperparameters()[0].values  # doctest: +SKIP
>>> stage2 = DeepSparseHyperModel((28, 28, 1), 10, stage="finetune", fixed=best)  # doctest: +SKIP
"""

import contextlib
import dataclasses
import functools
import json
import math
import numbers
import os
import types

import keras
import keras_tuner
import numpy as np

from keras_sparse_rect import activations, results
from keras_sparse_rect._validation import (
    check_int,
    check_non_negative,
    check_positive,
    check_rate,
    check_seed,
)
from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
from keras_sparse_rect.experiments import sentiment
from keras_sparse_rect.layers import SaltAndPepperNoise
from keras_sparse_rect.metrics import ExpectedRatingRMSE
from keras_sparse_rect.models import (
    PAPER_LEARNING_RATES,
    STEPS_PER_EXECUTION,
    build_deep_network,
    compile_for_paper,
)
from keras_sparse_rect.models.deep_network import hidden_layer_names
from keras_sparse_rect.sparse import is_scipy_sparse, sparse_batches
from keras_sparse_rect.utils import quiet_retracing

#: The learning rates the paper explored, for pretraining and fine-tuning (section 4.1).
LEARNING_RATES = PAPER_LEARNING_RATES

#: Default choices of every hyper-parameter.
SEARCH_SPACE = {
    "pretrain_learning_rate": LEARNING_RATES,
    "l1": (0.0, 1e-4, 1e-3),
    "learning_rate": LEARNING_RATES,
    "noise": (0.0, 0.1, 0.25, 0.5),
    "activation": ("rectifier", "tanh", "softplus"),
    "hidden_layers": (1, 2, 3),
    "hidden_units": (500, 1000),
}

#: Values of the hyper-parameters a search does not tune: the image experiment's
#: defaults (section 4.1: 3 x 1000 units, masking noise 0.25, L1 0.001).
DEFAULT_VALUES = {
    "pretrain_learning_rate": 0.001,
    "l1": 1e-3,
    "learning_rate": 0.01,
    "noise": 0.25,
    "activation": "rectifier",
    "hidden_layers": 3,
    "hidden_units": 1000,
}

#: The hyper-parameters each stage tunes by default.
STAGES = {
    "pretrain": ("pretrain_learning_rate", "l1"),
    "finetune": ("learning_rate", "noise"),
    "joint": tuple(SEARCH_SPACE),
}

#: Hyper-parameters that only matter when the network is pretrained.
PRETRAINING_ONLY = ("pretrain_learning_rate", "noise")

NOISE_TYPES = ("masking", "salt_and_pepper")

#: Name of the file, in each trial's folder, that says which tuner ran the trial.
RAN_BY_FILE = "ran_by.json"

#: KerasTuner's default: a search stops after this many failed trials in a row
#: (not in a distributed search, where that error would leave the chief waiting).
MAX_CONSECUTIVE_FAILURES = 3


def _check_value(name, value):
    """Returns ``value`` as the hyper-parameter ``name``'s type, or raises ValueError."""
    if name in ("pretrain_learning_rate", "learning_rate"):
        return check_positive(name, value)
    if name == "l1":
        return check_non_negative(name, value)
    if name == "noise":
        return check_rate(name, value)
    if name == "activation":
        if value not in activations.NAMES:
            raise ValueError(
                f"`activation` must be one of {list(activations.NAMES)}; got activation={value!r}."
            )
        return str(value)
    return check_int(name, value, 1)


def _rates(value):
    """``0.01``, or ``0.005/0.001/0.001`` for per-layer rates."""
    if isinstance(value, (list, tuple)):
        return "/".join(f"{v:g}" for v in value)
    return f"{value:g}"


def _check_names(argument, names):
    unknown = [n for n in names if n not in SEARCH_SPACE]
    if unknown:
        raise ValueError(
            f"`{argument}` names unknown hyper-parameters {unknown}; the hyper-parameters "
            f"are {list(SEARCH_SPACE)}; got {argument}={names!r}."
        )


def _check_choices(name, choices):
    if isinstance(choices, (str, bytes)) or not hasattr(choices, "__iter__"):
        choices = [choices]
    choices = list(choices)
    if not choices:
        raise ValueError(f"`search_space[{name!r}]` must not be empty; got {choices!r}.")
    checked = [_check_value(name, c) for c in choices]
    if len(set(checked)) != len(checked):
        raise ValueError(f"`search_space[{name!r}]` has repeated values; got {choices!r}.")
    return tuple(checked)


def parse_search_space(texts):
    """``{name: choices}`` from ``NAME=V1,V2,...`` strings (e.g. an app's flags).

    Example:

    >>> parse_search_space(["learning_rate=0.1,0.01", "activation=rectifier,tanh"])
    {'learning_rate': (0.1, 0.01), 'activation': ('rectifier', 'tanh')}
    """
    space = {}
    for text in texts:
        name, _, values = str(text).partition("=")
        name = name.strip()
        items = [v.strip() for v in values.split(",")]
        if name not in SEARCH_SPACE or not all(items):
            raise ValueError(
                f"`choices` must be NAME=V1,V2,... with NAME one of {list(SEARCH_SPACE)}; "
                f"got {text!r}."
            )
        if name == "activation":
            convert = str
        elif name in ("hidden_layers", "hidden_units"):
            convert = int
        else:
            convert = float
        try:
            converted = [convert(v) for v in items]
        except ValueError:
            raise ValueError(
                f"`choices` for {name} must be {convert.__name__}s; got {text!r}."
            ) from None
        space[name] = _check_choices(name, converted)
    return space


class _ValidationError(keras.callbacks.Callback):
    """Adds ``val_error`` = 1 - ``val_accuracy`` to the epoch logs (section 4.1's criterion).

    It runs before KerasTuner's own callbacks, so that the checkpoint of a
    trial's best epoch is chosen by the same number as the trial's score.
    """

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and "val_accuracy" in logs:
            logs["val_error"] = 1.0 - float(logs["val_accuracy"])


class DeepSparseHyperModel(keras_tuner.HyperModel):
    """The paper's hyper-parameter search space as a ``keras_tuner.HyperModel`` (4.1, 4.2).

    ``build(hp)`` returns the compiled deep classifier for the trial's
    ``activation``, ``hidden_layers`` x ``hidden_units``, ``l1`` and
    ``learning_rate``; ``fit(hp, model, x, y, validation_data=...)`` pretrains its
    hidden layers as stacked denoising autoencoders with the trial's
    ``pretrain_learning_rate`` and ``noise``, fine-tunes it, and returns the
    trial's metrics (at the best epoch by ``val_error``, or the last epoch in
    stage ``"pretrain"``): the ``fit`` logs, ``val_error``,
    ``pretrain/layer_<k>/reconstruction`` and ``pretrain/reconstruction`` (the
    top layer's). A trial whose pretraining or training diverges (NaN) fails
    with a message saying which learning rate to lower. See the module's
    docstring for the stages.

    Args:
        input_shape: shape of one example, e.g. ``(28, 28, 1)``.
        num_classes: number of classes, >= 2.
        stage: ``"pretrain"`` (objective ``pretrain/reconstruction``),
            ``"finetune"`` or ``"joint"`` (objective ``val_error``).
        tune: names of the hyper-parameters to tune (default: the stage's,
            :data:`STAGES`, without the pretraining ones when
            ``pretrain_epochs=0``).
        search_space: ``{name: choices}`` overriding :data:`SEARCH_SPACE`.
        fixed: ``{name: value}`` for the hyper-parameters not tuned, overriding
            :data:`DEFAULT_VALUES` (e.g. the best values of stage 1; KerasTuner's
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
        if stage not in STAGES:
            raise ValueError(f"`stage` must be one of {list(STAGES)}; got stage={stage!r}.")
        self.stage = stage
        self.pretrain_epochs = check_int("pretrain_epochs", pretrain_epochs, 0)
        if stage == "pretrain" and self.pretrain_epochs == 0:
            raise ValueError(
                "stage='pretrain' selects by reconstruction error and needs pretraining; got "
                "pretrain_epochs=0."
            )
        if tune is None:
            tune = [
                n for n in STAGES[stage] if self.pretrain_epochs > 0 or n not in PRETRAINING_ONLY
            ]
        tune = [tune] if isinstance(tune, str) else list(tune)
        _check_names("tune", tune)
        self.tune = tuple(n for n in SEARCH_SPACE if n in tune)
        search_space = dict(search_space or {})
        _check_names("search_space", list(search_space))
        self.search_space = {
            n: _check_choices(n, search_space.get(n, SEARCH_SPACE[n])) for n in SEARCH_SPACE
        }
        fixed = {k: v for k, v in dict(fixed or {}).items() if not str(k).startswith("tuner/")}
        _check_names("fixed", list(fixed))
        self.fixed = {n: _check_value(n, fixed.get(n, DEFAULT_VALUES[n])) for n in SEARCH_SPACE}
        if noise_type not in NOISE_TYPES:
            raise ValueError(
                f"`noise_type` must be one of {list(NOISE_TYPES)}; got noise_type={noise_type!r}."
            )
        self.noise_type = noise_type
        if not isinstance(sign_flip, bool):
            raise ValueError(f"`sign_flip` must be a bool; got sign_flip={sign_flip!r}.")
        self.sign_flip = sign_flip
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.unlabeled = unlabeled
        self.sparse = bool(sparse)
        self.seed = check_seed("seed", seed)
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile

    #: The app whose flagfile :meth:`experiment_flags` writes.
    app = "apps.image_experiment"

    def experiment_flags(self, values):
        """Flags of :attr:`app` for a trial's hyper-parameter ``values``."""
        return hyperparameter_flags(values)

    @property
    def objective(self):
        """The stage's ``keras_tuner.Objective``."""
        if self.stage == "pretrain":
            return keras_tuner.Objective("pretrain/reconstruction", direction="min")
        return keras_tuner.Objective("val_error", direction="min")

    def declare(self, hp):
        """Declares every hyper-parameter in ``hp``; returns this trial's values.

        Tuned names are ``hp.Choice``, the others ``hp.Fixed``.
        """
        values = {}
        for name in SEARCH_SPACE:
            if name in self.tune:
                values[name] = hp.Choice(name, list(self.search_space[name]))
            else:
                values[name] = hp.Fixed(name, self.fixed[name])
        return values

    def build(self, hp):
        values = self.declare(hp)
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
        rate = values["noise"]
        if self.noise_type == "masking" or rate == 0.0:
            return rate
        first = SaltAndPepperNoise(rate, seed=self.seed)
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
        all_callbacks = [_ValidationError(), keras.callbacks.TerminateOnNaN()]
        pretraining = None
        if self.pretrain_epochs > 0 and "tuner/trial_id" not in hp.values:
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
            all_callbacks.insert(0, pretraining)
        if hasattr(x, "shape"):
            kwargs.setdefault("batch_size", self.batch_size)
        history = model.fit(
            x,
            y,
            validation_data=validation_data,
            callbacks=all_callbacks + list(callbacks or []),
            **kwargs,
        )
        return self._trial_metrics(history.history, pretraining, values)

    def _trial_metrics(self, logs, pretraining, values):
        pretrain = {}
        if pretraining is not None:
            layers = sorted(
                int(key.split("/")[1].split("_")[1])
                for key in pretraining.history
                if key.endswith("/reconstruction")
            )
            for layer in layers:
                key = f"pretrain/layer_{layer}/reconstruction"
                pretrain[key] = float(pretraining.history[key][-1])
            if layers:
                top = f"pretrain/layer_{layers[-1]}/reconstruction"
                pretrain["pretrain/reconstruction"] = pretrain[top]
        for key, value in pretrain.items():
            if not math.isfinite(value):
                raise keras_tuner.errors.FailedTrialError(
                    f"pretraining diverged: {key} is {value}; lower pretrain_learning_rate "
                    f"(it is {_rates(values['pretrain_learning_rate'])})."
                )
        losses = [float(v) for v in logs.get("loss", [])]
        if not losses or not all(math.isfinite(v) for v in losses):
            raise keras_tuner.errors.FailedTrialError(
                f"fine-tuning diverged: loss {losses[-1] if losses else 'missing'}; lower "
                f"learning_rate (it is {_rates(values['learning_rate'])})."
            )
        epochs = len(losses)
        name = self.objective.name
        best = int(np.argmin(logs[name])) if name in logs else epochs - 1
        metrics = {
            key: float(series[best])
            for key, series in logs.items()
            if not key.startswith("pretrain/") and len(series) == epochs
        }
        metrics.update(pretrain)
        return metrics


#: Hyper-parameters that the sentiment experiment sets per layer; a sentiment
#: search sets every layer to the trial's value when it tunes them, and keeps
#: the base configuration's per-layer values when it does not.
PER_LAYER = ("pretrain_learning_rate", "l1", "noise")

#: Default choices of a sentiment search: Table 2's networks (see SentimentHyperModel).
SENTIMENT_SEARCH_SPACE = {**SEARCH_SPACE, "activation": ("rectifier",), "hidden_layers": (1, 3)}


class SentimentHyperModel(DeepSparseHyperModel):
    """The search of section 4.2 on reviews: each trial is one network of Table 2.

    A trial builds, pretrains and fine-tunes its network exactly as
    ``apps/sentiment_experiment.py`` does for one fold
    (:mod:`keras_sparse_rect.experiments.sentiment`): a sparse bag of words into
    :func:`~keras_sparse_rect.experiments.sentiment.build_sentiment_network`, the
    first layer pretrained as a ``SparseInputDenoisingAutoencoder`` (salt-and-pepper
    noise ``config.pepper_rate``/``config.salt_rate``, reconstruction sampling),
    the layers above with masking noise on the cached representation
    (:func:`~keras_sparse_rect.experiments.sentiment.pretrain_stack`), then plain
    SGD on sparse mini-batches. The hyper-parameters and stages are those of
    :class:`DeepSparseHyperModel`, mapped onto the experiment's settings:

    - ``l1``, ``pretrain_learning_rate``: every hidden layer's value, when tuned;
    - ``noise``: the masking noise of layers 2 and 3, when tuned (section 4.2
      chose it "based on the classification performance"); not tuned by default
      when every network searched has one hidden layer;
    - not tuned, these keep ``config``'s per-layer values (Glorot's: L1 1e-4/0/0,
      pretraining rates 0.005/0.001/0.001, masking 0.5/0.3) and are not
      hyper-parameters of the trials;
    - ``learning_rate``, ``hidden_units``: ``config``'s values when not tuned;
    - ``activation`` x ``hidden_layers`` must name networks of Table 2
      (``rectifier_1``, ``rectifier_3``, ``tanh_3``); ``network`` gives them when
      not tuned.

    Trials report ``val_rmse`` too: the RMSE of the expected rating on the
    validation reviews (Table 2's measure). :meth:`experiment_flags` turns a
    trial's values into flags of ``apps/sentiment_experiment.py``.

    Args:
        num_terms: width of the bag of words.
        rating_values: the rating of each class, low to high (``reviews.scale.values``).
        config: a :class:`~keras_sparse_rect.experiments.sentiment.SentimentConfig`:
            the settings not tuned (default: the paper's).
        network: the Table 2 network searched when ``activation`` and
            ``hidden_layers`` are not tuned.
        stage, tune, search_space: as in :class:`DeepSparseHyperModel`;
            ``search_space`` defaults to :data:`SENTIMENT_SEARCH_SPACE`.
        unlabeled: the reviews to pretrain on (CSR; default: ``fit``'s ``x``);
            section 4.2 pretrains on labeled and unlabeled reviews.
        name: the hypermodel's name.

    Example:

    >>> from keras_sparse_rect.experiments.sentiment import SentimentConfig
    >>> from keras_sparse_rect.tuning import SentimentHyperModel, make_tuner, run_search
    >>> hypermodel = SentimentHyperModel(
    ...     5000, (1.0, 2.0, 3.0, 4.0, 5.0), config=SentimentConfig(hidden_units=1000),
    ...     stage="finetune", network="rectifier_1")
    >>> tuner = make_tuner("random", hypermodel, max_trials=8, project_name="reviews")
    >>> run_search(tuner, x, y, validation_data=(x_val, y_val), epochs=3)  # doctest: +SKIP
    """

    app = "apps.sentiment_experiment"

    def __init__(
        self,
        num_terms,
        rating_values,
        *,
        config=None,
        network="rectifier_3",
        stage="joint",
        tune=None,
        search_space=None,
        unlabeled=None,
        name="sentiment",
    ):
        config = dataclasses.replace(config or sentiment.SentimentConfig()).validate()
        values = tuple(rating_values) if hasattr(rating_values, "__iter__") else ()
        if len(values) < 2 or not all(isinstance(v, numbers.Real) for v in values):
            raise ValueError(
                "`rating_values` must be the ratings of the classes (2 or more numbers); got "
                f"rating_values={rating_values!r}."
            )
        if network not in sentiment.MODELS or not sentiment.MODELS[network][2]:
            names = [n for n, (_, _, layers) in sentiment.MODELS.items() if layers]
            raise ValueError(f"`network` must be one of {names}; got network={network!r}.")
        _, activation, hidden_layers = sentiment.MODELS[network]
        space = {**SENTIMENT_SEARCH_SPACE, **dict(search_space or {})}
        super().__init__(
            (num_terms,),
            len(values),
            stage=stage,
            tune=tune,
            search_space=space,
            fixed={
                "learning_rate": config.learning_rate,
                "activation": activation,
                "hidden_layers": hidden_layers,
                "hidden_units": config.hidden_units,
            },
            unlabeled=unlabeled,
            pretrain_epochs=config.pretrain_epochs if config.pretrain else 0,
            noise_type="salt_and_pepper",
            batch_size=config.batch_size,
            sparse=True,
            seed=config.seed,
            name=name,
        )
        self.config = config
        self.rating_values = tuple(float(v) for v in values)
        self.network = network
        if tune is None and max(self._choices("hidden_layers")) == 1:
            # The noise is that of layers 2 and 3: a 1-layer network has none to tune.
            self.tune = tuple(n for n in self.tune if n != "noise")
        networks = {
            f"{a}_{n}" for a in self._choices("activation") for n in self._choices("hidden_layers")
        }
        unknown = sorted(networks - set(sentiment.MODELS))
        if unknown:
            raise ValueError(
                "`search_space` must pair activation and hidden_layers into networks of "
                f"Table 2 ({[n for n in sentiment.MODELS if n != 'no_hidden']}); it makes "
                f"{unknown}."
            )

    def _choices(self, name):
        return self.search_space[name] if name in self.tune else (self.fixed[name],)

    def declare(self, hp):
        """Declares the tuned hyper-parameters and the fixed architecture; returns the values.

        Per-layer settings that are not tuned (:data:`PER_LAYER`) are not declared.
        """
        values = {}
        for name in SEARCH_SPACE:
            if name in self.tune:
                values[name] = hp.Choice(name, list(self.search_space[name]))
            elif name not in PER_LAYER:
                values[name] = hp.Fixed(name, self.fixed[name])
        return values

    def trial_config(self, values):
        """The :class:`SentimentConfig` of a trial's hyper-parameter ``values``."""
        config = dataclasses.replace(
            self.config,
            models=(f"{values['activation']}_{values['hidden_layers']}",),
            learning_rate=values["learning_rate"],
            hidden_units=values["hidden_units"],
        )
        if "l1" in values:
            config.l1 = (values["l1"],) * 3
        if "pretrain_learning_rate" in values:
            config.pretrain_learning_rates = (values["pretrain_learning_rate"],) * 3
        if "noise" in values:
            config.masking_noise = (values["noise"],) * 2
        return config.validate()

    def experiment_flags(self, values):
        """Flags of ``apps/sentiment_experiment.py`` that run a trial's configuration.

        Every setting is written (tuned or not), so the flagfile reruns the trial's
        network whatever the app's defaults become; ``output_dir`` is left to the app.
        """
        config = self.trial_config(values).to_dict()
        config.pop("output_dir")
        return config

    def build(self, hp):
        values = self.declare(hp)
        config = self.trial_config(values)
        model = sentiment.build_sentiment_network(
            self.input_shape[0],
            self.num_classes,
            values["hidden_layers"],
            config.hidden_units,
            values["activation"],
            config.l1,
            seed=config.seed,
        )
        sentiment.compile_sentiment_network(
            model,
            config.learning_rate,
            metrics=["accuracy", ExpectedRatingRMSE(self.rating_values)],
        )
        return model

    def fit(self, hp, model, x=None, y=None, *, validation_data=None, callbacks=None, **kwargs):
        """Pretrains as the sentiment experiment does, fine-tunes on sparse batches.

        ``x`` and the validation inputs are scipy.sparse matrices (rows: reviews).
        Returns the trial's metrics for KerasTuner.
        """
        values = dict(hp.values)
        config = self.trial_config(values)
        if self.stage != "pretrain" and validation_data is None:
            raise ValueError(
                f"stage={self.stage!r} selects by validation error: pass `validation_data`; "
                "got validation_data=None."
            )
        for argument, data in (("x", x), ("validation_data", (validation_data or [None])[0])):
            if data is not None and not is_scipy_sparse(data):
                raise ValueError(
                    f"`{argument}` must hold a scipy.sparse bag of words; got {type(data)!r}."
                )
        pretraining = None
        if self.pretrain_epochs > 0 and "tuner/trial_id" not in values:
            weights, history = sentiment.pretrain_stack(
                config,
                x if self.unlabeled is None else self.unlabeled,
                values["activation"],
                values["hidden_layers"],
                self.num_classes,
                verbose=kwargs.get("verbose", 0),
            )
            for index, (kernel, bias) in enumerate(weights, start=1):
                layer = model.get_layer(hidden_layer_names(index)[0])
                layer.kernel.assign(kernel)
                layer.bias.assign(bias)
            pretraining = types.SimpleNamespace(history=history)
        batch_size = kwargs.pop("batch_size", config.batch_size)
        kwargs["shuffle"] = False  # sparse_batches shuffles (Keras cannot shuffle a Dataset)
        validation = None
        if validation_data is not None:
            validation = sparse_batches(*validation_data[:2], batch_size=256)
        history = model.fit(
            sparse_batches(x, y, batch_size=batch_size, shuffle=True, seed=config.seed),
            validation_data=validation,
            callbacks=[_ValidationError(), keras.callbacks.TerminateOnNaN(), *(callbacks or [])],
            **kwargs,
        )
        rates = {
            "pretrain_learning_rate": config.pretrain_learning_rates,
            "learning_rate": config.learning_rate,
        }
        return self._trial_metrics(history.history, pretraining, rates)


# Tuners -------------------------------------------------------------------------


def search_role():
    """``"chief"``, ``"worker"`` or ``"single"``, from KerasTuner's environment variables.

    A distributed search sets ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``
    and ``KERASTUNER_TUNER_ID`` (``chief`` on the chief, a unique id such as
    ``tuner0`` on each worker).
    """
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    for variable in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        if not os.environ.get(variable):
            raise ValueError(
                f"KERASTUNER_ORACLE_IP is set, so {variable} must be set too (a distributed "
                f"search); got {variable}={os.environ.get(variable)!r}."
            )
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def _last_line(message):
    """The exception line of a traceback (KerasTuner's own FailedTrialError: just its text)."""
    lines = [line.strip() for line in (message or "").strip().splitlines() if line.strip()]
    if not lines:
        return None
    return lines[-1].removeprefix("keras_tuner.src.errors.FailedTrialError: ")


class _RecordingTuner:
    """Mixin: records each trial this process ran, and which tuner ran it.

    ``distribution`` is a ``keras.distribution`` scope (JAX) for :func:`run_search`.

    The record goes into the trial's folder (:data:`RAN_BY_FILE`) and
    ``self.trials_run``; a failed trial is printed at once, in one line.
    """

    def __init__(self, *args, distribution=None, **kwargs):
        self.trials_run = []
        self.distribution = distribution  # entered by run_search
        super().__init__(*args, **kwargs)

    def on_trial_end(self, trial):
        status = "COMPLETED" if trial.status == "COMPLETED" else "FAILED"
        record = {
            "trial_id": trial.trial_id,
            "tuner_id": self.tuner_id,
            "status": status,
            "hyperparameters": dict(trial.hyperparameters.values),
            "error": _last_line(trial.message) if status == "FAILED" else None,
            "message": trial.message if status == "FAILED" else None,
        }
        self.trials_run.append(record)
        path = os.path.join(self.get_trial_dir(trial.trial_id), RAN_BY_FILE)
        results.write_json_atomic(path, record)
        if status == "FAILED":
            print(f"[{self.tuner_id}] trial {trial.trial_id} failed: {record['error']}")
        elif search_role() == "worker":
            print(f"[{self.tuner_id}] trial {trial.trial_id} completed")
        super().on_trial_end(trial)


class RandomSearch(_RecordingTuner, keras_tuner.RandomSearch):
    """``keras_tuner.RandomSearch`` that records who ran each trial."""


class BayesianOptimization(_RecordingTuner, keras_tuner.BayesianOptimization):
    """``keras_tuner.BayesianOptimization`` that records who ran each trial."""


class Hyperband(_RecordingTuner, keras_tuner.Hyperband):
    """``keras_tuner.Hyperband`` that records who ran each trial."""


class _ResumableGridSearchOracle(keras_tuner.oracles.GridSearchOracle):
    """``GridSearchOracle`` whose walk through the grid survives a reload.

    KerasTuner 1.4.8 does not save which combinations follow which
    (keras-team/keras-tuner#1055): a reloaded grid search stops at once or fails
    with a ``KeyError``. Both follow from the trials themselves: sorted in grid
    order, the next combination of each is the next one to try.
    """

    def set_state(self, state):
        super().set_state(state)
        order = sorted(
            self.trials,
            key=functools.cmp_to_key(
                lambda a, b: self._compare(
                    self.trials[a].hyperparameters.values, self.trials[b].hyperparameters.values
                )
            ),
        )
        self._ordered_ids = type(self._ordered_ids)()  # KerasTuner's (private) linked list
        for trial_id in order:
            self._ordered_ids.insert(trial_id)
        self._populate_next = list(order)


class GridSearch(_RecordingTuner, keras_tuner.Tuner):
    """``keras_tuner.GridSearch`` that records who ran each trial and resumes (see above)."""

    def __init__(
        self,
        hypermodel=None,
        objective=None,
        max_trials=None,
        seed=None,
        max_consecutive_failed_trials=MAX_CONSECUTIVE_FAILURES,
        **kwargs,
    ):
        oracle = _ResumableGridSearchOracle(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        super().__init__(oracle, hypermodel, **kwargs)


#: The tuners of :func:`make_tuner`, by name.
TUNERS = {
    "random": RandomSearch,
    "bayesian": BayesianOptimization,
    "hyperband": Hyperband,
    "grid": GridSearch,
}


def make_tuner(
    name,
    hypermodel,
    *,
    max_trials=10,
    directory="runs/tune",
    project_name="deep_sparse",
    max_epochs=None,
    seed=0,
    overwrite=False,
    distribution_strategy=None,
):
    """A KerasTuner tuner over ``hypermodel``, its state in ``directory/project_name``.

    Started again with the same folder (and ``overwrite=False``) a tuner reloads
    the search and goes on where it stopped: finished trials are kept, the trial
    that was running is run again, and new trials are drawn until there are
    ``max_trials``. Under KerasTuner's distributed environment variables (see
    :func:`search_role`) the same call makes the chief or a worker.

    Args:
        name: ``"random"``, ``"bayesian"``, ``"hyperband"`` or ``"grid"``.
        hypermodel: a :class:`DeepSparseHyperModel` (its ``objective`` is the tuner's).
        max_trials: the most trials (Hyperband: a cap on the trials its brackets draw).
        directory, project_name: where the search keeps its state and results.
        max_epochs: Hyperband only: fine-tuning epochs of its longest trials.
        seed: seed of the tuner's draws.
        overwrite: start afresh, deleting the folder's search.
        distribution_strategy: from :func:`keras_sparse_rect.distribute.get_strategy`;
            each trial's network is built and trained in it (a ``tf.distribute``
            strategy goes to KerasTuner, which builds each model in its scope; the
            JAX ``keras.distribution`` scope is entered by :func:`run_search`).

    Example:

    >>> tuner = make_tuner("bayesian", hypermodel, max_trials=20, project_name="images")
    """
    if name not in TUNERS:
        raise ValueError(f"`name` must be one of {list(TUNERS)}; got name={name!r}.")
    max_trials = check_int("max_trials", max_trials, 1)
    objective = getattr(hypermodel, "objective", None)
    if not isinstance(objective, keras_tuner.Objective):
        raise ValueError(
            f"`hypermodel` must be a DeepSparseHyperModel; got hypermodel={hypermodel!r}."
        )
    for argument, value in (("directory", directory), ("project_name", project_name)):
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            raise ValueError(f"`{argument}` must be a non-empty path; got {argument}={value!r}.")
    role = search_role()
    common = {
        "hypermodel": hypermodel,
        "objective": objective,
        "seed": check_seed("seed", seed),
        "directory": os.fspath(directory),
        "project_name": os.fspath(project_name),
        "overwrite": bool(overwrite),
        # KerasTuner takes tf.distribute strategies only; the JAX one is a scope around it all.
        "distribution_strategy": (
            distribution_strategy if hasattr(distribution_strategy, "extended") else None
        ),
        "distribution": (
            None if hasattr(distribution_strategy, "extended") else distribution_strategy
        ),
        "max_consecutive_failed_trials": None if role != "single" else MAX_CONSECUTIVE_FAILURES,
    }
    if name == "hyperband" and getattr(hypermodel, "stage", None) == "pretrain":
        raise ValueError(
            "Hyperband allots fine-tuning epochs, which do not change the reconstruction "
            "error of stage 'pretrain': use random, bayesian or grid; got name='hyperband'."
        )
    with atomic_state_files():
        if name != "hyperband":
            return TUNERS[name](max_trials=max_trials, **common)
        tuner = Hyperband(max_epochs=check_int("max_epochs", max_epochs, 1), **common)
        tuner.oracle.max_trials = max_trials
        return tuner


# Running and summarizing ----------------------------------------------------------


@contextlib.contextmanager
def atomic_state_files():
    """Makes KerasTuner write its state files (``oracle.json``, ``trial.json``) atomically.

    KerasTuner 1.4.8 writes them in place, so a search killed mid-write leaves a
    truncated file that the resumed search cannot read. Inside this context its
    JSON writer (the private ``keras_tuner.src.utils.save_json``, the one
    function all its state goes through) writes a temporary file and renames it.
    Remote paths (``gs://...``) keep KerasTuner's own writer. :func:`make_tuner`
    and :func:`run_search` use it.
    """
    try:
        from keras_tuner.src import utils as kerastuner_utils
    except ImportError:  # another KerasTuner layout: its own writer stays
        yield
        return
    original = getattr(kerastuner_utils, "save_json", None)
    if original is None:
        yield
        return

    def save_json(path, obj):
        if "://" in os.fspath(path):
            return original(path, obj)
        text = json.dumps(obj)
        results.write_text_atomic(path, text)
        return text

    kerastuner_utils.save_json = save_json
    try:
        yield
    finally:
        kerastuner_utils.save_json = original


def run_search(tuner, *fit_args, tensorboard_dir=None, **fit_kwargs):
    """Runs ``tuner.search(*fit_args, **fit_kwargs)``; returns :func:`summarize`'s dict.

    KerasTuner prints a failed trial's traceback and goes on, and a search whose
    trials all fail returns normally (``../shared/FACTS.md``); the summary
    counts them (``failed``, ``first_error``, ``all_failed``). A search that
    KerasTuner stops after :data:`MAX_CONSECUTIVE_FAILURES` failed trials in a
    row returns too, with ``stopped_early`` saying so.

    On the chief of a distributed search this serves the trials to the workers
    and returns about 20 s after the last one ends (KerasTuner polls every 20 s).

    Args:
        tuner: from :func:`make_tuner`.
        *fit_args, **fit_kwargs: for each trial's ``fit`` (data, ``epochs``,
            ``validation_data``, ``verbose``, ``callbacks``).
        tensorboard_dir: TensorBoard logs of every trial, with KerasTuner's
            HParams dashboard (TensorFlow backend only; ignored on others).

    Example:

    >>> summary = run_search(tuner, x, y, validation_data=(x_val, y_val), epochs=5)
    >>> summary["completed"], summary["failed"], summary["best"]["score"]  # doctest: +SKIP
    """
    callbacks = list(fit_kwargs.pop("callbacks", None) or [])
    if tensorboard_dir is not None and keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(os.fspath(tensorboard_dir), write_graph=False))
    stopped = None
    try:
        distribution = getattr(tuner, "distribution", None)
        scope = distribution.scope() if distribution is not None else contextlib.nullcontext()
        with quiet_retracing(), atomic_state_files(), scope:
            tuner.search(*fit_args, callbacks=callbacks, **fit_kwargs)
    except RuntimeError as error:
        if "consecutive failures" not in str(error):
            raise
        stopped = _last_line(str(error).splitlines()[0])
    summary = summarize(tuner)
    summary["stopped_early"] = stopped
    return summary


def _ran_by(tuner, trial_id):
    path = os.path.join(tuner.project_dir, f"trial_{trial_id}", RAN_BY_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("tuner_id")
    except (OSError, ValueError):
        return None


def _trial_record(tuner, trial):
    status = trial.status if trial.status in ("COMPLETED", "RUNNING") else "FAILED"
    metrics = {}
    for name in trial.metrics.metrics:
        value = trial.metrics.get_last_value(name)
        metrics[name] = None if value is None else float(value)
    return {
        "trial_id": trial.trial_id,
        "tuner_id": _ran_by(tuner, trial.trial_id),
        "status": status,
        "score": None if trial.score is None else float(trial.score),
        "hyperparameters": dict(trial.hyperparameters.values),
        "metrics": metrics,
        "error": _last_line(trial.message) if status == "FAILED" else None,
        "message": trial.message if status == "FAILED" else None,
    }


def summarize(tuner):
    """Every trial of the search in ``tuner``'s folder, failures and the best trial, as a dict.

    On a worker of a distributed search only the trials that this worker ran
    are known (the chief holds the others).

    Returns:
        ``{"role", "project_dir", "objective": {"name", "direction"}, "tuned",
        "trials": [...], "completed", "failed", "first_error", "all_failed",
        "best"}``; each trial has ``trial_id``, ``tuner_id`` (who ran it, when
        known), ``status`` (``COMPLETED`` or ``FAILED``), ``score``,
        ``hyperparameters``, ``metrics``, ``error`` (the exception's last line)
        and ``message`` (the traceback). ``best`` is the best completed trial,
        or ``None``.
    """
    role = search_role()
    objective = tuner.oracle.objective
    if role == "worker":
        trials = [dict(record) for record in tuner.trials_run]
        best = None
    else:
        oracle_trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
        trials = [_trial_record(tuner, t) for t in oracle_trials]
        completed = [t for t in trials if t["status"] == "COMPLETED" and t["score"] is not None]
        reverse = objective.direction == "max"
        best = sorted(completed, key=lambda t: t["score"], reverse=reverse)[:1]
        best = best[0] if best else None
    failed = [t for t in trials if t["status"] == "FAILED"]
    hypermodel = tuner.hypermodel
    return {
        "role": role,
        "tuner_id": tuner.tuner_id,
        "project_dir": os.fspath(tuner.project_dir),
        "objective": {"name": objective.name, "direction": objective.direction},
        "stage": getattr(hypermodel, "stage", None),
        "tuned": list(getattr(hypermodel, "tune", ())),
        "trials": trials,
        "completed": sum(t["status"] == "COMPLETED" for t in trials),
        "failed": len(failed),
        "first_error": (
            {"trial_id": failed[0]["trial_id"], "error": failed[0]["error"]} if failed else None
        ),
        "all_failed": bool(trials) and len(failed) == len(trials),
        "best": best,
    }


# Results --------------------------------------------------------------------------


def hyperparameter_flags(values):
    """``apps/image_experiment.py`` flag values for hyper-parameter ``values``.

    ``hidden_layers`` and ``hidden_units`` become one ``hidden_units`` list
    (``3`` x ``1000`` -> ``[1000, 1000, 1000]``); KerasTuner's ``tuner/...``
    entries are dropped.

    Example:

    >>> hyperparameter_flags({"learning_rate": 0.01, "hidden_layers": 2, "hidden_units": 32})
    {'learning_rate': 0.01, 'hidden_units': [32, 32]}
    """
    flags = {k: v for k, v in values.items() if k in SEARCH_SPACE and not k.startswith("hidden")}
    if "hidden_units" in values:
        flags["hidden_units"] = [int(values["hidden_units"])] * int(values.get("hidden_layers", 1))
    return flags


def flagfile_text(flags, comments=()):
    """An absl flagfile: one ``--name=value`` a line (bools ``--name``/``--noname``).

    Lists are comma-separated; ``None`` values are left out; ``comments`` become
    ``#`` lines at the top.

    Example:

    >>> print(flagfile_text({"learning_rate": 0.01, "pretrain": True, "hidden_units": [32, 32]}))
    --hidden_units=32,32
    --learning_rate=0.01
    --pretrain
    <BLANKLINE>
    """
    lines = [f"# {line}" for line in comments]
    for name in sorted(flags):
        value = flags[name]
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"--{name}" if value else f"--no{name}")
        elif isinstance(value, (list, tuple)):
            lines.append(f"--{name}={','.join(str(v) for v in value)}")
        else:
            lines.append(f"--{name}={value}")
    return "\n".join(lines) + "\n"


def _format(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def trials_markdown(summary):
    """A Markdown table of every trial: status, objective, metrics, tuned values, error."""
    objective = summary["objective"]["name"]
    tuned = summary["tuned"]
    reported = [m for m in ("val_error", "val_rmse", "pretrain/reconstruction") if m != objective]
    extra = [m for m in reported if any(m in t.get("metrics", {}) for t in summary["trials"])]
    ran_by = summary["role"] == "chief"  # one tuner otherwise
    header = ["trial"] + (["ran by"] if ran_by else []) + ["status"]
    header += [f"{objective} ({summary['objective']['direction']})"] + extra + tuned + ["error"]
    best_id = summary["best"]["trial_id"] if summary["best"] else None
    lines = [
        f"Search in `{summary['project_dir']}` (stage {summary['stage']}): "
        f"{len(summary['trials'])} trials, {summary['completed']} completed, "
        f"{summary['failed']} failed. **Bold**: the best trial.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for trial in summary["trials"]:
        metrics = trial.get("metrics", {})
        score = trial.get("score")
        if score is None:
            score = metrics.get(objective)
        cells = [trial["trial_id"]] + ([trial.get("tuner_id") or ""] if ran_by else [])
        cells += [trial["status"], _format(score)]
        cells += [_format(metrics.get(m)) for m in extra]
        cells += [_format(trial["hyperparameters"].get(n)) for n in tuned]
        cells.append((trial.get("error") or "").replace("|", "\\|"))
        if trial["trial_id"] == best_id:
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_search_results(summary, folder=None, base_flags=None, hypermodel=None):
    """Writes ``trials.json``, ``trials.md`` and (when a trial completed) ``best.flags``.

    ``best.flags`` is a flagfile of the hypermodel's app (``hypermodel.app``:
    ``apps/image_experiment.py`` or ``apps/sentiment_experiment.py``):
    ``base_flags`` (data set, epochs, ...) updated with the best trial's
    hyper-parameters as that app's flags (``hypermodel.experiment_flags``). Every
    file is written atomically.

    Args:
        summary: :func:`run_search`'s or :func:`summarize`'s dict.
        folder: where to write (default: the search's project folder).
        base_flags: ``{flag: value}`` written with the best hyper-parameters.
        hypermodel: the search's hypermodel (default: an image search's flags,
            :func:`hyperparameter_flags`).

    Returns:
        ``{"trials_json": path, "trials_md": path, "best_flags": path or None}``.
    """
    folder = os.fspath(folder or summary["project_dir"])
    files = {
        "trials_json": os.path.join(folder, "trials.json"),
        "trials_md": os.path.join(folder, "trials.md"),
        "best_flags": None,
    }
    best = summary["best"]
    if best is not None:
        to_flags = getattr(hypermodel, "experiment_flags", hyperparameter_flags)
        app = getattr(hypermodel, "app", DeepSparseHyperModel.app)
        flags = {**(base_flags or {}), **to_flags(best["hyperparameters"])}
        files["best_flags"] = os.path.join(folder, "best.flags")
        comments = [
            f"Best of {len(summary['trials'])} trials in {summary['project_dir']}: trial "
            f"{best['trial_id']}, {summary['objective']['name']} = {best['score']:.6g}.",
            f"Use: python -m {app} --flagfile={files['best_flags']}",
        ]
        results.write_text_atomic(files["best_flags"], flagfile_text(flags, comments))
    results.write_json_atomic(files["trials_json"], {**summary, "files": files})
    results.write_text_atomic(files["trials_md"], trials_markdown(summary))
    return files


def summary_text(summary):
    """The lines an app prints after a search: counts, failures, the best trial."""
    objective = summary["objective"]["name"]
    trials = summary["trials"]
    if summary["role"] == "worker":
        lines = [
            f"Worker {summary['tuner_id']} ran {len(trials)} trial(s): "
            f"{summary['completed']} completed, {summary['failed']} failed."
        ]
    else:
        lines = [
            f"Search in {summary['project_dir']}: {len(trials)} trial(s), "
            f"{summary['completed']} completed, {summary['failed']} failed."
        ]
    if summary.get("stopped_early"):
        lines.append(f"KerasTuner stopped the search: {summary['stopped_early']}")
    if summary["failed"]:
        first = summary["first_error"]
        everything = "All" if summary["all_failed"] else f"{summary['failed']} of"
        lines.append(
            f"{everything} {len(trials)} trial(s) FAILED; first error (trial "
            f"{first['trial_id']}): {first['error']}"
        )
    best = summary["best"]
    if best is not None:
        tuned = set(summary["tuned"])
        if "hidden_layers" in tuned:
            tuned.add("hidden_units")
        shown = flagfile_text(hyperparameter_flags(best["hyperparameters"])).split()
        values = ", ".join(line[2:] for line in shown if line[2:].split("=")[0] in tuned)
        chief = summary["role"] == "chief" and best.get("tuner_id")
        ran_by = f", run by {best['tuner_id']}" if chief else ""
        lines.append(
            f"Best trial {best['trial_id']}{ran_by}: {objective} {best['score']:.4f}"
            + (f" ({values})" if values else "")
        )
    return "\n".join(lines)
