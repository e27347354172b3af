"""The review apps' data flags (section 4.2): the ``--reviews`` file, its columns and scale.

:func:`define_review_flags` defines them, :func:`check_review_flags` checks
their values before TensorFlow is loaded, and :func:`load_reviews_from_flags`
loads the data, reporting a missing, corrupt or badly rated file in one line
that names the flag and the file.

Example (in an app module):

>>> define_review_flags()  # doctest: +SKIP
>>> reviews, name = load_reviews_from_flags()  # doctest: +SKIP
"""

import gzip
import os
import zlib

from absl import flags

from keras_sparse_rect._validation import check_int
from keras_sparse_rect.experiments.configs import SentimentConfig

from ._cli import fail, flag_message
from ._config_flags import define_config_flags

FLAGS = flags.FLAGS

#: The flags of :func:`define_review_flags` that describe a ``--reviews`` file.
REVIEW_FILE_FLAGS = ("text_column", "rating_column", "rating_scale", "ignore_ratings", "format")
#: Fields of SentimentConfig that describe the first layer's noise and the folds.
REVIEW_FIELDS = ("folds", "pepper_rate", "salt_rate", "reconstruction_sampling", "sampled_zeros")
#: The review data flags (the file, its description, the vocabulary, the limits).
REVIEW_DATA = (
    "reviews",
    "unlabeled",
    "unlabeled_text_column",
    "skip_bad_rows",
    "num_terms",
    "max_reviews",
    "max_unlabeled",
    *REVIEW_FILE_FLAGS,
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
        try:
            check_int(name, FLAGS[name].value, low)
        except ValueError as error:
            fail(flag_message(error))
    if not FLAGS.reviews:
        for name in REVIEW_FILE_FLAGS:
            if FLAGS[name].present:
                fail(
                    f"--{name} describes a --reviews file; the default data (Rotten Tomatoes) "
                    "has its own columns and labels"
                )
    else:
        from keras_sparse_rect.data.ratings import RatingScale  # Keras-free, like the package

        try:
            RatingScale.parse(FLAGS.rating_scale)
        except ValueError:
            fail(
                "--rating_scale must be a number of stars >= 2 (e.g. 5) or comma-separated "
                "labels in increasing order, each once (e.g. rotten,fresh); got "
                f"--rating_scale={FLAGS.rating_scale}"
            )
    for name in ("reviews", "unlabeled"):
        path = FLAGS[name].value
        if path and os.path.isdir(path):
            fail(f"--{name}={path} is a directory; give a .csv, .tsv or .jsonl file")
        if path and not os.path.exists(path):
            fail(f"--{name}={path}: no such file")


def _file_flag(error):
    """The ``--reviews`` or ``--unlabeled`` flag whose file ``error`` is about."""
    text = f"{getattr(error, 'filename', '') or ''} {error}"
    if FLAGS.unlabeled and FLAGS.unlabeled in text:
        return "unlabeled"
    return "reviews"


def load_reviews_from_flags():
    """``(reviews, name)`` from :func:`define_review_flags`' flags.

    A missing or corrupt file, a bad row or a bad value prints one line naming
    the flag (and the file) and exits with status 2.
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
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:  # a truncated or fake .gz/.bz2
        flag = _file_flag(error)
        fail(f"--{flag}={FLAGS[flag].value} is corrupt or truncated: {error}")
    except ValueError as error:  # BadReviewRow, a corrupt file, a bad column or format
        text = flag_message(error)
        for flag in ("unlabeled", "reviews"):  # the loader's messages name the file
            if FLAGS[flag].value and FLAGS[flag].value in text:
                fail(f"--{flag}: {text}")
        fail(text)
    except OSError as error:  # DatasetNotFoundError included
        if FLAGS.reviews and getattr(error, "filename", None):
            flag = _file_flag(error)
            fail(f"--{flag}={FLAGS[flag].value}: {error.strerror or error}")
        fail(error)
