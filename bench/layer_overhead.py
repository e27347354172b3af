"""Cost of the paper's layers against plain Keras, measured in one run.

Trains a 784-1000-1000-1000-10 network built from this library's layers
(Dense -> SignFlippedRectifier with ActivityL1, and a SparsityMonitor callback
reporting ActivationSparsity) and a plain ``Dense(activation="relu")`` network of
the same shape on the current Keras backend, and prints the training speed
(examples/s) of both and their ratio at each batch size.

    KERAS_BACKEND=tensorflow python bench/layer_overhead.py
    KERAS_BACKEND=jax python bench/layer_overhead.py
    KERAS_BACKEND=jax python bench/layer_overhead.py --pieces  # each piece alone, too

How it measures, and why: on a small shared machine the speed of one ``fit`` varies
by +-30% from one second to the next, more than the effect measured. So every
variant is timed in many ``fit`` segments of ~6 s (one epoch each, so the monitor's
end-of-epoch pass, ~40 ms, and ``fit``'s own start-up are paid once per segment: more often
than in an app, whose epochs are longer; in 1.3-s segments they cost TensorFlow ~10%), the
variants alternate within a round (in an order rotated every round), and the
ratio reported is the **median over rounds of the ratio within a round**, with its
interquartile range. A second plain network ("plain again") is timed the same way:
its ratio to plain is this run's noise floor, printed beside the result.
``--train_step`` also times ``train_on_batch`` on one batch (the compiled step alone,
without ``fit``'s loop or callbacks).

Targets: ratio >= 0.95 at batch 128 (issue 2) and at batch 10 (issue 11), both backends.
"""

import argparse
import functools
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _timing import alternate, report, summarize  # noqa: E402  (bench/_timing.py)

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


#: name -> (sign flip, ActivityL1, SparsityMonitor): the library's network, plain Keras, a
#: second plain network (the noise floor), and each of the library's pieces alone on plain.
VARIANTS = {
    "library": (True, True, True),
    "plain": (False, False, False),
    "plain again": (False, False, False),
    "+ sign flip": (True, False, False),
    "+ ActivityL1": (False, True, False),
    "+ SparsityMonitor": (False, False, True),
}


def fit_speed(model, x, y, batch_size, callbacks):
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=callbacks)
    return x.shape[0] / (time.perf_counter() - start)


def step_speed(model, x, y, steps):
    start = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(x, y)
    float(np.asarray(loss))  # wait for the last step
    return steps * x.shape[0] / (time.perf_counter() - start)


def _fit_named(models, x, y, batch_size, callbacks, name):
    return fit_speed(models[name], x, y, batch_size, callbacks[name])


def _step_named(models, x, y, steps, name):
    return step_speed(models[name], x, y, steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_sizes", default="10,128")
    parser.add_argument(
        "--seconds", type=float, default=6.0, help="rough length of one timed fit segment"
    )
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds of segments")
    parser.add_argument(
        "--jit_compile",
        choices=("auto", "true", "false"),
        default="auto",
        help="passed to compile() of every network",
    )
    parser.add_argument(
        "--pieces",
        action="store_true",
        help="also time each piece (sign flip, ActivityL1, SparsityMonitor) alone on plain",
    )
    parser.add_argument(
        "--train_step",
        action="store_true",
        help="also time train_on_batch alone (the compiled step, no fit loop or callbacks)",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        parser.error(f"--rounds must be >= 1 and --seconds > 0; got {args.rounds}, {args.seconds}")

    rng = np.random.default_rng(0)
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"jit_compile={args.jit_compile}, {args.rounds} rounds of ~{args.seconds:g} s segments"
    )
    names = ["plain", "library", "plain again"]
    if args.pieces:
        names += ["+ sign flip", "+ ActivityL1", "+ SparsityMonitor"]
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        models = {name: network(*VARIANTS[name][:2]) for name in names}
        for model in models.values():
            model.compile(
                keras.optimizers.SGD(0.01),
                "sparse_categorical_crossentropy",
                jit_compile={"auto": "auto", "true": True, "false": False}[args.jit_compile],
            )
        probe = rng.random((500, SHAPE[0]), dtype="float32")
        callbacks = {n: [SparsityMonitor(probe)] if VARIANTS[n][2] else [] for n in names}
        # A warm-up fit compiles; a second one, compiled, sizes the segment. (Sizing from
        # the first, compile included, made segments of a few hundred examples, in which the
        # monitor's end-of-epoch pass outweighed the training it monitors.)
        x = rng.random((batch_size * 50, SHAPE[0]), dtype="float32")
        y = rng.integers(0, SHAPE[-1], x.shape[0])
        for k, m in models.items():
            fit_speed(m, x, y, batch_size, callbacks[k])
        speed = statistics.median(
            fit_speed(m, x, y, batch_size, callbacks[k]) for k, m in models.items()
        )
        n = max(batch_size * 20, int(speed * args.seconds) // batch_size * batch_size)
        x = rng.random((n, SHAPE[0]), dtype="float32")
        y = rng.integers(0, SHAPE[-1], n)
        fits = alternate(
            functools.partial(_fit_named, models, x, y, batch_size, callbacks), names, args.rounds
        )
        fit_summary = summarize(fits, "plain")
        print(f"batch {batch_size}, {n} examples per segment")
        report("fit (the library network with its monitor):", fit_summary, "plain")
        if args.train_step:
            xb, yb = x[:batch_size], y[:batch_size]
            for m in models.values():
                m.train_on_batch(xb, yb)
            steps = max(10, n // batch_size)
            timed = alternate(
                functools.partial(_step_named, models, xb, yb, steps), names, args.rounds
            )
            report("train_on_batch alone:", summarize(timed, "plain"), "plain")
        fit_ratio, floor = (fit_summary[k][1] for k in ("library", "plain again"))
        print(
            f"  library / plain at batch {batch_size}: {fit_ratio:.2f} (target >= 0.95); "
            f"plain again / plain: {floor:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
