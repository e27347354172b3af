"""The expected-star prediction and its RMSE (section 4.2), against hand computations."""

import numpy as np
import pytest

from keras_sparse_rect.metrics import ExpectedRatingRMSE, expected_rating
from tests.helpers import assert_config_round_trip, to_numpy


def test_expected_star_value_by_hand():
    p = np.array([[0.1, 0.2, 0.3, 0.2, 0.2], [1.0, 0, 0, 0, 0]], "float32")
    # 0.1*1 + 0.2*2 + 0.3*3 + 0.2*4 + 0.2*5 = 3.2, and 1 star for the second.
    np.testing.assert_allclose(to_numpy(expected_rating(p, [1, 2, 3, 4, 5])), [3.2, 1.0], atol=1e-6)


def test_rmse_by_hand_over_several_updates():
    metric = ExpectedRatingRMSE([1, 2, 3, 4, 5])
    metric.update_state([4], np.array([[0.1, 0.2, 0.3, 0.2, 0.2]], "float32"))  # 3.2 vs 5
    metric.update_state([0, 2], np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0.5, 0.5]], "float32"))
    # Errors 1.8, 0, 1.5: sqrt((3.24 + 0 + 2.25) / 3).
    assert float(metric.result()) == pytest.approx(np.sqrt(5.49 / 3), rel=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_two_labels_is_the_root_brier_score():
    metric = ExpectedRatingRMSE([0, 1])
    p_fresh = np.array([0.9, 0.2, 0.6], "float32")
    metric.update_state([1, 0, 0], np.stack([1 - p_fresh, p_fresh], axis=1))
    expected = np.sqrt(np.mean((p_fresh - [1, 0, 0]) ** 2))
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)


def test_sample_weight_and_config():
    metric = ExpectedRatingRMSE([1, 2], name="rmse")
    metric.update_state([0, 1], np.array([[0, 1], [0, 1]], "float32"), sample_weight=[1, 0])
    assert float(metric.result()) == pytest.approx(1.0)
    assert assert_config_round_trip(metric).values == [1.0, 2.0]


@pytest.mark.parametrize("values", [[1], [], ["a", "b"], [1, float("inf")], None])
def test_invalid_values(values):
    with pytest.raises(ValueError, match="values"):
        ExpectedRatingRMSE(values)
