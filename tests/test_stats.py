import math

import numpy as np
import pytest

from keras_sparse_rect.stats import equivalent, mcnemar_test


def test_counts_and_exact_p_value_by_hand():
    a = [1, 1, 1, 0, 0, 1, 1]
    b = [1, 0, 0, 0, 1, 1, 0]
    result = mcnemar_test(a, b)
    assert (result["b"], result["c"]) == (3, 1)
    # Two-sided exact: 2 * P(X <= 1), X ~ Bin(4, 1/2) = 2 * 5/16.
    assert result["p_value"] == pytest.approx(10 / 16)


def test_large_counts_agree_with_chi_square():
    b, c = 300, 240
    a = np.r_[np.ones(b), np.zeros(c), np.ones(1000)]
    bb = np.r_[np.zeros(b), np.ones(c), np.ones(1000)]
    chi2 = (abs(b - c) - 1) ** 2 / (b + c)
    approx = math.erfc(math.sqrt(chi2 / 2))
    assert mcnemar_test(a, bb)["p_value"] == pytest.approx(approx, rel=0.05)
    assert not equivalent(a, bb)


def test_identical_models_are_equivalent_and_errors():
    x = np.random.default_rng(0).random(100) > 0.3
    assert mcnemar_test(x, x)["p_value"] == 1.0 and equivalent(x, x)
    with pytest.raises(ValueError, match="same length"):
        mcnemar_test([1, 0], [1])
    with pytest.raises(ValueError, match="alpha"):
        equivalent(x, x, alpha=1.5)
