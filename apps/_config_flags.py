"""The apps' flags, generated from the experiments' config dataclasses.

Each setting is written once, as a field of
:class:`~keras_sparse_rect.experiments.configs.ImageExperimentConfig` or
:class:`~keras_sparse_rect.experiments.configs.SentimentConfig` (default, help
text, choices); :func:`define_config_flags` turns the fields into absl flags
and :func:`config_from_flags` turns the parsed flags back into a validated
config (in the manner of the Model Garden's generic flags plus config
overrides). A flag has one type in every app: per-layer settings (``--l1``,
``--noise``, ``--hidden_units``, ...) are comma-separated lists everywhere, and
one value means every layer (the one rule of ``_validation.per_layer``).

Neither this module nor the configs import Keras or TensorFlow: a bad flag, a
bad value or an unusable output folder is reported (one line, exit status 2)
before either is loaded; :func:`strategy_and_data` loads them afterwards.

Example (in an app module):

>>> define_common_flags(model_dir="runs/image_experiment")  # doctest: +SKIP
>>> config = config_from_flags()  # after absl parsed the flags  # doctest: +SKIP
"""

import dataclasses

from absl import flags

from keras_sparse_rect.experiments.configs import (
    ImageExperimentConfig,
    SentimentConfig,
    check_network_fits,
)
from keras_sparse_rect.names import image_dataset_choices, is_image_dataset

from ._cli import check_output_dir, fail, flag_message, import_keras_quietly, native_stderr_silenced

FLAGS = flags.FLAGS

#: Fields of ImageExperimentConfig that only the single-run apps take as flags.
SINGLE_RUN_FIELDS = ("activation", "pretrain", "labeled_fraction")
#: The output folder field of each config.
_OUTPUT_FIELD = {ImageExperimentConfig: "model_dir", SentimentConfig: "output_dir"}
_ITEM_WORDS = {int: "ints", float: "numbers", str: "names"}


def _text(value):
    return "" if value is None else str(value)


def define_config_flags(config_class, *, only=None, skip=(), defaults=None):
    """Defines one absl flag per field of ``config_class`` (a config dataclass).

    A field with ``items`` in its metadata becomes a list flag, one with
    ``choices`` an enum, and bool, int, float and str fields the flag of that
    type; the help text is the field's. Fields already defined as flags (by an
    app, or by an earlier call for another config) are left as they are.

    Args:
        config_class: ``ImageExperimentConfig`` or ``SentimentConfig`` (any
            dataclass whose fields carry ``help`` metadata).
        only: names of the fields to define (default: all).
        skip: names of fields not to define.
        defaults: ``{field: default}`` replacing the dataclass defaults (e.g. an
            app's own ``model_dir``).
    """
    defaults = dict(defaults or {})
    for field in dataclasses.fields(config_class):
        name = field.name
        if (only is not None and name not in only) or name in skip or name in FLAGS:
            continue
        default = defaults.get(name, field.default)
        help_text = field.metadata.get("help", name.replace("_", " "))
        if "items" in field.metadata:
            values = default if isinstance(default, (list, tuple)) else (default,)
            flags.DEFINE_list(name, [_text(v) for v in values], help_text)
        elif "choices" in field.metadata:
            flags.DEFINE_enum(name, default, list(field.metadata["choices"]), help_text)
        elif isinstance(default, bool):
            flags.DEFINE_boolean(name, default, help_text)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_text)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, help_text)
        else:
            flags.DEFINE_string(name, default, help_text)


def define_verbose_flag(default):
    """``--verbose``: Keras' verbosity (1 = progress bars)."""
    if "verbose" not in FLAGS:
        flags.DEFINE_enum(
            "verbose", default, ["0", "1", "2"], "Keras verbosity: 1 = progress bars."
        )


def define_common_flags(model_dir, dataset=ImageExperimentConfig.dataset):
    """Flags of every image app: data, network shape, training, distribution.

    ``dataset`` is the app's default data set: full MNIST for the single run
    and Table 1, the 5,000-digit ``mnist_subset`` for the grids of Figure 3 (so
    that they run in minutes with no flags).
    """
    define_config_flags(
        ImageExperimentConfig,
        skip=SINGLE_RUN_FIELDS,
        defaults={"model_dir": model_dir, "dataset": dataset},
    )
    define_verbose_flag("1")


def define_single_run_flags():
    """Flags that choose one row of Table 1."""
    define_config_flags(ImageExperimentConfig, only=SINGLE_RUN_FIELDS)


def define_sentiment_flags():
    """Every flag of the sentiment experiment's config (networks, training, first layer)."""
    define_config_flags(SentimentConfig)
    define_verbose_flag("0")


def _flag_value(field):
    """The parsed flag of ``field`` as the config wants it (lists as tuples of items)."""
    value = FLAGS[field.name].value
    items = field.metadata.get("items")
    if items is None:
        return value
    try:
        return tuple(items(v) for v in value)
    except ValueError:
        fail(
            f"--{field.name} must be comma-separated {_ITEM_WORDS[items]}; got "
            f"--{field.name}={','.join(value)}"
        )


def config_from_flags(config_class=ImageExperimentConfig, *, check_output=True, **overrides):
    """A validated config of ``config_class`` from the parsed flags (plus ``overrides``).

    Every field defined as a flag is read from it; the others keep their
    defaults. A bad value prints one line naming the flag and exits with status
    2, and so does an output folder (``--model_dir``, ``--output_dir``) that is
    a file or cannot be created, before Keras is loaded or any folder made
    (``check_output=False``: an app that does not write there, such as a search).
    """
    fields = {
        field.name: _flag_value(field)
        for field in dataclasses.fields(config_class)
        if field.name in FLAGS
    }
    fields.update(overrides)
    try:
        config = config_class(**fields).validate()
    except ValueError as error:
        fail(flag_message(error))
    output = _OUTPUT_FIELD.get(config_class)
    if output is not None and check_output:
        check_output_dir(getattr(config, output), f"--{output}")
    return config


def check_dataset(name, flag):
    """One line and exit 2 unless ``name`` is a data set that ``load_image_dataset`` knows."""
    if not is_image_dataset(name):
        fail(f"{flag} must name data sets among {image_dataset_choices()}; got {name!r}")


def check_loaded_network(config, data, flag_given=True):
    """One line and exit 2 if ``config``'s network on ``data`` needs more memory than there is.

    Before the data is loaded, the configs check the smallest input a data set
    can have; this checks the real one (``idx:``/``npz:`` files included).
    """
    if not flag_given:
        return
    size = 1
    for dim in data.input_shape:
        size *= int(dim)
    try:
        check_network_fits("hidden_units", config.hidden_units, size, data.num_classes)
    except ValueError as error:
        fail(flag_message(error))


def strategy_and_data(config, datasets=None):
    """``(strategy, data)`` of an image app; a bad value prints one line and exits with status 2.

    Loads Keras (quietly), then the strategy: MultiWorkerMirroredStrategy must
    precede any other TensorFlow call, and a TPU that cannot be reached is one
    line, without TensorFlow's C++ log. ``data`` is the loaded
    ``config.dataset``, or with ``datasets`` a dict of each named data set.
    """
    import_keras_quietly()
    from keras_sparse_rect import distribute

    try:
        with native_stderr_silenced():
            strategy = distribute.get_strategy(config.strategy, config.tpu)
        from keras_sparse_rect.data import load_image_dataset

        names = [config.dataset] if datasets is None else list(datasets)
        loaded = {name: load_image_dataset(name, data_dir=config.data_dir) for name in names}
    except ValueError as error:
        fail(flag_message(error))
    except OSError as error:  # an unreadable user file (idx:, npz:)
        flag = "--dataset" if datasets is None else "--datasets"
        fail(f"{flag}: {error}")
    given = "hidden_units" in FLAGS and (datasets is None or FLAGS["hidden_units"].present)
    for data in loaded.values():
        check_loaded_network(config, data, given)
    return strategy, loaded[config.dataset] if datasets is None else loaded
