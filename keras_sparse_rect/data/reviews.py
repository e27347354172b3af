"""Review data sets for the sentiment experiment of section 4.2, as sparse bags of words.

:func:`load_reviews` reads labeled reviews (and, optionally, a file of unlabeled
reviews for pretraining) from CSV, TSV or JSON-lines files, and turns their text
into the paper's binary bag of words over the most frequent terms, kept sparse
(:class:`~keras_sparse_rect.data.bag_of_words.BagOfWords`). The files are read by
:mod:`~keras_sparse_rect.data.review_files` (:func:`read_reviews`, which reads
one file without vectorizing it, and :class:`BadReviewRow`); rating scales are
:class:`~keras_sparse_rect.data.ratings.RatingScale`.
"""

import dataclasses
import warnings

import numpy as np

from keras_sparse_rect.data.bag_of_words import BagOfWords
from keras_sparse_rect.data.ratings import RatingScale
from keras_sparse_rect.data.review_files import (
    FORMATS,
    BadReviewRow,
    ReviewRows,
    detect_format,
    read_reviews,
)

__all__ = [
    "FORMATS",
    "BadReviewRow",
    "RatingScale",
    "ReviewRows",
    "Reviews",
    "detect_format",
    "load_reviews",
    "read_reviews",
]


@dataclasses.dataclass
class Reviews:
    """Labeled (and unlabeled) reviews as sparse binary bags of words (section 4.2).

    Attributes:
        x: ``scipy.sparse.csr_matrix`` (reviews, terms), float32, values 1.
        y: class index of each labeled review (int32).
        scale: the :class:`RatingScale`.
        x_unlabeled: the unlabeled reviews (CSR, same terms), or ``None``.
        vocabulary: the terms, most frequent first (column ``j`` is ``vocabulary[j]``).
        sources: per file: path, usable rows, bad rows, ignored rows.
        bad_rows: ``(path, line, reason)`` of every skipped bad row.
    """

    x: object
    y: np.ndarray
    scale: RatingScale
    x_unlabeled: object
    vocabulary: list
    sources: list
    bad_rows: list

    @property
    def ratings(self):
        """The rating value of each labeled review (``scale.values[y]``)."""
        return np.asarray(self.scale.values, dtype="float32")[self.y]

    @property
    def density(self):
        """Fraction of non-zeros in the labeled bag of words (the paper: 0.6%)."""
        return self.x.nnz / max(1, self.x.shape[0] * self.x.shape[1])

    def pretraining_inputs(self):
        """Labeled plus unlabeled reviews, the pretraining set of section 4.2."""
        import scipy.sparse as sp

        if self.x_unlabeled is None or self.x_unlabeled.shape[0] == 0:
            return self.x
        return sp.vstack([self.x, self.x_unlabeled], format="csr")


def load_reviews(
    path,
    text_column="text",
    rating_column="rating",
    scale=5,
    *,
    unlabeled_path=None,
    unlabeled_text_column=None,
    ignore_ratings=(),
    skip_bad_rows=False,
    num_terms=5000,
    max_rows=None,
    max_unlabeled_rows=None,
    file_format=None,
):
    """Labeled reviews (and optional unlabeled ones) as sparse binary bags of words.

    Section 4.2: "The review text is treated as a bag of words and transformed
    into binary vectors encoding the presence/absence of terms. [...] only the
    5000 most frequent terms of the vocabulary are kept." The terms are the most
    frequent over the labeled and unlabeled reviews together (both serve
    pretraining). The matrices are ``scipy.sparse`` CSR from the vectorizer on
    (:class:`BagOfWords`): feed them to a model with
    :func:`keras_sparse_rect.sparse.sparse_batches`.

    Args:
        path: the labeled reviews: a CSV, TSV or JSON-lines file (see :func:`read_reviews`).
        text_column, rating_column: the columns (JSON keys) of text and rating.
        scale: the rating scale: a number of stars (``5``: ratings 1..5), or
            labels in increasing order (``("rotten", "fresh")``, ``"neg,pos"``).
        unlabeled_path: optional file of unlabeled reviews for pretraining.
        unlabeled_text_column: its text column (default: ``text_column``).
        ignore_ratings: raw ratings whose rows are dropped (not errors).
        skip_bad_rows: skip and count bad rows instead of raising :class:`BadReviewRow`.
        num_terms: the number of most frequent terms kept (the paper: 5000).
        max_rows, max_unlabeled_rows: read at most this many usable rows.
        file_format: force ``"csv"``, ``"tsv"`` or ``"jsonl"`` for both files.

    Returns:
        :class:`Reviews`.

    Warns:
        UserWarning: every usable labeled review has the same rating (one
            line naming the file and the rating). The data still load, and a
            model still trains (its softmax has every class of ``scale``), but
            it can only learn to predict that one rating: a run on a file cut
            to its first rows, say, is worth a look before it is worth a
            training run.

    Example:

    >>> from keras_sparse_rect.data import load_reviews
    >>> reviews = load_reviews("opentable.csv", "review", "stars", scale=5)  # doctest: +SKIP
    >>> reviews.x.shape, reviews.density  # doctest: +SKIP
    ((10000, 5000), 0.006)
    """
    labeled = read_reviews(
        path,
        text_column,
        rating_column,
        scale,
        ignore_ratings=ignore_ratings,
        skip_bad_rows=skip_bad_rows,
        max_rows=max_rows,
        file_format=file_format,
    )
    if not labeled.texts:
        raise ValueError(f"{labeled.path}: no usable labeled reviews.")
    ratings = np.unique(labeled.labels)
    if len(ratings) == 1:
        parsed = RatingScale.parse(scale)
        warnings.warn(
            f"{labeled.path}: all {len(labeled.texts)} usable labeled reviews have the rating "
            f"{parsed.labels[int(ratings[0])]} ({parsed.describe()}); a classifier trained on "
            "them can only learn that one rating.",
            UserWarning,
            stacklevel=2,
        )
    rows = [labeled]
    if unlabeled_path is not None:
        rows.append(
            read_reviews(
                unlabeled_path,
                unlabeled_text_column or text_column,
                None,
                skip_bad_rows=skip_bad_rows,
                max_rows=max_unlabeled_rows,
                file_format=file_format,
            )
        )
    vectorizer = BagOfWords(num_terms=num_terms)
    vectorizer.adapt([text for r in rows for text in r.texts])
    return Reviews(
        x=vectorizer.transform(labeled.texts),
        y=labeled.labels,
        scale=RatingScale.parse(scale),
        x_unlabeled=vectorizer.transform(rows[1].texts) if len(rows) > 1 else None,
        vocabulary=vectorizer.vocabulary,
        sources=[
            {
                "path": r.path,
                "rows": len(r.texts),
                "bad_rows": len(r.bad_rows),
                "ignored_rows": r.ignored_rows,
            }
            for r in rows
        ],
        bad_rows=[(r.path, line, reason) for r in rows for line, reason in r.bad_rows],
    )
