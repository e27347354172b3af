"""Review data sets (section 4.2): sparse binary bags of words, unlabeled reviews, warnings."""

import numpy as np
import pytest
import scipy.sparse as sp

from keras_sparse_rect.data import load_reviews
from tests.data.review_rows import ROWS, write_csv
from tests.review_data import write_sample

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
