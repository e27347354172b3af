"""The paired significance test behind the bold entries of Table 1.

Table 1 marks in bold "statistical equivalence between similar experiments, with
and without pre-training, under the null hypothesis of the pairwise test with
p = 0.05". The paper does not name the test. We use **McNemar's test on the test
set predictions** of the two models: it pairs the two models example by example,
which is the natural pairwise test for two classifiers evaluated on the same test
set, and it needs one run per model (the paper reports single runs). It counts
``b`` = examples only model A gets right and ``c`` = examples only model B gets
right; under the null hypothesis (equal error rates) ``b ~ Binomial(b + c, 1/2)``.
We use the exact two-sided binomial p-value (exact for any counts; for large
``b + c`` it agrees with the chi-square version with continuity correction).
"""

import math

import numpy as np


def mcnemar_test(correct_a, correct_b):
    """Exact two-sided McNemar test of two classifiers on the same examples.

    Args:
        correct_a: booleans, whether model A classified each example correctly.
        correct_b: the same for model B, same length and order.

    Returns:
        A dict with ``b`` (A right, B wrong), ``c`` (A wrong, B right) and
        ``p_value``.

    Example:

    >>> mcnemar_test([1, 1, 0, 1], [1, 0, 0, 1])["p_value"]
    1.0
    """
    a = np.asarray(correct_a).astype(bool).ravel()
    b_ = np.asarray(correct_b).astype(bool).ravel()
    if a.shape != b_.shape:
        raise ValueError(
            f"`correct_a` and `correct_b` must have the same length; got {a.size} and {b_.size}."
        )
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    return {"b": b, "c": c, "p_value": _binomial_two_sided(min(b, c), b + c)}


def _binomial_two_sided(k, n):
    """P(X <= k) + P(X >= n - k) for X ~ Binomial(n, 1/2), capped at 1."""
    if n == 0:
        return 1.0
    # Sum in log space: exact enough and safe for n in the tens of thousands.
    log_terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2.0)
        for i in range(k + 1)
    ]
    peak = max(log_terms)
    tail = math.exp(peak) * sum(math.exp(t - peak) for t in log_terms)
    return min(1.0, 2.0 * tail)


def equivalent(correct_a, correct_b, alpha=0.05):
    """True when McNemar's test does not reject equal error rates at level ``alpha``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"`alpha` must be in (0, 1); got alpha={alpha!r}.")
    return mcnemar_test(correct_a, correct_b)["p_value"] >= alpha
