"""Review files for the sentiment experiment of section 4.2: rating scales, rows, bad rows.

:func:`load_reviews` reads labeled reviews (and, optionally, a file of unlabeled
reviews for pretraining) from CSV, TSV or JSON-lines files, and turns their text
into the paper's binary bag of words over the most frequent terms, kept sparse
(:class:`~keras_sparse_rect.data.bag_of_words.BagOfWords`). :func:`read_reviews`
reads one file without vectorizing it.

A bad row (an empty text, a missing or non-numeric rating, a rating outside the
scale, a text or rating that is not UTF-8) raises :class:`BadReviewRow`, which
names the file and the line, unless ``skip_bad_rows=True``: then it is counted
and listed in the result.
"""

import bz2
import csv
import dataclasses
import gzip
import json
import math
import numbers
import os
import warnings

import numpy as np

from keras_sparse_rect.data.bag_of_words import BagOfWords

#: File formats by name, and the file suffixes that select them.
FORMATS = {"csv": (".csv",), "tsv": (".tsv", ".tab"), "jsonl": (".jsonl", ".ndjson", ".json")}

# Review texts can be long: raise the csv module's 128 KiB field limit.
_CSV_FIELD_LIMIT = 1 << 26


class BadReviewRow(ValueError):
    """A row of a review file that cannot be used; the message names the file and line.

    Attributes:
        path: the file.
        line: the 1-based line where the row starts.
        reason: what is wrong ("empty text", "missing rating", ...).
    """

    def __init__(self, path, line, reason):
        self.path, self.line, self.reason = os.fspath(path), int(line), reason
        super().__init__(
            f"{self.path}, line {self.line}: {reason} (skip_bad_rows=True, or "
            "--skip_bad_rows, skips and counts such rows)."
        )


@dataclasses.dataclass(frozen=True)
class RatingScale:
    """The ratings of a review file: 1..K stars, or K named labels.

    ``labels`` are the ratings as written in the file, ``values`` the number
    each stands for (the star value, or 0..K-1 for labels: "rotten" 0,
    "fresh" 1). Class ``k`` of the softmax output is rating ``labels[k]``; the
    expected rating of section 4.2 is ``sum_k p_k * values[k]``.

    Example:

    >>> from keras_sparse_rect.data.reviews import RatingScale
    >>> RatingScale.parse("5").values
    (1.0, 2.0, 3.0, 4.0, 5.0)
    >>> RatingScale.parse("rotten,fresh").index("fresh")
    1
    """

    labels: tuple
    values: tuple
    stars: bool

    @classmethod
    def star_scale(cls, num_stars):
        """Whole stars ``1 .. num_stars`` (written as numbers: "4", "4.0", 4)."""
        if (
            isinstance(num_stars, bool)
            or not isinstance(num_stars, numbers.Integral)
            or num_stars < 2
        ):
            raise ValueError(f"`scale` must have at least 2 stars; got scale={num_stars!r}.")
        stars = range(1, int(num_stars) + 1)
        return cls(tuple(str(s) for s in stars), tuple(float(s) for s in stars), True)

    @classmethod
    def label_scale(cls, labels):
        """Named labels in increasing order (e.g. ``("rotten", "fresh")``), values 0..K-1."""
        labels = tuple(str(label).strip() for label in labels)
        if len(labels) < 2 or len(set(labels)) != len(labels) or not all(labels):
            raise ValueError(
                f"`scale` must name at least 2 distinct, non-empty labels; got scale={labels!r}."
            )
        return cls(labels, tuple(float(i) for i in range(len(labels))), False)

    @classmethod
    def parse(cls, scale):
        """A scale from an int (stars), a digit string ("5"), labels ("rotten,fresh"), or a list."""
        if isinstance(scale, RatingScale):
            return scale
        if isinstance(scale, numbers.Integral) and not isinstance(scale, bool):
            return cls.star_scale(scale)
        if isinstance(scale, str):
            text = scale.strip()
            if text.isdigit():
                return cls.star_scale(int(text))
            if "," in text:
                return cls.label_scale(text.split(","))
        elif isinstance(scale, (list, tuple)):
            return cls.label_scale(scale)
        raise ValueError(
            "`scale` must be a number of stars (e.g. 5) or comma-separated labels in "
            f"increasing order (e.g. 'rotten,fresh'); got scale={scale!r}."
        )

    @property
    def num_classes(self):
        return len(self.labels)

    def describe(self):
        if self.stars:
            return f"1..{self.num_classes} stars"
        return " < ".join(self.labels)

    def index(self, raw):
        """The class index of a raw rating; raises ValueError with the reason if none."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ValueError("missing rating")
        if not self.stars:
            label = str(raw).strip()
            if label not in self.labels:
                raise ValueError(f"rating {label!r} outside the scale ({self.describe()})")
            return self.labels.index(label)
        if isinstance(raw, bool):
            raise ValueError(f"non-numeric rating {raw!r}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"non-numeric rating {str(raw).strip()!r}") from None
        if math.isnan(value):
            raise ValueError(f"non-numeric rating {str(raw).strip()!r}")
        if value != round(value) or not 1 <= value <= self.num_classes:
            raise ValueError(f"rating {str(raw).strip()} outside the scale ({self.describe()})")
        return int(value) - 1


@dataclasses.dataclass
class ReviewRows:
    """The usable rows of one review file (see :func:`read_reviews`).

    Attributes:
        path: the file.
        texts: review texts, one per usable row.
        labels: class indices (int32), or ``None`` for an unlabeled file.
        lines: the line where each usable row starts.
        bad_rows: ``(line, reason)`` of every skipped bad row.
        ignored_rows: rows dropped because their rating is in ``ignore_ratings``.
    """

    path: str
    texts: list
    labels: object
    lines: np.ndarray
    bad_rows: list
    ignored_rows: int


def detect_format(path, file_format=None):
    """The format of ``path``: ``file_format`` if given, else from its suffix (.gz/.bz2 ok)."""
    if file_format is not None:
        if file_format not in FORMATS:
            raise ValueError(
                f"`file_format` must be one of {list(FORMATS)}; got file_format={file_format!r}."
            )
        return file_format
    name = os.fspath(path).lower()
    for compression in (".gz", ".bz2"):
        name = name.removesuffix(compression)
    for fmt, suffixes in FORMATS.items():
        if name.endswith(suffixes):
            return fmt
    raise ValueError(
        f"{os.fspath(path)}: unknown review file format; name it .csv, .tsv or .jsonl "
        "(optionally .gz or .bz2), or pass file_format ('csv', 'tsv', 'jsonl')."
    )


def _open_text(path):
    """Opens ``path`` as UTF-8 text; bytes that are not UTF-8 become lone surrogates.

    Decoding errors are not raised while reading (the reader decodes ahead of
    the line it hands out, so the line of an error would be lost): each row's
    fields are checked instead (:func:`_not_utf8`), so the row and its line are
    reported, and ``skip_bad_rows`` can skip it.
    """
    path = os.fspath(path)
    text = {"encoding": "utf-8", "errors": "surrogateescape", "newline": ""}
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", **text)
    if path.lower().endswith(".bz2"):
        return bz2.open(path, "rt", **text)
    return open(path, **text)  # noqa: SIM115 (closed by the caller)


def _not_utf8(record):
    """Why a record's fields are not UTF-8 text (the first bad byte and its column), or None."""
    for column, value in record.items():
        if not isinstance(value, str):
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            char = ord(value[error.start])
            what = f"byte 0x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF else "a lone surrogate"
            return f"not UTF-8 text ({what} in column {column!r})"
    return None


def _csv_records(f, path, delimiter, columns):
    """Yields ``(line, {column: value or None})`` for each record of a CSV/TSV file."""
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(f, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{path}: the file is empty (expected a header line).") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    positions = {}
    for column in columns:
        if column not in header:
            raise ValueError(
                f"{path}: no column {column!r} in the header; the columns are {header}."
            )
        positions[column] = header.index(column)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValueError(f"{path}, line {line}: unreadable CSV: {error}") from None
        if not record:  # a blank line
            continue
        yield line, {c: record[i] if i < len(record) else None for c, i in positions.items()}


def _jsonl_records(f, path, columns):
    for line, text in enumerate(f, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield line, ValueError(f"not valid JSON ({error.msg})")
            continue
        if not isinstance(record, dict):
            yield line, ValueError(f"not a JSON object (got {type(record).__name__})")
            continue
        yield line, {c: record.get(c) for c in columns}


def read_reviews(
    path,
    text_column="text",
    rating_column=None,
    scale=None,
    *,
    ignore_ratings=(),
    skip_bad_rows=False,
    max_rows=None,
    file_format=None,
):
    """Reads the review texts (and ratings) of one CSV, TSV or JSON-lines file.

    CSV and TSV files need a header line naming the columns; JSON-lines files
    hold one object per line. Files ending in .gz or .bz2 are decompressed.

    Args:
        path: the file.
        text_column: the column (or JSON key) of the review text.
        rating_column: the column of the rating; ``None`` for unlabeled reviews.
        scale: the rating scale (see :meth:`RatingScale.parse`); needed with
            ``rating_column``.
        ignore_ratings: raw ratings whose rows are dropped silently (counted in
            ``ignored_rows``): e.g. ``("plot",)`` for the plot summaries of the
            Rotten Tomatoes file.
        skip_bad_rows: skip and count bad rows instead of raising.
        max_rows: stop after this many usable rows (``None``: all).
        file_format: ``"csv"``, ``"tsv"`` or ``"jsonl"``; default from the suffix.

    Returns:
        A :class:`ReviewRows`.

    Raises:
        BadReviewRow: a bad row (unless ``skip_bad_rows``).
        ValueError: an unreadable file, a missing column, or a bad argument.
        FileNotFoundError: no such file.
        IsADirectoryError: ``path`` is a folder.

    Example:

    >>> rows = read_reviews("reviews.csv", "text", "stars", scale=5)  # doctest: +SKIP
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{path}: is a directory, not a review file; give a .csv, .tsv or .jsonl file "
            "(optionally .gz or .bz2)."
        )
    fmt = detect_format(path, file_format)
    if rating_column is not None:
        scale = RatingScale.parse(scale)
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, numbers.Integral) or max_rows < 1
    ):
        raise ValueError(f"`max_rows` must be None or an int >= 1; got max_rows={max_rows!r}.")
    ignore = {str(r).strip() for r in ignore_ratings}
    columns = [text_column] + ([rating_column] if rating_column is not None else [])
    texts, labels, lines, bad_rows, ignored = [], [], [], [], 0
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such review file.")
    with _open_text(path) as f:
        if fmt == "jsonl":
            records = _jsonl_records(f, path, columns)
        else:
            records = _csv_records(f, path, "," if fmt == "csv" else "\t", columns)
        for line, record in records:
            try:
                if isinstance(record, Exception):
                    raise record
                raw_rating = record.get(rating_column) if rating_column else None
                if raw_rating is not None and str(raw_rating).strip() in ignore:
                    ignored += 1
                    continue
                not_utf8 = _not_utf8(record)
                if not_utf8:
                    raise ValueError(not_utf8)
                text = record[text_column]
                if text is None:
                    raise ValueError("missing text")
                if not isinstance(text, str):
                    raise ValueError(f"text is not a string (got {type(text).__name__})")
                if not text.strip():
                    raise ValueError("empty text")
                label = scale.index(raw_rating) if rating_column is not None else None
            except ValueError as error:
                if not skip_bad_rows:
                    raise BadReviewRow(path, line, str(error)) from None
                bad_rows.append((line, str(error)))
                continue
            texts.append(text)
            labels.append(label)
            lines.append(line)
            if max_rows is not None and len(texts) >= max_rows:
                break
    return ReviewRows(
        path=path,
        texts=texts,
        labels=np.asarray(labels, dtype="int32") if rating_column is not None else None,
        lines=np.asarray(lines, dtype="int64"),
        bad_rows=bad_rows,
        ignored_rows=ignored,
    )


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
