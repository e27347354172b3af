"""The binary bag of words of section 4.2: by hand, both methods, arguments."""

import keras
import numpy as np
import pytest

from keras_sparse_rect.data import BagOfWords
from tests.review_data import write_sample

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
