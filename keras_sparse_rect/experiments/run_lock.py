"""The lock of a run folder: one process at a time, a killed process's lock taken over.

``run.lock`` holds the process id, host and start time of the process that
holds the folder. It is created atomically (``O_CREAT | O_EXCL``: of two
processes, one creates it and the other finds it) and removed when the run
ends. A lock whose process is gone (killed: no such process, a zombie, or a
process id since reused by another program) is stale: it is moved aside and
the lock taken again. A process of another host is assumed alive.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> mine = take_lock(folder)
>>> lock_holder(folder)["pid"] == mine["pid"]
True
>>> release_lock(folder, mine)
>>> lock_holder(folder) is None
True
"""

import contextlib
import json
import os
import socket
import time
import uuid

from keras_sparse_rect.experiments.run_errors import RunLockedError
from keras_sparse_rect.results import read_json

LOCK_FILE = "run.lock"


def lock_holder(model_dir):
    """The process holding ``model_dir`` (``{"pid", "host", ...}``), or ``None``.

    A lock left by a killed process is not held (``None``).

    >>> lock_holder("no/such/folder") is None
    True
    """
    holder = read_json(os.path.join(model_dir, LOCK_FILE))
    return holder if isinstance(holder, dict) and _alive(holder) else None


def take_lock(model_dir):
    """Takes ``model_dir``'s lock for this process (a stale one is taken over); its content.

    Returns:
        The lock's content (``pid``, ``host``, ...), with ``"stale"``: the
        content of a stale lock taken over (a killed process's), if any.

    Raises:
        RunLockedError: a live process holds the folder.
    """
    path = os.path.join(model_dir, LOCK_FILE)
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "process_start": _process_start(os.getpid()),
        "wall_started": time.time(),
    }
    for _ in range(5):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_lock(path)
            if holder is not None and _alive(holder):
                pid, host = holder.get("pid"), holder.get("host")
                where = "" if host in (None, socket.gethostname()) else f" on {host}"
                raise RunLockedError(
                    f"`model_dir`={model_dir!r} is in use by process {pid}{where} "
                    f"(lock {path}); wait for it to finish, or give another `model_dir`.",
                    model_dir=model_dir,
                    pid=pid,
                    host=host,
                ) from None
            if _take_over(path, holder):
                me["stale"] = holder or {}
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({k: v for k, v in me.items() if k != "stale"}, f)
        return me
    raise RunLockedError(
        f"`model_dir`={model_dir!r}: could not take its lock {path}; another process "
        "is taking it at the same time.",
        model_dir=model_dir,
    )


def _read_lock(path):
    """The lock's holder; waits briefly for a lock being written; ``None`` if stale."""
    for _ in range(20):
        holder = read_json(path)
        if isinstance(holder, dict):
            return holder
        with contextlib.suppress(OSError):
            if time.time() - os.path.getmtime(path) > 5.0:
                return None  # an unreadable lock, too old to be one being written
        if not os.path.exists(path):
            return None
        time.sleep(0.05)
    return {"pid": None}  # still being written: taken as held


def _take_over(path, holder):
    """Moves a stale lock away, checking it is still the stale one; whether it was moved."""
    moved = f"{path}.stale.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    try:
        os.replace(path, moved)
    except FileNotFoundError:
        return False
    if read_json(moved) != holder and holder is not None:
        # Another process took the lock over in between: put its lock back.
        with contextlib.suppress(OSError):
            os.link(moved, path)
        with contextlib.suppress(OSError):
            os.remove(moved)
        return False
    with contextlib.suppress(OSError):
        os.remove(moved)
    return True


@contextlib.contextmanager
def holding(model_dir):
    """Holds ``model_dir``'s lock while the ``with`` block runs, then releases it.

    For a grid's runs that keep their own files (Figure 3's): a second process
    on the same run is refused at once.

    Raises:
        RunLockedError: a live process holds the folder.
    """
    mine = take_lock(model_dir)
    try:
        yield mine
    finally:
        release_lock(model_dir, mine)


def release_lock(model_dir, mine):
    """Removes ``model_dir``'s lock if this process holds it (``mine``: ``take_lock``'s)."""
    path = os.path.join(model_dir, LOCK_FILE)
    if mine is None:
        return
    holder = read_json(path)
    if isinstance(holder, dict) and holder.get("pid") == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _alive(holder):
    """Whether the process a lock names still runs (a process of another host: assumed)."""
    pid = holder.get("pid")
    if holder.get("host") not in (None, socket.gethostname()):
        return True
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return pid is None  # None: a lock being written
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError:
        return False
    start = _process_start(pid)
    if start == "zombie":
        return False
    recorded = holder.get("process_start")
    return recorded is None or start is None or start == recorded


def _process_start(pid):
    """The process's start time in clock ticks (Linux), ``"zombie"``, or ``None``."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return "zombie" if fields[0] in ("Z", "X") else int(fields[19])
