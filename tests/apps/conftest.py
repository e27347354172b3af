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


class AppRun:
    """What an app run in-process left: ``returncode``, ``stdout``, ``stderr``, ``seconds``."""

    def __init__(self, returncode, stdout, stderr, seconds):
        self.returncode, self.stdout, self.stderr, self.seconds = (
            returncode,
            stdout,
            stderr,
            seconds,
        )


def _forget_apps():
    """Removes the apps' flags and modules, so that the next app defines its own afresh."""
    from absl import flags

    # The names first: deleting a flag edits the very lists being walked.
    names = {
        flag.name
        for module, module_flags in list(flags.FLAGS.flags_by_module_dict().items())
        if module == "apps" or module.startswith("apps.") or module == "__main__"
        for flag in list(module_flags)
    }
    for name in names:
        if name in flags.FLAGS:
            delattr(flags.FLAGS, name)
    for name in [m for m in sys.modules if m == "apps" or m.startswith("apps.")]:
        del sys.modules[name]


def run_in_process(module, *args):
    """Runs app ``module`` (``"apps.table1"``) with ``args`` in this process, as absl would.

    The flags are parsed by the app's own parser and ``main`` runs; the exit
    status is ``SystemExit``'s code (0 when ``main`` returns). Much faster than
    :func:`run_app` (no new interpreter, no TensorFlow import); use it for flag
    and bad-input tests, and :func:`run_app` for one smoke test per app.
    """
    import contextlib
    import importlib
    import io
    import time

    from absl import flags

    _forget_apps()
    app = importlib.import_module(module)
    stdout, stderr = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    argv = [module.rsplit(".", 1)[-1] + ".py", *args]
    saved_argv = sys.argv
    code = 0
    try:
        sys.argv = argv
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                app.main(app.app_flags.parse_flags(argv))
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
    finally:
        sys.argv = saved_argv
        flags.FLAGS.unparse_flags()
        _forget_apps()
    return AppRun(code, stdout.getvalue(), stderr.getvalue(), time.perf_counter() - started)
