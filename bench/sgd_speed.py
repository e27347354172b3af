"""Speed of the paper's batch-10 SGD: this library's setup against a stock Keras ``fit``.

Section 4.1 trains with SGD on mini-batches of 10 at a constant learning rate, in
both phases. This script trains, on the current Keras backend and in one run,

- the supervised 784-1000-1000-1000-10 network (``build_deep_network``), and
- the first denoising autoencoder of its pretraining (784 -> 1000, tied weights),

each twice: compiled the stock way (``compile(SGD(lr), loss, metrics)``: Keras' defaults,
``steps_per_execution=1``, ``jit_compile="auto"``) and with
``compile_for_paper`` (``steps_per_execution`` and XLA). After one untimed epoch
each (tracing and compilation), it times ``--repeats`` epochs of each, alternating
between the two so that both see the same machine load, and prints the examples/s
of the fastest epoch of each and their ratio.

    KERAS_BACKEND=tensorflow python bench/sgd_speed.py
    KERAS_BACKEND=jax python bench/sgd_speed.py

Target (issue 3): ratio >= 3 at batch 10.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from _data import load_digits  # noqa: E402  (bench/_data.py)

from keras_sparse_rect.models import (  # noqa: E402
    STEPS_PER_EXECUTION,
    DenoisingAutoencoder,
    build_deep_network,
    compile_for_paper,
)


def epoch_seconds(model, x, y, batch_size):
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start


def build(kind, seed=0):
    if kind == "network":
        return build_deep_network((784,), 10, hidden_units=(1000, 1000, 1000), seed=seed)
    return DenoisingAutoencoder(1000, noise=0.25, seed=seed)


def compile_model(kind, model, setup, learning_rate, steps_per_execution):
    loss = "sparse_categorical_crossentropy" if kind == "network" else None
    metrics = ["accuracy"] if kind == "network" else None
    if setup == "stock":
        model.compile(keras.optimizers.SGD(learning_rate), loss=loss, metrics=metrics)
    else:
        compile_for_paper(
            model,
            learning_rate,
            loss=loss,
            metrics=metrics,
            steps_per_execution=steps_per_execution,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=10)
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--steps_per_execution", type=int, default=STEPS_PER_EXECUTION)
    parser.add_argument("--models", default="network,autoencoder")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per setup")
    args = parser.parse_args()

    x, y = load_digits(args.examples)
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"batch {args.batch_size}, {x.shape[0]} examples per epoch, "
        f"steps_per_execution={args.steps_per_execution}"
    )
    print(f"{'model':<12} {'stock ex/s':>11} {'library ex/s':>13} {'ratio':>6}")
    for kind in args.models.split(","):
        keras.backend.clear_session()
        targets = y if kind == "network" else None
        models = {}
        for setup in ("stock", "library"):
            models[setup] = build(kind)
            compile_model(kind, models[setup], setup, 0.001, args.steps_per_execution)
            epoch_seconds(models[setup], x, targets, args.batch_size)  # traces, compiles
        seconds = {setup: [] for setup in models}
        for _ in range(args.repeats):  # alternate, so that both see the same machine load
            for setup, model in models.items():
                seconds[setup].append(epoch_seconds(model, x, targets, args.batch_size))
        speeds = {setup: x.shape[0] / min(s) for setup, s in seconds.items()}
        print(
            f"{kind:<12} {speeds['stock']:>11,.0f} {speeds['library']:>13,.0f} "
            f"{speeds['library'] / speeds['stock']:>6.2f}"
        )


if __name__ == "__main__":
    main()
