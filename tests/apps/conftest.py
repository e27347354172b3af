"""Helpers for running the apps as a user would: ``python -m apps.<name>``."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


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
