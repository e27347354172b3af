"""Cost of the paper's layers against plain Keras, measured in one run.

Trains a 784-1000-1000-1000-10 network built from this library's layers
(Dense -> SignFlippedRectifier with ActivityL1, and a SparsityMonitor callback
reporting ActivationSparsity) and a plain ``Dense(activation="relu")`` network of
the same shape, alternately, on the current Keras backend, and prints the
training speed (examples/s) of both and their ratio at each batch size.

    KERAS_BACKEND=tensorflow python bench/layer_overhead.py
    KERAS_BACKEND=jax python bench/layer_overhead.py
    KERAS_BACKEND=jax python bench/layer_overhead.py --pieces  # each piece alone, too

Targets: ratio >= 0.95 at batch 128 (issue 2) and at batch 10 (issue 11), both backends.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_sparse_rect.callbacks import SparsityMonitor  # noqa: E402
from keras_sparse_rect.layers import SignFlippedRectifier  # noqa: E402
from keras_sparse_rect.regularizers import ActivityL1  # noqa: E402

SHAPE = (784, 1000, 1000, 1000, 10)


def network(sign_flip, l1):
    """784-1000-1000-1000-10: SignFlippedRectifier or relu units, with ActivityL1 or not."""
    inputs = keras.Input((SHAPE[0],))
    x = inputs
    for i, units in enumerate(SHAPE[1:-1]):
        regularizer = ActivityL1(1e-3) if l1 else None
        if sign_flip:
            x = keras.layers.Dense(units)(x)
            x = SignFlippedRectifier(seed=i, activity_regularizer=regularizer)(x)
        else:
            x = keras.layers.Dense(units, activation="relu", activity_regularizer=regularizer)(x)
    return keras.Model(inputs, keras.layers.Dense(SHAPE[-1], activation="softmax")(x))


#: name -> (sign flip, ActivityL1, SparsityMonitor): the library's network, plain Keras, and
#: each of the library's pieces alone on top of plain (to show which one costs).
VARIANTS = {
    "library": (True, True, True),
    "plain": (False, False, False),
    "+ sign flip": (True, False, False),
    "+ ActivityL1": (False, True, False),
    "+ SparsityMonitor": (False, False, True),
}


def examples_per_second(model, x, y, batch_size, callbacks):
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=callbacks)
    return x.shape[0] / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_sizes", default="10,128")
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="rough length of one timed epoch"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--jit_compile",
        choices=("auto", "true", "false"),
        default="auto",
        help="passed to compile() of both networks",
    )
    parser.add_argument(
        "--pieces",
        action="store_true",
        help="also time each piece (sign flip, ActivityL1, SparsityMonitor) alone on plain",
    )
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"jit_compile={args.jit_compile}"
    )
    print(f"{'batch':>6} {'library ex/s':>13} {'plain ex/s':>11} {'ratio':>6}")
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        variants = VARIANTS if args.pieces else {k: VARIANTS[k] for k in ("library", "plain")}
        models = {name: network(*spec[:2]) for name, spec in variants.items()}
        for model in models.values():
            model.compile(
                keras.optimizers.SGD(0.01),
                "sparse_categorical_crossentropy",
                jit_compile={"auto": "auto", "true": True, "false": False}[args.jit_compile],
            )
        probe = rng.random((500, SHAPE[0]), dtype="float32")
        callbacks = {
            name: [SparsityMonitor(probe)] if spec[2] else [] for name, spec in variants.items()
        }
        # Size the timed epoch from a warm-up epoch (which also compiles).
        x = rng.random((batch_size * 20, SHAPE[0]), dtype="float32")
        y = rng.integers(0, SHAPE[-1], x.shape[0])
        speed = min(
            examples_per_second(m, x, y, batch_size, callbacks[k]) for k, m in models.items()
        )
        n = max(batch_size * 20, int(speed * args.seconds) // batch_size * batch_size)
        x = rng.random((n, SHAPE[0]), dtype="float32")
        y = rng.integers(0, SHAPE[-1], n)
        speeds = {name: [] for name in models}
        for _ in range(args.repeats):  # alternate, so drifts in machine load hit both
            for name, model in models.items():
                speeds[name].append(examples_per_second(model, x, y, batch_size, callbacks[name]))
        median = {name: statistics.median(v) for name, v in speeds.items()}
        lib, plain = median["library"], median["plain"]
        print(f"{batch_size:>6} {lib:>13.0f} {plain:>11.0f} {lib / plain:>6.2f}", flush=True)
        for name in [n for n in median if n not in ("library", "plain")]:
            print(f"{'':>6} {name:>20s}: {median[name]:>7.0f} ex/s, {median[name] / plain:.2f}")


if __name__ == "__main__":
    main()
