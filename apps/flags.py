"""The apps' flags, generated from the experiments' config dataclasses.

Each setting is written once, as a field of
:class:`~keras_sparse_rect.experiments.configs.ImageExperimentConfig` or
:class:`~keras_sparse_rect.experiments.configs.SentimentConfig` (default, help
text, choices); :func:`define_config_flags` turns the fields into absl flags
and :func:`config_from_flags` turns the parsed flags back into a validated
config (in the manner of the Model Garden's generic flags plus config
overrides). A flag has one type in every app: per-layer settings (``--l1``,
``--noise``, ``--hidden_units``, ...) are comma-separated lists everywhere, and
one value means every layer.

Neither this module nor the configs import Keras or TensorFlow, so that a bad
flag, a bad value or an unusable output folder is reported (one line, exit
status 2) before either is loaded. ``--flagfile`` works as absl makes it.
"""

import contextlib
import dataclasses
import os
import re
import sys

from absl import flags

from keras_sparse_rect.experiments.configs import DATASETS, ImageExperimentConfig, SentimentConfig

FLAGS = flags.FLAGS

#: The flags of :func:`define_review_flags` that describe a ``--reviews`` file.
REVIEW_FILE_FLAGS = ("text_column", "rating_column", "rating_scale", "ignore_ratings", "format")
#: Fields of ImageExperimentConfig that only the single-run apps take as flags.
SINGLE_RUN_FIELDS = ("activation", "pretrain", "labeled_fraction")
#: Fields of SentimentConfig that describe the first layer's noise and the folds.
REVIEW_FIELDS = ("folds", "pepper_rate", "salt_rate", "reconstruction_sampling", "sampled_zeros")
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


def define_verbose_flag(default):
    if "verbose" not in FLAGS:
        flags.DEFINE_enum(
            "verbose", default, ["0", "1", "2"], "Keras verbosity: 1 = progress bars."
        )


def define_review_flags():
    """Flags of the review apps (section 4.2): the data, its folds, the first layer's noise.

    The data flags describe the loader's input; the folds and the first layer's
    noise are :class:`SentimentConfig` fields (:data:`REVIEW_FIELDS`).
    """
    flags.DEFINE_string(
        "reviews",
        "",
        "Labeled reviews: a .csv, .tsv or .jsonl file (optionally .gz/.bz2). Empty: the offline "
        "default, Rotten Tomatoes critic snippets (fresh/rotten), cached on first use.",
    )
    flags.DEFINE_string("text_column", "text", "Column (JSON key) of the review text.")
    flags.DEFINE_string("rating_column", "rating", "Column (JSON key) of the rating.")
    flags.DEFINE_string(
        "rating_scale",
        "5",
        "Ratings: a number of stars (5: 1..5), or labels low to high: 'neg,pos'.",
    )
    flags.DEFINE_list("ignore_ratings", [], "Ratings whose rows are dropped (not errors).")
    flags.DEFINE_enum("format", "", ["", "csv", "tsv", "jsonl"], "File format; empty: from suffix.")
    flags.DEFINE_string("unlabeled", "", "Optional file of unlabeled reviews for pretraining.")
    flags.DEFINE_string("unlabeled_text_column", "", "Its text column (default: --text_column).")
    flags.DEFINE_boolean(
        "skip_bad_rows", False, "Skip and count bad rows instead of stopping at the first one."
    )
    flags.DEFINE_integer("num_terms", 5000, "Most frequent terms kept (the paper: 5000).")
    flags.DEFINE_integer("max_reviews", 0, "Use at most this many labeled reviews (0: all).")
    flags.DEFINE_integer("max_unlabeled", 0, "Use at most this many unlabeled reviews (0: all).")
    define_config_flags(SentimentConfig, only=REVIEW_FIELDS)


def check_review_flags():
    """The review flags' own values; a bad one prints one line and exits with status 2."""
    for name, low in (("num_terms", 1), ("max_reviews", 0), ("max_unlabeled", 0)):
        if FLAGS[name].value < low:
            fail(f"--{name} must be >= {low}; got --{name}={FLAGS[name].value}")
    if not FLAGS.reviews:
        for name in REVIEW_FILE_FLAGS:
            if FLAGS[name].present:
                fail(
                    f"--{name} describes a --reviews file; the default data (Rotten Tomatoes) "
                    "has its own columns and labels"
                )
    for name in ("reviews", "unlabeled"):
        path = FLAGS[name].value
        if path and os.path.isdir(path):
            fail(f"--{name}={path} is a directory; give a .csv, .tsv or .jsonl file")
        if path and not os.path.exists(path):
            fail(f"--{name}={path}: no such file")


def load_reviews_from_flags():
    """``(reviews, name)`` from :func:`define_review_flags`' flags.

    A missing file, a bad row or a bad value prints one line and exits with status 2.
    """
    check_review_flags()
    from keras_sparse_rect.data import load_reviews, load_rotten_tomatoes

    options = {
        "skip_bad_rows": FLAGS.skip_bad_rows,
        "num_terms": FLAGS.num_terms,
        "max_rows": FLAGS.max_reviews or None,
        "max_unlabeled_rows": FLAGS.max_unlabeled or None,
        "unlabeled_path": FLAGS.unlabeled or None,
        "unlabeled_text_column": FLAGS.unlabeled_text_column or None,
        "file_format": FLAGS.format or None,
    }
    try:
        if not FLAGS.reviews:
            return load_rotten_tomatoes(**options), "Rotten Tomatoes critic snippets"
        reviews = load_reviews(
            FLAGS.reviews,
            FLAGS.text_column,
            FLAGS.rating_column,
            FLAGS.rating_scale,
            ignore_ratings=tuple(FLAGS.ignore_ratings),
            **options,
        )
        return reviews, FLAGS.reviews
    except (ValueError, OSError) as error:  # BadReviewRow and DatasetNotFoundError included
        fail(error)


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


def flag_message(error):
    """``error``'s text with each `field` that is a flag written as --field."""

    def as_flag(match):
        name = match.group(1)
        return f"--{name}" if name in FLAGS else match.group(0)

    text = re.sub(
        r"`([a-z][a-z0-9_]*)(\[\d+\])?`", lambda m: as_flag(m) + (m.group(2) or ""), str(error)
    )
    return re.sub(r"(?<![-\w])([a-z][a-z0-9_]*)=", lambda m: as_flag(m) + "=", text)


def config_from_flags(config_class=ImageExperimentConfig, **overrides):
    """A validated config of ``config_class`` from the parsed flags (plus ``overrides``).

    Every field defined as a flag is read from it; the others keep their
    defaults. A bad value prints one line naming the flag and exits with status
    2, and so does an output folder (``--model_dir``, ``--output_dir``) that is
    a file or cannot be created, before any work starts.
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
    if output is not None:
        check_output_dir(getattr(config, output), f"--{output}")
    import_keras_quietly()
    return config


@contextlib.contextmanager
def _native_stderr_silenced():
    """Sends what native code writes to file descriptor 2 to /dev/null, for a while."""
    sys.stderr.flush()
    try:
        fd = sys.__stderr__.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (captured): nothing to hide
        yield
        return
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def import_keras_quietly():
    """Imports Keras (and its backend) without TensorFlow's C++ start-up lines.

    TensorFlow prints its oneDNN and CUDA notices through absl's C++ logging
    before ``TF_CPP_MIN_LOG_LEVEL`` applies; the apps show only their own
    output. absl's ``--verbosity=1`` (or higher) keeps those lines. A failing
    import still raises (its traceback is Python's, printed after).
    """
    if "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if FLAGS.is_parsed() and FLAGS["verbosity"].value >= 1:
        import keras  # noqa: F401

        return
    with _native_stderr_silenced():
        import keras  # noqa: F401


def check_dataset(name, flag):
    """One line and exit 2 unless ``name`` is a data set that ``load_image_dataset`` knows."""
    if not (name in DATASETS or name.startswith(("idx:", "npz:"))):
        known = ", ".join([*DATASETS, "idx:DIR", "npz:FILE"])
        fail(f"{flag} must name data sets among {known}; got {name!r}")


def check_output_dir(path, flag):
    """Creates ``path`` if needed; one line and exit 2 if it is a file or cannot be made."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        fail(f"{flag}={path} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        fail(f"{flag}={path} cannot be created: {error.strerror or error}")
    if not os.access(path, os.W_OK | os.X_OK):
        fail(f"{flag}={path} is not writable")


def strategy_and_data(config, datasets=None):
    """``(strategy, data)`` of an image app; a bad value prints one line and exits with status 2.

    The strategy comes first: MultiWorkerMirroredStrategy must precede any other
    TensorFlow call. ``data`` is the loaded ``config.dataset``, or with
    ``datasets`` a dict of each named data set.
    """
    from keras_sparse_rect import distribute

    try:
        strategy = distribute.get_strategy(config.strategy, config.tpu)
        from keras_sparse_rect.data import load_image_dataset

        if datasets is None:
            return strategy, load_image_dataset(config.dataset, data_dir=config.data_dir)
        return strategy, {
            name: load_image_dataset(name, data_dir=config.data_dir) for name in datasets
        }
    except ValueError as error:
        fail(flag_message(error))


@contextlib.contextmanager
def run_conflicts_fail():
    """One line and exit 2 for a run folder of another configuration (``RunConflictError``)
    and for pretraining that diverged (``PretrainingCollapseError``, naming its rate)."""
    from keras_sparse_rect.callbacks import PretrainingCollapseError
    from keras_sparse_rect.experiments.image import RunConflictError

    try:
        yield
    except RunConflictError as error:
        if "restart" in FLAGS or error.model_dir is None:
            fail(flag_message(error))
        # A grid app's runs live in subfolders of --model_dir, and it has no --restart.
        fail(
            f"{error.model_dir} holds {error.what}; give another --model_dir, or delete that "
            "folder to train the run again"
        )
    except PretrainingCollapseError as error:
        # The callback's learning_rate is the app's --pretrain_learning_rate, not --learning_rate.
        fail(str(error).replace("pretraining learning_rate=", "--pretrain_learning_rate="))


def verbosity():
    return int(FLAGS.verbose)


def fail(message):
    """Prints one line naming the problem and exits with status 2."""
    program = sys.argv[0].rsplit("/", 1)[-1] if sys.argv else "app"
    text = " ".join(str(message).split())
    print(f"{program}: error: {text}", file=sys.stderr)
    sys.exit(2)


def _declare_key_flags(program):
    """Makes ``--help`` list the app's own flags (absl lists the main module's only).

    The app's flags are defined here and in the app's module, which is not
    ``sys.argv[0]``'s when the app runs as an installed command.
    """
    package = __name__.rpartition(".")[0]
    for module, module_flags in FLAGS.flags_by_module_dict().items():
        if module.startswith(package + ".") or module in ("__main__", program):
            for flag in module_flags:
                FLAGS.register_key_flag_for_module(program, flag)


def parse_flags(argv):
    """absl's ``flags_parser``: a bad flag prints one line and exits with status 2."""
    _declare_key_flags(argv[0] if argv else sys.argv[0])
    try:
        remaining = FLAGS(argv)
    except flags.Error as error:
        fail(error)
    if len(remaining) > 1:
        fail(f"unexpected arguments: {' '.join(remaining[1:])}")
    return remaining
