"""The apps' command-line errors: one line naming the flag, exit status 2, no traceback.

Every app parses its flags with :func:`parse_flags` and reports a bad value
with :func:`fail`. Errors of the library carry fields (the folder, the layer,
the learning rate, the process); :func:`run_errors_fail` phrases the message
from those fields in the flags' terms, and :func:`flag_message` writes a
library message's `` `name` `` as the ``--name`` the user typed. This module
imports neither Keras nor TensorFlow: :func:`import_keras_quietly` loads them,
without their C++ start-up lines, once the flags are known to be good.

Example:

>>> fail("--epochs must be an int >= 1; got --epochs=0")  # doctest: +SKIP
image_experiment.py: error: --epochs must be an int >= 1; got --epochs=0
"""

import contextlib
import os
import re
import sys
import tempfile

from absl import flags

FLAGS = flags.FLAGS


def fail(message):
    """Prints one line naming the problem and exits with status 2."""
    program = sys.argv[0].rsplit("/", 1)[-1] if sys.argv else "app"
    text = " ".join(str(message).split())
    print(f"{program}: error: {text}", file=sys.stderr)
    sys.exit(2)


def flag_message(error):
    """``error``'s text with each `field` (and ``field=``) that is a flag written as ``--field``.

    >>> flag_message(ValueError("`epochs` must be an int >= 1; got epochs=0."))  # doctest: +SKIP
    '--epochs must be an int >= 1; got --epochs=0.'
    """

    def as_flag(match):
        name = match.group(1)
        return f"--{name}" if name in FLAGS else match.group(0)

    text = re.sub(
        r"`([a-z][a-z0-9_]*)(\[[^\]`]+\])?`", lambda m: as_flag(m) + (m.group(2) or ""), str(error)
    )
    return re.sub(
        r"(?<![-\w])([a-z][a-z0-9_]*)=",
        lambda m: (f"--{m.group(1)}" if m.group(1) in FLAGS else m.group(1)) + "=",
        text,
    )


# Flag files ------------------------------------------------------------------------------

_FLAGFILE = re.compile(r"^--?flagfile(?:=(.*))?$")


def _flagfile_arguments(tokens):
    """The files named by ``--flagfile=X`` (or ``--flagfile X``) in ``tokens``."""
    names = []
    tokens = list(tokens)
    for i, token in enumerate(tokens):
        match = _FLAGFILE.match(token.strip())
        if match is None:
            continue
        if match.group(1) is not None:
            names.append(match.group(1))
        elif i + 1 < len(tokens):
            names.append(tokens[i + 1])
        else:
            names.append("")
    return names


def check_flagfiles(argv, _chain=()):
    """Refuses, in one line each, a ``--flagfile`` that absl would misread or ignore.

    An empty name, a missing file, a file that is not UTF-8 text (absl would
    raise ``UnicodeDecodeError``) and a file that includes itself, directly or
    through another (absl would skip it with a warning and run the defaults).
    """
    for name in _flagfile_arguments(argv):
        if not name.strip():
            fail("--flagfile= names no file; give --flagfile=PATH")
        path = os.path.expanduser(name.strip())
        key = os.path.realpath(path)
        if key in _chain:
            fail(f"--flagfile={name} includes itself (through {' -> '.join(_chain)})")
        if os.path.isdir(path):
            fail(f"--flagfile={name} is a directory; give a file of --name=value lines")
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as error:
            fail(f"--flagfile={name} cannot be read: {error.strerror or error}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            fail(
                f"--flagfile={name} is not a UTF-8 text file (byte {error.start}); give a file "
                "of --name=value lines"
            )
        if "\x00" in text:
            fail(f"--flagfile={name} is a binary file; give a file of --name=value lines")
        lines = [line.strip() for line in text.splitlines()]
        check_flagfiles([line for line in lines if line], (*_chain, key))


def _declare_key_flags(program):
    """Makes ``--help`` list the app's own flags (absl lists the main module's only).

    The app's flags are defined in ``apps/`` and in the app's module, which is
    not ``sys.argv[0]``'s when the app runs as an installed command.
    """
    package = __name__.rpartition(".")[0]
    for module, module_flags in FLAGS.flags_by_module_dict().items():
        if module.startswith(package + ".") or module in ("__main__", program):
            for flag in module_flags:
                FLAGS.register_key_flag_for_module(program, flag)


def _negated_with_value(message):
    """absl's "--noX=false does not take an argument", phrased as what to type instead."""
    match = re.match(r"--no([a-z][a-z0-9_]*)=(\S*) does not take an argument", message)
    if match is None or match.group(1) not in FLAGS:
        return message
    name = match.group(1)
    return (
        f"--no{name} takes no value; got --no{name}={match.group(2)} (write --{name}, "
        f"--no{name} or --{name}=true|false)"
    )


def parse_flags(argv):
    """absl's ``flags_parser``: a bad flag prints one line and exits with status 2."""
    _declare_key_flags(argv[0] if argv else sys.argv[0])
    check_flagfiles(argv[1:])
    try:
        remaining = FLAGS(argv)
    except (flags.Error, ValueError) as error:
        fail(_negated_with_value(str(error)))
    if len(remaining) > 1:
        fail(f"unexpected arguments: {' '.join(remaining[1:])}")
    return remaining


# Output folders ----------------------------------------------------------------------------


def check_output_dir(path, flag):
    """One line and exit 2 if ``path`` is a file or could not be created; creates nothing.

    The folder itself is made when the run starts, so that a refused command
    leaves nothing behind.
    """
    path = os.fspath(path)
    if os.path.exists(path):
        if not os.path.isdir(path):
            fail(f"{flag}={path} is a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            fail(f"{flag}={path} is not writable")
        return
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        fail(f"{flag}={path} cannot be created: {parent} is a file")
    try:  # a folder of a unique name, made and removed: can folders be made there?
        os.rmdir(tempfile.mkdtemp(prefix=".check-", dir=parent))
    except OSError as error:
        fail(f"{flag}={path} cannot be created: {error.strerror or error}")


# Keras, quietly ----------------------------------------------------------------------------


@contextlib.contextmanager
def native_stderr_silenced():
    """Sends what native code writes to file descriptor 2 to /dev/null, for a while.

    Nothing is hidden with absl's ``--verbosity=1`` (or higher), nor when
    stderr is not a real file (captured).
    """
    if FLAGS.is_parsed() and FLAGS["verbosity"].value >= 1:
        yield
        return
    sys.stderr.flush()
    try:
        fd = sys.__stderr__.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (captured): nothing to hide
        yield
        return
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def import_keras_quietly():
    """Imports Keras (and its backend) without TensorFlow's C++ start-up lines.

    TensorFlow prints its oneDNN and CUDA notices through absl's C++ logging
    before ``TF_CPP_MIN_LOG_LEVEL`` applies; the apps show only their own
    output. absl's ``--verbosity=1`` (or higher) keeps those lines. A failing
    import still raises (its traceback is Python's, printed after).
    """
    if "keras" in sys.modules:
        return
    with native_stderr_silenced():
        import keras  # noqa: F401


# Errors with fields, phrased in the flags' terms -------------------------------------------


def collapse_message(error):
    """A ``PretrainingCollapseError``'s message from its fields, in the flags' terms."""
    layer = getattr(error, "layer", None)
    rate = getattr(error, "learning_rate", None)
    if layer is None or rate is None:
        return flag_message(error)
    if getattr(error, "diverged", False):
        return (
            f"pretraining of hidden layer {layer} diverged at --pretrain_learning_rate={rate:g}; "
            "lower it (one value per layer is allowed)"
        )
    dead = getattr(error, "dead_fraction", None)
    share = f" ({100 * dead:.1f}% of its units dead)" if dead is not None else ""
    return (
        f"hidden layer {layer} collapsed in pretraining{share}; try a lower "
        f"--pretrain_learning_rate (it was {rate:g}) or a smaller --l1"
    )


def conflict_message(error):
    """A run folder's ``RunConflictError`` (or lock error) from its fields, in the flags' terms."""
    folder = getattr(error, "model_dir", None)
    if folder is None:
        return flag_message(error)
    flag = "--output_dir" if "output_dir" in FLAGS and "model_dir" not in FLAGS else "--model_dir"
    pid = getattr(error, "pid", None)
    if pid is not None:
        return (
            f"{flag}={folder} is in use by process {pid}; wait for it to end, or give another "
            f"{flag}"
        )
    what = getattr(error, "what", None) or "another run"
    if "restart" in FLAGS:
        return f"{flag}={folder} holds {what}; give another {flag}, or --restart to replace it"
    # A grid app's runs live in subfolders of --model_dir, and it has no --restart.
    return (
        f"{folder} holds {what}; give another {flag}, or delete that folder to train the run again"
    )


def _run_errors():
    """``(run folder conflict, full disk, pretraining collapse)``: the error classes to catch."""
    from keras_sparse_rect.callbacks import PretrainingCollapseError
    from keras_sparse_rect.experiments import run_errors

    return run_errors.RunConflictError, run_errors.NoSpaceLeftError, PretrainingCollapseError


@contextlib.contextmanager
def run_errors_fail():
    """One line and exit 2 for a run folder in use or of another configuration, a full
    disk, and pretraining that diverged or collapsed, each phrased from the error's fields."""
    conflict, no_space, collapse = _run_errors()
    try:
        yield
    except conflict as error:
        fail(conflict_message(error))
    except no_space as error:  # its message names the folder and the state kept
        fail(error)
    except collapse as error:
        fail(collapse_message(error))


#: The name the apps used before: the same context manager.
run_conflicts_fail = run_errors_fail


def verbosity():
    """The ``--verbose`` flag as Keras' ``verbose`` argument."""
    return int(FLAGS.verbose)
