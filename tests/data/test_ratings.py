"""Rating scales: stars and named labels."""

import pytest

from keras_sparse_rect.data import RatingScale


def test_rating_scales():
    assert RatingScale.parse(5).values == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert RatingScale.parse("3").index("3.0") == 2
    scale = RatingScale.parse("neg, pos")
    assert scale.labels == ("neg", "pos") and scale.values == (0.0, 1.0)
    assert scale.index(" pos ") == 1
    for bad in (1, "x", ["only"], ["a", "a"], 2.5, True):
        with pytest.raises(ValueError, match="scale"):
            RatingScale.parse(bad)
