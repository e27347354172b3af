"""The image app's training loop against a bare ``compile_for_paper`` fit, in one run.

Trains the main job's network (784-1000-1000-1000-10, sign-flipped rectifiers,
L1 0.001) at the paper's batch of 10 on ``--examples`` real digits of full MNIST
(``--dataset``), one epoch at a time, alternating between

- **bare**: ``compile_for_paper`` and ``fit(x, y, batch_size=10)``, no callbacks;
- **app**: the same plus what ``run_image_experiment`` adds: ``BackupAndRestore``,
  ``monitoring_callbacks`` (sparsity and dead-unit monitors, TensorBoard,
  TerminateOnNaN) and ``validation_data`` (a fifth of the training digits, as
  the app's 10,000 per 50,000);
- **bare again**: a second bare network, the run's noise floor;
- with ``--pieces``, each of the app's pieces alone on top of bare, to show what costs.

Each variant trains in one ``fit`` of ``--epochs`` epochs (as the app does: one ``fit``
for the whole run). An epoch is timed from its ``on_epoch_begin`` to the next one's (so it
includes the validation pass and every callback's end-of-epoch work); the first epoch of each
``fit`` also pays one-off costs (TensorBoard's graph, tracing the validation step) that a run
of many epochs amortises, so a fit's speed is that of its median steady epoch (2 on) and the
one-off seconds are printed apart. The variants alternate in ``--rounds`` rounds (order
rotated each round, ``bench/_timing.py``); the ratio reported is the median over rounds of
the ratio within a round to both bare networks ("bare" and its identical twin "bare again",
timed as one: one bare network alone can run 15-30% slower than its twin for several rounds
here), with its interquartile range; "bare again" / "bare" is printed as the run's noise
floor. (Taking each variant's best epoch instead, as this script first did, let one lucky
bare epoch decide the ratio: 0.79 in one run, 1.04 in another, with pieces alone at 1.27 x
bare.) The split counts only the time outside the training steps: compare the steps' own
times, printed beside it, to see whether the app's callbacks slow the steps down. Default: 7
rounds, about 5 minutes on two cores.

    KERAS_BACKEND=tensorflow python bench/app_speed.py
    KERAS_BACKEND=jax python bench/app_speed.py
    KERAS_BACKEND=jax python bench/app_speed.py --pieces  # each piece alone, too

Target (issue 11): app / both bare >= 0.9.
"""

import argparse
import functools
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from _timing import alternate, report, summarize  # noqa: E402  (bench/_timing.py)

from keras_sparse_rect.data import load_image_dataset  # noqa: E402
from keras_sparse_rect.experiments.image import (  # noqa: E402
    VALIDATION_BATCH_SIZE,
    monitoring_callbacks,
)
from keras_sparse_rect.models import build_deep_network, compile_for_paper  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of each epoch, split into training steps, validation and the rest.

    Put first. An epoch runs from its ``on_epoch_begin`` to the next one's; its training steps
    end at its last ``on_train_batch_end`` (called every ``steps_per_execution`` steps, so
    this costs nothing measurable); what follows is validation (``on_test_begin`` to
    ``on_test_end``) and the end-of-epoch work of every callback and of Keras.
    """

    def __init__(self):
        super().__init__()
        self.marks, self.steps_end, self.validation = [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.marks.append(time.perf_counter())
        self.steps_end.append(None)
        self.validation.append(0.0)

    def on_train_batch_end(self, batch, logs=None):
        self.steps_end[-1] = time.perf_counter()

    def on_test_begin(self, logs=None):
        self._test_start = time.perf_counter()

    def on_test_end(self, logs=None):
        self.validation[-1] += time.perf_counter() - self._test_start

    def on_train_end(self, logs=None):
        self.marks.append(time.perf_counter())

    def seconds(self):
        return [b - a for a, b in zip(self.marks[:-1], self.marks[1:], strict=True)]

    def split(self):
        """Per epoch: (training steps, validation, other end-of-epoch work) in seconds."""
        out = []
        for begin, end, steps_end, validation in zip(
            self.marks[:-1], self.marks[1:], self.steps_end, self.validation, strict=True
        ):
            steps = steps_end - begin
            out.append((steps, validation, end - steps_end - validation))
        return out


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
        "bare again": (list, {}),
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


def fit_speed(models, cases, x, y, epochs, one_off, splits, name):
    """Examples/s of the median steady epoch of one ``fit``; records its one-off seconds and
    the split of its steady epochs."""
    callbacks, kwargs = cases[name]
    timer = EpochTimer()
    models[name].fit(
        x, y, batch_size=10, epochs=epochs, verbose=0, callbacks=[timer, *callbacks()], **kwargs
    )
    seconds = timer.seconds()
    steady = statistics.median(seconds[1:])
    one_off[name].append(seconds[0] - steady)
    splits[name].extend(timer.split()[1:])
    return x.shape[0] / steady


def accounted(splits, scale=1.0):
    """The fraction of an epoch spent in training steps, from one fit's own epochs (median).

    ``scale`` projects to epochs ``scale`` times longer, with validation growing in proportion
    (the app validates a fifth as many digits as it trains on) and the rest fixed.
    """
    return statistics.median(
        scale * steps / (scale * steps + scale * validation + other)
        for steps, validation, other in splits
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--examples", type=int, default=10000, help="training digits per epoch")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds of fits")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit, >= 2")
    parser.add_argument(
        "--pieces", action="store_true", help="also time each of the app's pieces alone on bare"
    )
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (epoch 1 has the one-off costs); got {args.epochs}")
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1; got {args.rounds}")

    data = load_image_dataset(args.dataset)
    x = data.x_train[: args.examples].reshape(-1, 784)
    y = data.y_train[: args.examples]
    # The app validates 10,000 digits per 50,000-digit epoch: the same proportion.
    rows = max(1, x.shape[0] // 5)
    x_val, y_val = data.x_val[:rows].reshape(-1, 784), data.y_val[:rows]
    folder = tempfile.mkdtemp(prefix="app_speed_")
    cases = variants(folder, x_val, y_val, x)
    names = list(cases) if args.pieces else ["bare", "app", "bare again"]
    models = {}
    for name in names:
        models[name] = build_deep_network((784,), 10, seed=0)
        compile_for_paper(models[name], learning_rate=0.01)
        models[name].fit(x[:1000], y[:1000], batch_size=10, epochs=1, verbose=0)  # compile
    one_off = {name: [] for name in names}
    splits = {name: [] for name in names}
    timer = functools.partial(fit_speed, models, cases, x, y, args.epochs, one_off, splits)
    speeds = alternate(timer, names, args.rounds)
    # The baseline of a round is both bare fits together (their harmonic mean: the speed of
    # the two as one run): on this machine one bare network can run 15-30% slower than its
    # identical twin for several rounds, which one bare baseline would charge to the app.
    bares = zip(speeds["bare"], speeds["bare again"], strict=True)
    speeds["both bare"] = [2 / (1 / a + 1 / b) for a, b in bares]
    summary = summarize(speeds, "both bare")
    print(
        f"backend {keras.backend.backend()}, {args.dataset}, {x.shape[0]} examples per epoch, "
        f"batch 10, {args.rounds} rounds of one {args.epochs}-epoch fit per variant"
    )
    report(
        "median steady epoch of each fit, median of the within-round ratios:", summary, "both bare"
    )
    for name in names:
        print(f"    {name:>22s}: one-off {statistics.median(one_off[name]):.2f} s in epoch 1")
    print("  where the time of a steady epoch goes (medians), from the same fits:")
    for name in names:
        parts = zip(*splits[name], strict=True)
        steps, validation, other = (statistics.median(part) for part in parts)
        print(
            f"    {name:>22s}: steps {steps:.2f} s, validation {validation:.3f} s, "
            f"other end-of-epoch work {other:.3f} s: {accounted(splits[name]):.2f} in steps"
        )
    bare_splits = splits["bare"] + splits["bare again"]
    app_epoch = accounted(splits["app"]) / accounted(bare_splits)
    scale = 50000 / x.shape[0]
    app_run = accounted(splits["app"], scale) / accounted(bare_splits, scale)
    print(
        f"app / bare by this split (not subject to the drift between fits): {app_epoch:.2f} "
        f"at {x.shape[0]} digits an epoch; {app_run:.2f} projected to the app's 50,000"
    )
    ratio = summary["app"][1]
    floor = summarize(speeds, "bare")["bare again"][1]
    print(f"app / both bare, whole fits: {ratio:.2f}; noise floor, bare again / bare: {floor:.2f}")
    print(
        "target app / bare >= 0.9: "
        + ", ".join(
            f"{'met' if value >= 0.9 else 'MISSED'} {how}"
            for value, how in ((ratio, "by the whole fits"), (app_epoch, "by the split"))
        )
    )


if __name__ == "__main__":
    main()
