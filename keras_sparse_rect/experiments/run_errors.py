"""The errors of a run folder: fields that name the folder, the process, the change.

A front end (an app, a grid) phrases its own message from the fields:

>>> error = RunLockedError("held", model_dir="runs/a", pid=123)
>>> error.model_dir, error.pid, error.what
('runs/a', 123, 'a run in progress in process 123')
"""

import errno

_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


class RunFolderError(ValueError):
    """A run folder that cannot be used as it is; ``model_dir`` is the folder."""

    def __init__(self, message, *, model_dir=None):
        super().__init__(message)
        self.model_dir = model_dir


class RunConflictError(RunFolderError):
    """``model_dir`` holds (part of) a run of another configuration, or something in its way.

    Fields, so that a front end can phrase its own message: ``model_dir`` (the
    folder), ``what`` (what it holds, e.g. ``"a run of another configuration
    (seed 0 -> 1)"``) and ``changes`` (``{setting: (recorded, requested)}``,
    empty when the conflict is not a change of settings).
    """

    def __init__(self, message, *, model_dir=None, what=None, changes=None):
        super().__init__(message, model_dir=model_dir)
        self.what = what
        self.changes = dict(changes or {})


class RunLockedError(RunConflictError):
    """Another live process holds ``model_dir``: ``pid`` and ``host`` name it."""

    def __init__(self, message, *, model_dir=None, pid=None, host=None):
        what = f"a run in progress in process {pid}" + (f" on {host}" if host else "")
        super().__init__(message, model_dir=model_dir, what=what)
        self.pid = pid
        self.host = host


class NoSpaceLeftError(OSError):
    """The disk filled up during a run; its last complete state is kept in ``model_dir``.

    ``model_dir`` is the folder, ``state`` the last complete state (for example
    ``"2 epochs"``); the same command resumes from it once there is space.
    """

    def __init__(self, model_dir, state):
        super().__init__(
            errno.ENOSPC,
            f"no space left on the device of {model_dir}; the run's last complete state "
            f"({state}) is kept there: free some space and start the same command again "
            "to resume",
        )
        self.model_dir = model_dir
        self.state = state

    def __str__(self):
        return self.strerror


def is_no_space(error):
    """Whether ``error`` says the disk (or the quota) is full."""
    if isinstance(error, OSError) and error.errno in _NO_SPACE:
        return True
    return "No space left on device" in str(error)
