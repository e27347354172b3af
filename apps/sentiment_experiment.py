"""Section 4.2 in one command: Table 2 (RMSE and sparsity) by k-fold cross-validation on reviews.

    python -m apps.sentiment_experiment                   # offline default: Rotten Tomatoes
    python -m apps.sentiment_experiment --reviews=opentable.csv --text_column=review \\
        --rating_column=stars --rating_scale=5 --unlabeled=unlabeled.jsonl
    python -m apps.sentiment_experiment --hidden_units=1000 --folds=5 --models=rectifier_1

Writes ``--output_dir``/table2.md and result.json (atomically) and prints the
table. See keras_sparse_rect.experiments.sentiment.
"""

from absl import app, flags

from apps import flags as app_flags
from keras_sparse_rect.experiments.sentiment import MODELS, SentimentConfig

_D = SentimentConfig()
FLAGS = flags.FLAGS

# The data.
flags.DEFINE_string(
    "reviews",
    "",
    "Labeled reviews: a .csv, .tsv or .jsonl file (optionally .gz/.bz2). Empty: the offline "
    "default, Rotten Tomatoes critic snippets (fresh/rotten), cached on first use.",
)
flags.DEFINE_string("text_column", "text", "Column (JSON key) of the review text.")
flags.DEFINE_string("rating_column", "rating", "Column (JSON key) of the rating.")
flags.DEFINE_string(
    "rating_scale", "5", "Ratings: a number of stars (5: 1..5), or labels low to high: 'neg,pos'."
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
# The networks and their training.
flags.DEFINE_list("models", list(_D.models), f"Networks of Table 2: {', '.join(MODELS)}.")
flags.DEFINE_integer("hidden_units", _D.hidden_units, "Units per hidden layer (paper: 5000).")
flags.DEFINE_integer("folds", _D.folds, "Cross-validation folds (paper: 10).")
flags.DEFINE_integer("epochs", _D.epochs, "Fine-tuning epochs per fold.")
flags.DEFINE_float("learning_rate", _D.learning_rate, "Fine-tuning SGD learning rate.")
flags.DEFINE_integer("batch_size", _D.batch_size, "Mini-batch size (paper: 10).")
flags.DEFINE_list("l1", [str(v) for v in _D.l1], "Activation L1 of hidden layers 1, 2, 3.")
flags.DEFINE_boolean("pretrain", _D.pretrain, "Greedy layer-wise pretraining (denoising AEs).")
flags.DEFINE_integer("pretrain_epochs", _D.pretrain_epochs, "Pretraining epochs per layer.")
flags.DEFINE_list(
    "pretrain_learning_rates",
    [str(v) for v in _D.pretrain_learning_rates],
    "Pretraining SGD learning rate of layers 1, 2, 3.",
)
flags.DEFINE_float("pepper_rate", _D.pepper_rate, "First layer noise: P(a present term -> 0).")
flags.DEFINE_float("salt_rate", _D.salt_rate, "First layer noise: P(an absent term -> 1).")
flags.DEFINE_list(
    "masking_noise", [str(v) for v in _D.masking_noise], "Masking noise of layers 2 and 3."
)
flags.DEFINE_boolean(
    "reconstruction_sampling",
    _D.reconstruction_sampling,
    "First layer: reconstruct the present terms and a weighted sample of the absent ones.",
)
flags.DEFINE_integer("sampled_zeros", _D.sampled_zeros, "Absent terms sampled per batch.")
flags.DEFINE_integer("seed", _D.seed, "Random seed (folds, weights, noise).")
flags.DEFINE_string("output_dir", _D.output_dir, "Where table2.md and result.json go.")
flags.DEFINE_enum("verbose", "0", ["0", "1", "2"], "Keras verbosity of each fit.")


def _floats(name):
    try:
        return tuple(float(v) for v in FLAGS[name].value)
    except ValueError:
        app_flags.fail(f"--{name} must be comma-separated numbers; got {FLAGS[name].value!r}")


def config_from_flags():
    """A validated :class:`SentimentConfig` from the flags (a bad value exits with status 2)."""
    config = SentimentConfig(
        models=tuple(FLAGS.models),
        hidden_units=FLAGS.hidden_units,
        folds=FLAGS.folds,
        epochs=FLAGS.epochs,
        learning_rate=FLAGS.learning_rate,
        batch_size=FLAGS.batch_size,
        l1=_floats("l1"),
        pretrain=FLAGS.pretrain,
        pretrain_epochs=FLAGS.pretrain_epochs,
        pretrain_learning_rates=_floats("pretrain_learning_rates"),
        pepper_rate=FLAGS.pepper_rate,
        salt_rate=FLAGS.salt_rate,
        masking_noise=_floats("masking_noise"),
        reconstruction_sampling=FLAGS.reconstruction_sampling,
        sampled_zeros=FLAGS.sampled_zeros,
        seed=FLAGS.seed,
        output_dir=FLAGS.output_dir,
    )
    try:
        return config.validate()
    except ValueError as error:
        app_flags.fail(error)


def load_data():
    """``(reviews, name)`` from the flags; a missing file or a bad row exits with status 2."""
    from keras_sparse_rect.data import load_reviews, load_rotten_tomatoes

    for name in ("num_terms", "max_reviews", "max_unlabeled"):
        if FLAGS[name].value < (1 if name == "num_terms" else 0):
            app_flags.fail(f"--{name} must be >= {1 if name == 'num_terms' else 0}")
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
        for name in ("text_column", "rating_column", "rating_scale", "ignore_ratings", "format"):
            if FLAGS[name].present:
                app_flags.fail(
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
        app_flags.fail(error)


def main(argv):
    del argv
    config = config_from_flags()
    reviews, name = load_data()
    if reviews.bad_rows:
        path, line, reason = reviews.bad_rows[0]
        print(f"Skipped {len(reviews.bad_rows)} bad row(s) (first: {path}, line {line}: {reason}).")
    from keras_sparse_rect.experiments.sentiment import run_sentiment_experiment, summary

    result = run_sentiment_experiment(config, reviews, data_name=name, verbose=int(FLAGS.verbose))
    print(summary(result))


if __name__ == "__main__":
    app.run(main, flags_parser=app_flags.parse_flags)
