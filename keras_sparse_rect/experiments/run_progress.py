"""A run's ``progress.json``: each finished epoch's logs and each process's wall time.

Keras' ``History`` forgets the epochs of a killed process, and a killed
process cannot say how long it ran. :class:`Progress` keeps both on disk,
rewritten (atomically) at every record: a resumed run reports every epoch,
and its wall time counts every process, a killed one until the last file it
wrote.

>>> import tempfile, os
>>> progress = Progress(os.path.join(tempfile.mkdtemp(), "progress.json"))
>>> progress.record(epoch=0, logs={"loss": 0.5})
>>> progress.history(), progress.timings()["processes"], progress.state()
({'loss': [0.5]}, 1, '1 epoch')
"""

import contextlib
import os
import socket
import time
import uuid

from keras_sparse_rect import results


class Progress:
    """The progress record of a run, continued by every process of it.

    Args:
        path: the ``progress.json`` file.
        started: ``time.perf_counter()`` when this process started the run.
        killed: ``{"pid": ...}`` of the process whose stale lock this process
            took over (its wall time is counted up to the newest file in the
            folder), or ``None``.
    """

    def __init__(self, path, started=None, killed=None):
        self.path = path
        self.started = time.perf_counter() if started is None else started
        saved = results.read_json(path)
        data = _upgrade(saved) if isinstance(saved, dict) else None
        if data is None:
            data = {"run_id": uuid.uuid4().hex, "epochs": [], "processes": []}
        if killed and data["processes"] and data["processes"][-1].get("pid") == killed.get("pid"):
            last = data["processes"][-1]
            ran = _newest_mtime(os.path.dirname(path)) - last.get("wall_started", time.time())
            last["seconds"] = round(max(last.get("seconds", 0.0), ran), 3)
        data["processes"].append(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "wall_started": time.time() - (time.perf_counter() - self.started),
                "seconds": 0.0,
            }
        )
        self.data = data
        results.write_json_atomic(path, data)

    @property
    def run_id(self):
        """An id shared by the run's progress and its ``result.json``."""
        return self.data["run_id"]

    def record(self, epoch=None, logs=None):
        """Writes this process's wall time, and the logs of ``epoch`` (0-based) if given.

        An epoch's logs replace those of that epoch and every later one (a
        resumed run trains them again). Nothing changes if the write fails.
        """
        data = {**self.data, "processes": [dict(p) for p in self.data["processes"]]}
        if epoch is not None:
            logs = {k: float(v) for k, v in (logs or {}).items()}
            data["epochs"] = data["epochs"][:epoch] + [logs]
        data["processes"][-1]["seconds"] = round(time.perf_counter() - self.started, 3)
        results.write_json_atomic(self.path, data)
        self.data = data

    def history(self):
        """``{key: [one value per epoch]}`` of every recorded epoch, across processes."""
        epochs = self.data["epochs"]
        keys = sorted({k for logs in epochs for k in logs})
        return {k: [logs.get(k, float("nan")) for logs in epochs] for k in keys}

    def timings(self):
        """``{"total": seconds of every process of the run, "processes": count}``."""
        earlier = sum(p.get("seconds", 0.0) for p in self.data["processes"][:-1])
        total = earlier + time.perf_counter() - self.started
        return {"total": round(total, 3), "processes": len(self.data["processes"])}

    def state(self):
        """The last complete state, in words (``"2 epochs"``, ``"nothing trained"``)."""
        epochs = len(self.data["epochs"])
        return f"{epochs} epoch{'s' if epochs != 1 else ''}" if epochs else "nothing trained"


def _upgrade(saved):
    """``progress.json`` as written now, also from the older layout (one total)."""
    if isinstance(saved.get("processes"), list):
        return saved if isinstance(saved.get("epochs"), list) else None
    try:
        earlier = {"pid": None, "seconds": float(saved["seconds"])}
        count = int(saved["processes"])
        return {
            "run_id": uuid.uuid4().hex,
            "epochs": list(saved["epochs"]),
            "processes": [earlier] + [{"pid": None, "seconds": 0.0}] * (count - 1),
        }
    except (KeyError, TypeError, ValueError):
        return None


def _newest_mtime(folder):
    """When the newest file under ``folder`` (the lock aside) was written."""
    newest = 0.0
    for root, _, names in os.walk(folder):
        for name in names:
            if name != "run.lock":
                with contextlib.suppress(OSError):
                    newest = max(newest, os.path.getmtime(os.path.join(root, name)))
    return min(newest, time.time())
