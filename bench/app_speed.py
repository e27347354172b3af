"""The image app's training loop against a bare ``compile_for_paper`` fit, in one run.

Trains the main job's network (784-1000-1000-1000-10, sign-flipped rectifiers,
L1 0.001) at the paper's batch of 10 on ``--examples`` real digits of full MNIST
(``--dataset``), one epoch at a time, alternating between

- **bare**: ``compile_for_paper`` and ``fit(x, y, batch_size=10)``, no callbacks;
- **app**: the same plus what ``run_image_experiment`` adds: ``BackupAndRestore``,
  ``monitoring_callbacks`` (sparsity and dead-unit monitors, TensorBoard,
  TerminateOnNaN) and ``validation_data`` (a fifth of the training digits, as
  the app's 10,000 per 50,000);
- and each of the app's pieces alone on top of bare, to show what costs.

Each variant trains in one ``fit`` of ``--epochs`` epochs (as the app does: one ``fit``
for the whole run), ``--repeats`` times, alternating. An epoch is timed from its
``on_epoch_begin`` to the next one's (so it includes the validation pass and every
callback's end-of-epoch work); the first epoch of each ``fit`` also pays one-off costs
(TensorBoard's graph, tracing the validation step) that a run of many epochs amortises, so
the steady epochs (2 on) are compared and the one-off seconds are printed apart.

Prints examples/s (the best steady epoch) and each ratio to bare.

    KERAS_BACKEND=tensorflow python bench/app_speed.py
    KERAS_BACKEND=jax python bench/app_speed.py

Target (issue 11): app / bare >= 0.9.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_sparse_rect.data import load_image_dataset  # noqa: E402
from keras_sparse_rect.experiments.image import (  # noqa: E402
    VALIDATION_BATCH_SIZE,
    monitoring_callbacks,
)
from keras_sparse_rect.models import build_deep_network, compile_for_paper  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of each epoch, end-of-epoch callbacks and validation included (put first)."""

    def __init__(self):
        super().__init__()
        self.marks = []

    def on_epoch_begin(self, epoch, logs=None):
        self.marks.append(time.perf_counter())

    def on_train_end(self, logs=None):
        self.marks.append(time.perf_counter())

    def seconds(self):
        return [b - a for a, b in zip(self.marks[:-1], self.marks[1:], strict=True)]


def variants(folder, x_val, y_val, x_train):
    """name -> (callbacks factory, fit keyword arguments)."""

    def app():
        logs = tempfile.mkdtemp(dir=folder)
        backup = keras.callbacks.BackupAndRestore(os.path.join(logs, "backup"))
        return [backup, *monitoring_callbacks(logs, x_val, x_train)]

    def piece(index):
        return lambda: [monitoring_callbacks(tempfile.mkdtemp(dir=folder), x_val, x_train)[index]]

    validation = {"validation_data": (x_val, y_val), "validation_batch_size": VALIDATION_BATCH_SIZE}
    return {
        "bare": (list, {}),
        "app": (app, validation),
        "+ validation_data": (list, validation),
        "+ BackupAndRestore": (
            lambda: [keras.callbacks.BackupAndRestore(tempfile.mkdtemp(dir=folder))],
            {},
        ),
        "+ SparsityMonitor": (piece(0), {}),
        "+ DeadUnitMonitor": (piece(1), {}),
        "+ TensorBoard": (piece(2), {}),
        "+ TerminateOnNaN": (piece(3), {}),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--examples", type=int, default=10000, help="training digits per epoch")
    parser.add_argument("--repeats", type=int, default=3, help="fits per variant")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit, >= 2")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (epoch 1 has the one-off costs); got {args.epochs}")

    data = load_image_dataset(args.dataset)
    x = data.x_train[: args.examples].reshape(-1, 784)
    y = data.y_train[: args.examples]
    # The app validates 10,000 digits per 50,000-digit epoch: the same proportion.
    rows = max(1, x.shape[0] // 5)
    x_val, y_val = data.x_val[:rows].reshape(-1, 784), data.y_val[:rows]
    folder = tempfile.mkdtemp(prefix="app_speed_")
    cases = variants(folder, x_val, y_val, x)
    models = {}
    for name in cases:
        models[name] = build_deep_network((784,), 10, seed=0)
        compile_for_paper(models[name], learning_rate=0.01)
        callbacks, kwargs = cases[name]
        models[name].fit(x[:1000], y[:1000], batch_size=10, epochs=1, verbose=0)  # compile
    best = {name: 0.0 for name in cases}
    one_off = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, (callbacks, kwargs) in cases.items():
            timer = EpochTimer()
            models[name].fit(
                x, y, batch_size=10, epochs=args.epochs, verbose=0,
                callbacks=[timer, *callbacks()], **kwargs,
            )  # fmt: skip
            epochs = timer.seconds()
            steady = min(epochs[1:])
            best[name] = max(best[name], x.shape[0] / steady)
            one_off[name].append(epochs[0] - steady)
    print(
        f"backend {keras.backend.backend()}, {args.dataset}, {x.shape[0]} examples per epoch, "
        f"batch 10, best steady epoch of {args.repeats} fits x {args.epochs} epochs"
    )
    print(f"{'variant':22s} {'examples/s':>11s} {'/ bare':>7s} {'one-off s':>10s}")
    for name, speed in best.items():
        extra = min(one_off[name])
        print(f"{name:22s} {speed:11,.0f} {speed / best['bare']:7.2f} {extra:10.2f}")
    print(f"target: app / bare >= 0.9: {'met' if best['app'] >= 0.9 * best['bare'] else 'MISSED'}")


if __name__ == "__main__":
    main()
