"""Reading review files: formats, bad rows naming the file and line, unreadable files."""

import bz2
import gzip

import numpy as np
import pytest

from keras_sparse_rect.data import BadReviewRow, load_reviews, read_reviews
from tests.data.review_rows import ROWS, write_csv, write_jsonl

# File formats and scales --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "tsv", "jsonl", "jsonl.gz"])
def test_formats_give_the_same_reviews(tmp_path, kind):
    path = tmp_path / f"reviews.{kind}"
    if kind == "csv":
        write_csv(path, ROWS)
    elif kind == "tsv":
        write_csv(path, ROWS, delimiter="\t")
    else:
        write_jsonl(path, ROWS, opener=gzip.open if kind.endswith(".gz") else open)
    reviews = load_reviews(path, "review", "stars", scale=5, num_terms=50)
    np.testing.assert_array_equal(reviews.y, [4, 1, 3, 0])  # class index = stars - 1
    np.testing.assert_array_equal(reviews.ratings, [5, 2, 4, 1])
    assert "food" in reviews.vocabulary and reviews.x.shape[0] == 4


# Bad rows --------------------------------------------------------------------------------


BAD_ROWS = [
    (("   ", "4"), "empty text"),
    (("fine", ""), "missing rating"),
    (("fine", "four"), "non-numeric rating 'four'"),
    (("fine", "6"), "rating 6 outside the scale"),
    (("fine", "2.5"), "rating 2.5 outside the scale"),
    (("fine", "0"), "rating 0 outside the scale"),
    (("fine",), "missing rating"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_bad_row_error_names_file_and_line(tmp_path, row, reason):
    # A quoted field over three lines comes first, so rows and lines differ.
    rows = [("first\nreview\nover three lines", "5"), ("ok", "3"), row]
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(BadReviewRow) as info:
        load_reviews(path, "review", "stars", 5)
    error = info.value
    assert (error.path, error.line) == (str(path), 6)
    assert reason in str(error) and f"{path}, line 6" in str(error)
    assert "skip_bad_rows" in str(error)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"review": "ok", "stars": null}', "missing rating"),
        ('{"review": "ok"}', "missing rating"),
        ('{"stars": 3}', "missing text"),
        ('{"review": "", "stars": 3}', "empty text"),
        ('{"review": "ok", "stars": 9}', "rating 9 outside the scale"),
        ('{"review": "ok", "stars": "x"}', "non-numeric"),
        ('{"review": "ok"', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_bad_jsonl_rows(tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"review": "good", "stars": 4}\n\n' + line + "\n")
    with pytest.raises(BadReviewRow, match=f"line 3: {reason}"):
        read_reviews(path, "review", "stars", 5)


def test_labels_outside_the_scale(tmp_path):
    path = write_csv(tmp_path / "rt.csv", [("good", "fresh"), ("bad", "stale")], ("t", "c"))
    with pytest.raises(BadReviewRow, match=r"line 3: rating 'stale' outside the scale"):
        read_reviews(path, "t", "c", ("rotten", "fresh"))


def test_skip_bad_rows_counts_and_reports_them(tmp_path):
    rows = [("good", "5"), ("", "4"), ("fine", "x"), ("ok", "3"), ("meh", "7")]
    path = write_csv(tmp_path / "bad.csv", rows)
    reviews = load_reviews(path, "review", "stars", 5, skip_bad_rows=True, num_terms=10)
    assert reviews.x.shape[0] == 2
    np.testing.assert_array_equal(reviews.ratings, [5, 3])
    assert reviews.sources[0]["bad_rows"] == 3
    assert [(line, reason.split(" ")[0]) for _, line, reason in reviews.bad_rows] == [
        (3, "empty"),
        (4, "non-numeric"),
        (6, "rating"),
    ]


def test_whole_file_problems(tmp_path):
    path = write_csv(tmp_path / "r.csv", ROWS)
    with pytest.raises(ValueError, match="no column 'text'"):
        read_reviews(path, "text", "stars", 5)
    with pytest.raises(FileNotFoundError, match="no such review file"):
        read_reviews(tmp_path / "missing.csv", "review", "stars", 5)
    with pytest.raises(ValueError, match="unknown review file format"):
        read_reviews(tmp_path / "r.xlsx", "review", "stars", 5)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_reviews(empty, "review", "stars", 5)
    header_only = write_csv(tmp_path / "h.csv", [])
    with pytest.raises(ValueError, match="no usable labeled reviews"):
        load_reviews(header_only, "review", "stars", 5)
    with pytest.raises(ValueError, match="max_rows"):
        read_reviews(path, "review", "stars", 5, max_rows=0)


def test_non_utf8_bytes_name_the_right_line_and_can_be_skipped(tmp_path):
    path = tmp_path / "latin1.csv"
    # Line 2: a quoted review over two lines; line 4: a Latin-1 byte (0xe9).
    path.write_bytes(b'review,stars\n"good\nfood",5\ncaf\xe9 au lait,4\nfine,3\n')
    with pytest.raises(BadReviewRow) as info:
        read_reviews(path, "review", "stars", 5)
    assert info.value.line == 4
    assert f"{path}, line 4: not UTF-8 text (byte 0xe9 in column 'review')" in str(info.value)
    rows = read_reviews(path, "review", "stars", 5, skip_bad_rows=True)
    assert rows.texts == ["good\nfood", "fine"] and rows.lines.tolist() == [2, 5]
    assert rows.bad_rows == [(4, "not UTF-8 text (byte 0xe9 in column 'review')")]
    jsonl = tmp_path / "latin1.jsonl.gz"
    jsonl.write_bytes(
        gzip.compress(b'{"review": "ok", "stars": 4}\n{"review": "\xff", "stars": 4}\n')
    )
    with pytest.raises(BadReviewRow, match=r"line 2: not UTF-8 text \(byte 0xff"):
        read_reviews(jsonl, "review", "stars", 5)
    reviews = load_reviews(path, "review", "stars", 5, skip_bad_rows=True, num_terms=10)
    assert reviews.sources[0]["bad_rows"] == 1 and reviews.x.shape[0] == 2
    # A byte that is not UTF-8 in a column that is not read does no harm.
    other = tmp_path / "other.csv"
    other.write_bytes(b"review,stars,title\ngood,5,caf\xe9\n")
    assert read_reviews(other, "review", "stars", 5).texts == ["good"]


def test_a_directory_is_named_as_a_directory(tmp_path):
    # Issue 33: a ValueError naming the folder (was IsADirectoryError).
    for folder in (tmp_path / "reviews", tmp_path / "reviews.csv"):
        folder.mkdir()
        with pytest.raises(ValueError, match=rf"{folder}: is a folder, not a review file"):
            read_reviews(folder, "review", "stars", 5)
        with pytest.raises(ValueError, match=rf"{folder}: is a folder"):
            load_reviews(folder, "review", "stars", 5)


@pytest.mark.parametrize("path", [None, 3, b"", ""])
def test_a_path_that_is_not_a_path_is_a_value_error(path):
    with pytest.raises(ValueError, match="`path` must be a file path"):
        read_reviews(path, "review", "stars", 5)


def _compressed(tmp_path, suffix, fault):
    """A review file named ``.csv<suffix>``: truncated, or plain text under that name."""
    text = "review,stars\n" + "".join(f"great food {i},5\nslow service {i},1\n" for i in range(500))
    data = text.encode()
    if fault == "truncated":
        data = (gzip.compress if suffix == ".gz" else bz2.compress)(data)
        data = data[: len(data) // 2]
    path = tmp_path / f"reviews.csv{suffix}"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("suffix", [".gz", ".bz2"])
@pytest.mark.parametrize(
    ("fault", "message"),
    [("truncated", "truncated or corrupt file"), ("plain", "not (gzip|bzip2) data")],
)
def test_compressed_files_truncated_or_not_compressed_name_the_file(
    tmp_path, suffix, fault, message
):
    # Issue 33: EOFError, BadGzipFile and OSError("Invalid data stream") before.
    path = _compressed(tmp_path, suffix, fault)
    with pytest.raises(ValueError, match=rf"{path}: {message}"):
        load_reviews(path, "review", "stars", 5, num_terms=10)
    with pytest.raises(ValueError, match=rf"{path}: {message}"):
        read_reviews(path, "review", "stars", 5, skip_bad_rows=True)


def test_a_corrupt_gzip_stream_names_the_file(tmp_path):
    data = bytearray(gzip.compress(b"review,stars\n" + b"good,5\n" * 2000))
    data[30:60] = b"\xff" * 30  # damage the deflate stream, keep the magic bytes
    path = tmp_path / "reviews.csv.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{path}: truncated or corrupt file"):
        read_reviews(path, "review", "stars", 5)
