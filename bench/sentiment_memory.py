"""Peak memory of the sparse text pipeline at the paper's scale (section 4.2).

The paper's data: 310,000 reviews (10,000 labeled, 300,000 unlabeled) as binary
bags of words over 5,000 terms, 0.6% of them non-zero. Dense float32 that is
310,000 x 5,000 x 4 B = 5.8 GiB; this library keeps it sparse from the
vectorizer to the first layer. This script builds a synthetic corpus of that
shape (Zipf-distributed words, about 30 distinct vocabulary terms per review),
then

1. vectorizes it with :class:`~keras_sparse_rect.data.BagOfWords` (CSR),
2. trains the paper's 1-hidden-layer network (5,000 rectifier units) on it for
   ``--steps`` SGD steps at batch 10, fed by
   :func:`~keras_sparse_rect.sparse.sparse_batches` (``tf.SparseTensor`` /
   ``BCOO`` batches),

and prints the size of the sparse matrix and the process's peak resident memory
after each stage (TensorFlow and the model's 100 MB of weights included).

    KERAS_BACKEND=tensorflow python bench/sentiment_memory.py
    KERAS_BACKEND=tensorflow python bench/sentiment_memory.py --reviews=31000   # 1/10 scale
"""

import argparse
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_sparse_rect.data import BagOfWords  # noqa: E402
from keras_sparse_rect.layers import SparseDense  # noqa: E402
from keras_sparse_rect.sparse import sparse_batches  # noqa: E402

MIB = 2**20


def peak_rss_mib():
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_reviews(count, words_per_review=38, vocabulary=8000, seed=0):
    """Reviews of Zipf-distributed words ``w0 .. w<vocabulary-1>``."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocabulary + 1) ** 0.9
    p /= p.sum()
    words = np.array([f"w{i}" for i in range(vocabulary)], dtype=object)
    reviews = []
    for start in range(0, count, 10_000):
        ids = rng.choice(vocabulary, size=(min(10_000, count - start), words_per_review), p=p)
        reviews.extend(" ".join(row) for row in words[ids])
    return reviews


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=310_000)
    parser.add_argument("--terms", type=int, default=5000)
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}")
    baseline = peak_rss_mib()
    print(f"after imports: peak RSS {baseline:,.0f} MiB (the libraries: TensorFlow, Keras, ...)")

    started = time.perf_counter()
    texts = synthetic_reviews(args.reviews)
    print(
        f"{len(texts):,} synthetic reviews in {time.perf_counter() - started:.0f} s: "
        f"peak RSS {peak_rss_mib():,.0f} MiB"
    )

    started = time.perf_counter()
    x = BagOfWords(num_terms=args.terms).fit_transform(texts)
    del texts
    csr_bytes = x.data.nbytes + x.indices.nbytes + x.indptr.nbytes
    dense_bytes = x.shape[0] * x.shape[1] * 4
    density = x.nnz / (x.shape[0] * x.shape[1])
    print(
        f"bag of words {x.shape[0]:,} x {x.shape[1]:,}, {100 * density:.2f}% non-zeros "
        f"({x.nnz / x.shape[0]:.1f} terms per review), in {time.perf_counter() - started:.0f} s: "
        f"CSR {csr_bytes / MIB:,.0f} MiB (dense float32 would be {dense_bytes / MIB:,.0f} MiB); "
        f"peak RSS {peak_rss_mib():,.0f} MiB"
    )

    started = time.perf_counter()
    y = np.random.default_rng(0).integers(0, 5, x.shape[0])
    inputs = keras.Input((x.shape[1],), sparse=True)
    hidden = SparseDense(args.units, "rectifier")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(5, "softmax")(hidden))
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss="sparse_categorical_crossentropy",
        jit_compile=keras.backend.backend() == "jax",
    )
    data = sparse_batches(x, y, batch_size=10, shuffle=True, seed=0)
    model.fit(data, epochs=1, steps_per_epoch=args.steps, verbose=0)
    print(
        f"{args.steps} SGD steps of a {x.shape[1]}-{args.units}-5 network on sparse batches of "
        f"10, in {time.perf_counter() - started:.0f} s: peak RSS {peak_rss_mib():,.0f} MiB"
    )
    print(
        f"peak RSS above the imports: {peak_rss_mib() - baseline:,.0f} MiB (data, vectorizer, "
        f"the network's {x.shape[1] * args.units * 4 / MIB:,.0f} MiB kernel and its training)"
    )


if __name__ == "__main__":
    main()
