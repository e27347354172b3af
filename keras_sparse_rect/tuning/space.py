"""The paper's search space: hyper-parameters, their choices and defaults, the stages.

Section 4.1: the learning rates of pretraining and fine-tuning are constant,
"the following values have been explored: {.1, .01, .001, .0001}". Section 4.2:
"We selected the noise level of each layer based on the classification
performance, the other hyperparameters are selected according to the
reconstruction error."

:class:`SearchSpace` is one search over these: the stage, which names are
tuned (``hp.Choice``), their choices, and the fixed values of the others
(``hp.Fixed``). Both HyperModels (:mod:`.image`, :mod:`.sentiment`) hold one.
This module loads neither Keras nor KerasTuner until a search needs them, so
that ``apps/tune.py`` checks its flags against it first.
"""

from keras_sparse_rect._validation import (
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    check_rate,
)
from keras_sparse_rect.names import ACTIVATIONS, PAPER_LEARNING_RATES

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

#: The objective of each stage: ``(metric, direction)``.
OBJECTIVES = {
    "pretrain": ("pretrain/reconstruction", "min"),
    "finetune": ("val_error", "min"),
    "joint": ("val_error", "min"),
}


def check_value(name, value, label=None):
    """Returns ``value`` as the hyper-parameter ``name``'s type, or raises ValueError.

    The message names ``label`` (default: ``name``), e.g. ``choices[l1]``.
    """
    label = label or name
    if name in ("pretrain_learning_rate", "learning_rate"):
        return check_positive(label, value)
    if name == "l1":
        return check_non_negative(label, value)
    if name == "noise":
        return check_rate(label, value)
    if name == "activation":
        return str(check_choice(label, value, ACTIVATIONS))
    return check_int(label, value, 1)


def check_names(argument, names):
    """Raises ValueError if ``names`` holds a name that is not a hyper-parameter."""
    unknown = [n for n in names if n not in SEARCH_SPACE]
    if unknown:
        raise ValueError(
            f"`{argument}` names unknown hyper-parameters {unknown}; the hyper-parameters "
            f"are {list(SEARCH_SPACE)}; got {argument}={names!r}."
        )


def check_choices(name, choices, argument="search_space"):
    """``choices`` of hyper-parameter ``name`` as a checked tuple (one value: a 1-tuple).

    Messages name ``argument[name]`` (``search_space``, or an app's ``choices``).
    """
    if isinstance(choices, (str, bytes)) or not hasattr(choices, "__iter__"):
        choices = [choices]
    choices = list(choices)
    label = f"{argument}[{name}]"
    if not choices:
        raise ValueError(f"`{label}` must not be empty; got {choices!r}.")
    checked = [check_value(name, c, label) for c in choices]
    if len(set(checked)) != len(checked):
        raise ValueError(f"`{label}` has repeated values; got {choices!r}.")
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
        space[name] = check_choices(name, converted, "choices")
    return space


def format_rates(value):
    """``0.01``, or ``0.005/0.001/0.001`` for per-layer rates."""
    if isinstance(value, (list, tuple)):
        return "/".join(format_rates(v) for v in value)
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


class SearchSpace:
    """One search over the hyper-parameters: stage, tuned names, choices, fixed values.

    Args:
        stage: ``"pretrain"`` (objective ``pretrain/reconstruction``),
            ``"finetune"`` or ``"joint"`` (objective ``val_error``).
        tune: names of the hyper-parameters to tune (default: the stage's,
            :data:`STAGES`, without :data:`PRETRAINING_ONLY` when
            ``pretraining=False``).
        search_space: ``{name: choices}`` overriding ``choices``.
        fixed: ``{name: value}`` for the hyper-parameters not tuned, overriding
            ``defaults`` (KerasTuner's own ``tuner/...`` entries are ignored).
        pretraining: whether the trials pretrain.
        choices: the default choices (:data:`SEARCH_SPACE`).
        defaults: the default fixed values (:data:`DEFAULT_VALUES`).

    Example:

    >>> space = SearchSpace("finetune", search_space={"learning_rate": [0.1, 0.01]})
    >>> space.tune, space.objective.name
    (('learning_rate', 'noise'), 'val_error')
    """

    def __init__(
        self,
        stage="joint",
        tune=None,
        search_space=None,
        fixed=None,
        *,
        pretraining=True,
        choices=None,
        defaults=None,
    ):
        if stage not in STAGES:
            raise ValueError(f"`stage` must be one of {list(STAGES)}; got stage={stage!r}.")
        self.stage = stage
        if tune is None:
            tune = [n for n in STAGES[stage] if pretraining or n not in PRETRAINING_ONLY]
        tune = [tune] if isinstance(tune, str) else list(tune)
        check_names("tune", tune)
        #: The tuned names, in :data:`SEARCH_SPACE`'s order.
        self.tune = tuple(n for n in SEARCH_SPACE if n in tune)
        choices = {**SEARCH_SPACE, **dict(choices or {})}
        search_space = dict(search_space or {})
        check_names("search_space", list(search_space))
        #: ``{name: choices}`` of every hyper-parameter.
        self.choices = {n: check_choices(n, search_space.get(n, choices[n])) for n in SEARCH_SPACE}
        defaults = {**DEFAULT_VALUES, **dict(defaults or {})}
        fixed = dict(fixed or {})
        if fixed:
            from keras_sparse_rect.tuning import _compat  # KerasTuner's reserved names

            fixed = {k: v for k, v in fixed.items() if not _compat.is_reserved(k)}
        check_names("fixed", list(fixed))
        #: ``{name: value}`` of every hyper-parameter when not tuned.
        self.fixed = {n: check_value(n, fixed.get(n, defaults[n])) for n in SEARCH_SPACE}

    def without(self, *names):
        """This space with ``names`` no longer tuned (their fixed values kept)."""
        space = object.__new__(SearchSpace)
        space.__dict__.update(self.__dict__)
        space.tune = tuple(n for n in self.tune if n not in names)
        return space

    @property
    def objective(self):
        """The stage's ``keras_tuner.Objective``."""
        import keras_tuner

        return keras_tuner.Objective(*OBJECTIVES[self.stage])

    def values_of(self, name):
        """The values hyper-parameter ``name`` takes in this search: its choices or fixed value."""
        return self.choices[name] if name in self.tune else (self.fixed[name],)

    def declare(self, hp, skip=()):
        """Declares the hyper-parameters in ``hp``; returns this trial's ``{name: value}``.

        Tuned names are ``hp.Choice``, the others ``hp.Fixed``; names in ``skip``
        that are not tuned are not declared.
        """
        values = {}
        for name in SEARCH_SPACE:
            if name in self.tune:
                values[name] = hp.Choice(name, list(self.choices[name]))
            elif name not in skip:
                values[name] = hp.Fixed(name, self.fixed[name])
        return values


def __getattr__(name):
    # SpaceHyperModel subclasses keras_tuner.HyperModel: loaded on first use, so
    # that this module (the names, choices and checks) loads no Keras.
    if name == "SpaceHyperModel":
        from keras_sparse_rect.tuning.hypermodel import SpaceHyperModel

        return SpaceHyperModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
