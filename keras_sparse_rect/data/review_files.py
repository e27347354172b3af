"""Reading review files (section 4.2): CSV, TSV and JSON-lines, plain, .gz or .bz2.

:func:`read_reviews` reads the texts and ratings of one file into
:class:`ReviewRows`, checking each row: a bad row (an empty text, a missing or
non-numeric rating, a rating outside the scale, a text or rating that is not
UTF-8) raises :class:`BadReviewRow`, which names the file and the line, unless
``skip_bad_rows=True``: then it is counted and listed in the result. A file
that cannot be read at all (a folder, a truncated or falsely named compressed
file) raises ``ValueError`` naming the file.
"""

import bz2
import csv
import dataclasses
import gzip
import json
import os
import zlib

import numpy as np

from keras_sparse_rect._validation import check_choice, check_int
from keras_sparse_rect.data._files import file_path, path_argument
from keras_sparse_rect.data.ratings import RatingScale

#: File formats by name, and the file suffixes that select them.
FORMATS = {"csv": (".csv",), "tsv": (".tsv", ".tab"), "jsonl": (".jsonl", ".ndjson", ".json")}

# Compressed files: the name's suffix, the format, its magic bytes, its opener.
_COMPRESSIONS = ((".gz", "gzip", b"\x1f\x8b", gzip.open), (".bz2", "bzip2", b"BZh", bz2.open))

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
        return check_choice("file_format", file_format, FORMATS)
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
    text = {"encoding": "utf-8", "errors": "surrogateescape", "newline": ""}
    for suffix, kind, magic, opener in _COMPRESSIONS:
        if path.lower().endswith(suffix):
            with open(path, "rb") as f:
                if f.read(len(magic)) != magic:
                    raise ValueError(
                        f"{path}: not {kind} data, although its name ends in {suffix}; "
                        f"compress it with {kind}, or remove {suffix} from its name."
                    )
            return opener(path, "rt", **text)
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
        ValueError: naming the file: a folder, a file named .gz or .bz2 that
            is not compressed so, a truncated or corrupt file, a missing
            column; or a bad argument.
        FileNotFoundError: no such file.

    Example:

    >>> rows = read_reviews("reviews.csv", "text", "stars", scale=5)  # doctest: +SKIP
    """
    path = path_argument(path)
    if os.path.isdir(path):
        raise ValueError(
            f"{path}: is a folder, not a review file; give a .csv, .tsv or .jsonl file "
            "(optionally .gz or .bz2)."
        )
    fmt = detect_format(path, file_format)
    if rating_column is not None:
        scale = RatingScale.parse(scale)
    if max_rows is not None:
        max_rows = check_int("max_rows", max_rows, 1)
    ignore = {str(r).strip() for r in ignore_ratings}
    file_path(path, what="review file")
    try:
        texts, labels, lines, bad_rows, ignored = _read_rows(
            path, fmt, text_column, rating_column, scale, ignore, skip_bad_rows, max_rows
        )
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{path}: truncated or corrupt file: {error}") from None
    return ReviewRows(
        path=path,
        texts=texts,
        labels=np.asarray(labels, dtype="int32") if rating_column is not None else None,
        lines=np.asarray(lines, dtype="int64"),
        bad_rows=bad_rows,
        ignored_rows=ignored,
    )


def _read_rows(path, fmt, text_column, rating_column, scale, ignore, skip_bad_rows, max_rows):
    """The usable rows of ``path``: ``(texts, labels, lines, bad_rows, ignored)``."""
    columns = [text_column] + ([rating_column] if rating_column is not None else [])
    texts, labels, lines, bad_rows, ignored = [], [], [], [], 0
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
    return texts, labels, lines, bad_rows, ignored
