"""Speed of sparse text training (section 4.2): reconstruction sampling, sparse vs dense input.

On the default review data (Rotten Tomatoes snippets as a 5,000-term binary bag
of words) and the current Keras backend, this script times, in one run, at
batch sizes 10 (the paper's) and 128:

1. a pretraining epoch of the first layer, a
   :class:`SparseInputDenoisingAutoencoder` with 5,000 units, with and without
   reconstruction sampling (target at batch 10: >= 5x faster with sampling);
2. a supervised epoch of the 1-hidden-layer network (5,000 rectifier units,
   softmax), on sparse input (:class:`SparseDense`, ``tf.SparseTensor`` /
   ``BCOO`` batches) and on dense input (``keras.layers.Dense`` on dense
   batches, compiled with XLA): target at batch 10: >= 5x faster sparse.

Every variant first runs one untimed epoch on a few batches (tracing and
compilation); the timed epochs of the variants alternate so that all see the
same machine load; the best of ``--repeats`` is kept. Plain SGD everywhere (the
paper's; with Adam every row's moments are updated and sparse gains vanish).

    KERAS_BACKEND=tensorflow python bench/sentiment_speed.py
    KERAS_BACKEND=tensorflow python bench/sentiment_speed.py --examples=2000 --units=1000
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_sparse_rect.data import load_rotten_tomatoes  # noqa: E402
from keras_sparse_rect.layers import SparseDense  # noqa: E402
from keras_sparse_rect.models import SparseInputDenoisingAutoencoder  # noqa: E402
from keras_sparse_rect.sparse import sparse_batches  # noqa: E402

SPARSE_JIT = keras.backend.backend() == "jax"  # TF's sparse ops do not compile with XLA


def autoencoder(units, sampling):
    dae = SparseInputDenoisingAutoencoder(
        units, l1=1e-4, pepper_rate=0.8, salt_rate=0.005, reconstruction_sampling=sampling, seed=0
    )
    dae.compile(
        optimizer=keras.optimizers.SGD(0.005), jit_compile=SPARSE_JIT, steps_per_execution=50
    )
    return dae


def network(terms, units, classes, sparse):
    inputs = keras.Input((terms,), sparse=sparse)
    first = SparseDense(units, "rectifier") if sparse else keras.layers.Dense(units, "relu")
    model = keras.Model(inputs, keras.layers.Dense(classes, "softmax")(first(inputs)))
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss="sparse_categorical_crossentropy",
        jit_compile=SPARSE_JIT if sparse else True,
        steps_per_execution=50,
    )
    return model


def make_variants(x, y, units, batch_size):
    """name -> (model, function running one epoch on the first ``rows`` examples)."""
    dense_x = x.toarray()
    classes = int(y.max()) + 1

    def fit_sparse(model, labels):
        def run(rows):
            data = sparse_batches(x[:rows], y[:rows] if labels else None, batch_size, True, 0)
            model.fit(data, epochs=1, verbose=0)

        return run

    def fit_dense(model):
        def run(rows):
            model.fit(dense_x[:rows], y[:rows], batch_size=batch_size, epochs=1, verbose=0)

        return run

    pretrain_full, pretrain_sampled = autoencoder(units, False), autoencoder(units, True)
    supervised_dense = network(x.shape[1], units, classes, sparse=False)
    supervised_sparse = network(x.shape[1], units, classes, sparse=True)
    return {
        "pretrain, full reconstruction": fit_sparse(pretrain_full, labels=False),
        "pretrain, reconstruction sampling": fit_sparse(pretrain_sampled, labels=False),
        "supervised 1-layer, dense input": fit_dense(supervised_dense),
        "supervised 1-layer, sparse input": fit_sparse(supervised_sparse, labels=True),
    }


def measure(x, y, units, batch_size, repeats):
    variants = make_variants(x, y, units, batch_size)
    warmup = min(x.shape[0], batch_size * 60)
    for run in variants.values():
        run(warmup)
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(repeats):
        for name, run in variants.items():
            start = time.perf_counter()
            run(x.shape[0])
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=0, help="reviews per epoch (0: all)")
    parser.add_argument("--units", type=int, default=5000, help="hidden units (paper: 5000)")
    parser.add_argument("--terms", type=int, default=5000, help="vocabulary (paper: 5000)")
    parser.add_argument("--batch_sizes", default="10,128")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    reviews = load_rotten_tomatoes(num_terms=args.terms, max_rows=args.examples or None)
    x, y = reviews.x, reviews.y
    print(
        f"Keras {keras.__version__}, backend {keras.backend.backend()}; {x.shape[0]} reviews x "
        f"{x.shape[1]} terms ({100 * reviews.density:.2f}% non-zeros), {args.units} hidden units, "
        "plain SGD; seconds per epoch (best of repeats)."
    )
    print("| batch | " + " | ".join(["variant", "s/epoch", "examples/s", "speed-up"]) + " |")
    print("| --- | --- | --- | --- | --- |")
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        best = measure(x, y, args.units, batch_size, args.repeats)
        names = list(best)
        for slow, fast in ((names[0], names[1]), (names[2], names[3])):
            for name in (slow, fast):
                ratio = f"{best[slow] / best[fast]:.1f}x" if name == fast else ""
                print(
                    f"| {batch_size} | {name} | {best[name]:.1f} | "
                    f"{x.shape[0] / best[name]:,.0f} | {ratio} |"
                )


if __name__ == "__main__":
    main()
