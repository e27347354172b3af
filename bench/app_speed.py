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

Prints examples/s (the best epoch of ``--repeats``) and each ratio to bare.

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
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

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
    for _ in range(args.repeats):
        for name, (callbacks, kwargs) in cases.items():
            start = time.perf_counter()
            models[name].fit(
                x, y, batch_size=10, epochs=1, verbose=0, callbacks=callbacks(), **kwargs
            )
            best[name] = max(best[name], x.shape[0] / (time.perf_counter() - start))
    print(
        f"backend {keras.backend.backend()}, {args.dataset}, {x.shape[0]} examples per epoch, "
        f"batch 10, best of {args.repeats} epochs"
    )
    print(f"{'variant':22s} {'examples/s':>11s} {'/ bare':>7s}")
    for name, speed in best.items():
        print(f"{name:22s} {speed:11,.0f} {speed / best['bare']:7.2f}")
    print(f"target: app / bare >= 0.9: {'met' if best['app'] >= 0.9 * best['bare'] else 'MISSED'}")


if __name__ == "__main__":
    main()
