"""One run folder: claimed with a lock, progress on disk, finished or another configuration.

Every experiment that writes into a folder (the image experiment's
``model_dir``, the sentiment experiment's ``output_dir``, each run of the
Table 1 and Figure 3 grids) goes through :class:`RunFolder`:

- **Claim.** :meth:`RunFolder.claim` takes the folder's lock, ``run.lock``:
  a file holding the process id, host and start time, created atomically
  (``O_CREAT | O_EXCL``) and removed when the claim ends, whatever the outcome.
  A lock whose process is gone (killed) is stale and taken over; a lock of a
  live process makes the claim raise :class:`RunLockedError` at once, naming
  the folder and the process.
- **Another configuration.** The claim records the run's settings in
  ``run_config.json``; a folder that records other settings (apart from the
  ``resumable`` ones, such as ``epochs``) raises :class:`RunConflictError`
  unless ``restart`` deletes the run that is there.
- **Progress.** :meth:`RunFolder.record` keeps ``progress.json``: the logs of
  each finished epoch and each process's wall time, rewritten at every epoch,
  so that a resumed run reports every epoch and every process, killed ones
  included.
- **Finished.** :meth:`RunFolder.finished` is the run's ``result.json`` when it
  holds exactly this configuration; :meth:`RunFolder.finish` writes the result
  files atomically (temporary name, then rename), ``result.json`` last, and only
  then removes the backup and the progress file, so no kill leaves a state from
  which a resumed run would start on the wrong weights.
- **Nothing left behind.** A run that fails before it :meth:`~RunFolder.commit`
  s (before its first epoch) removes everything the claim created, the folder
  included; temporaries left by a kill (``.model.keras.*.keras``, ...) are
  removed at the next claim. A full disk raises :class:`NoSpaceLeftError` and
  keeps the last complete state, from which the same command resumes.

Example (a folder claimed, one epoch recorded, the run finished):

>>> import tempfile
>>> folder = RunFolder(tempfile.mkdtemp() + "/run", {"seed": 0, "epochs": 1})
>>> with folder.claim():
...     folder.record(epoch=0, logs={"loss": 0.5})
...     result = folder.finish({"config": {"seed": 0, "epochs": 1}, "test_error": 0.1})
>>> folder.finished()["test_error"]
0.1
"""

import contextlib
import os
import shutil
import time
import uuid

from keras_sparse_rect import results
from keras_sparse_rect.experiments.run_errors import (  # noqa: F401 (public here too)
    NoSpaceLeftError,
    RunConflictError,
    RunFolderError,
    RunLockedError,
    is_no_space,
)
from keras_sparse_rect.experiments.run_lock import (  # noqa: F401 (public here too)
    LOCK_FILE,
    lock_holder,
    release_lock,
    take_lock,
)
from keras_sparse_rect.experiments.run_progress import Progress

RESULT_FILE = "result.json"
CONFIG_FILE = "run_config.json"
PROGRESS_FILE = "progress.json"
#: The folder of ``keras.callbacks.BackupAndRestore`` state, removed by :meth:`RunFolder.finish`.
BACKUP_FOLDER = "backup"
_TRASH_PREFIX = ".trash."
_OWN_FILES = (RESULT_FILE, CONFIG_FILE, PROGRESS_FILE)


class RunFolder:
    """The folder of one run: claim, progress, finished result, atomic finish.

    Args:
        path: the folder (created by :meth:`claim` when missing).
        config: the run's settings, a JSON-ready dict (recorded in
            ``run_config.json``).
        resumable: keys of ``config`` that may change when an unfinished run is
            started again (it resumes): e.g. ``("epochs", "patience")``.
        files: names of the run's own files in ``path`` (``result.json``,
            ``run_config.json`` and ``progress.json`` are always included):
            ``restart`` removes them, their temporaries are removed at a claim.
        folders: names of the run's own subfolders (``restart`` removes them).
        required: files a finished run must have beside ``result.json``.
        identity: ``result -> dict``, the settings a ``result.json`` was made
            with (default: its ``"config"`` entry).
        started: ``time.perf_counter()`` when this process started the run (its
            wall time counts from then; default: now).
        scratch: subfolders that are no work to keep (TensorBoard logs): a folder
            holding only these, ``run_config.json`` and a progress file without
            an epoch (a run killed before its first epoch) is free for another
            configuration.

    Raises:
        ValueError: ``path`` or ``config`` is not usable.

    Paper: the experiments of sections 4.1 and 4.2 run for hours; a folder
    that resumes after a kill and refuses a second process keeps them honest.
    """

    def __init__(
        self,
        path,
        config,
        *,
        resumable=(),
        files=(),
        folders=(),
        required=(),
        identity=None,
        started=None,
        scratch=("logs",),
    ):
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise ValueError(f"`model_dir` must be a folder path; got model_dir={path!r}.")
        if not isinstance(config, dict):
            raise ValueError(f"`config` must be a dict; got config={config!r}.")
        self.path = os.fspath(path)
        self.config = config
        self.resumable = tuple(resumable)
        self.files = tuple(dict.fromkeys((*_OWN_FILES, *files)))
        self.folders = tuple(dict.fromkeys((BACKUP_FOLDER, *folders)))
        self.required = tuple(required)
        self.scratch = tuple(scratch)
        self.identity = identity or (lambda result: result.get("config"))
        self.started = time.perf_counter() if started is None else started
        self._lock = None
        self._progress = None
        self._committed = False
        self._finished = False
        self._created = []

    def join(self, *names):
        """A path inside the folder."""
        return os.path.join(self.path, *names)

    # Reading, without a claim --------------------------------------------------------

    def finished(self):
        """The result dict of this very configuration when the run is finished, else ``None``.

        Finished: ``result.json`` is readable, was made with ``config`` (every
        setting, the resumable ones included), is not marked ``"complete":
        false``, and the ``required`` files exist.

        Raises:
            RunConflictError: a run file is a folder.
        """
        self._check_files()
        result = results.read_json(self.join(RESULT_FILE))
        if not isinstance(result, dict) or result.get("complete") is False:
            return None
        if self.identity(result) != self.config:
            return None
        if not all(os.path.isfile(self.join(name)) for name in self.required):
            return None
        return result

    # The claim -------------------------------------------------------------------------

    @contextlib.contextmanager
    def claim(self, restart=False):
        """Holds the folder for this process while the ``with`` block runs.

        Takes the lock, removes a killed run's temporaries, completes a finish
        that a kill interrupted, checks the configuration (``restart``: deletes
        the run that is there first), records it and starts this process's
        progress entry. On leaving, the process's wall time is recorded and the
        lock released; a block that raised before :meth:`commit` (no epoch
        trained) removes what the claim created, unless the disk is full.

        Raises:
            RunLockedError: another live process holds the folder.
            RunConflictError: the folder holds another configuration's run, or
                a run file is a folder.
            NoSpaceLeftError: the disk filled up in the block (the last complete
                state is kept).
        """
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise RunFolderError(
                f"`model_dir`={self.path!r} is a file, not a folder.", model_dir=self.path
            )
        self._check_files()
        self._committed = self._finished = False
        fresh = self._make_folder()
        try:
            self._lock = take_lock(self.path)
        except BaseException:
            self._remove_created()
            raise
        try:
            if restart:
                self.remove_run()
            self._clean()
            held_a_run = self._check_config()
            if not held_a_run:
                results.write_json_atomic(self.join(CONFIG_FILE), self.config)
            self._start_progress()
        except BaseException:
            self._release(rollback=fresh)
            raise
        try:
            yield self
        except Exception as error:
            full = is_no_space(error)
            self._release(rollback=not (held_a_run or self._committed or full))
            if full:
                raise NoSpaceLeftError(self.path, self.state()) from error
            raise
        except BaseException:  # KeyboardInterrupt, SystemExit: keep the state to resume
            self._release(rollback=False)
            raise
        self._release(rollback=False)

    def commit(self):
        """Marks the run as worth resuming: a failure from now on keeps the folder."""
        self._committed = True

    def remove_run(self):
        """Deletes the run's files and folders (what ``restart`` does), not the lock."""
        for name in self.files:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.join(name))
        for name in self.folders:
            shutil.rmtree(self.join(name), ignore_errors=True)

    # Progress --------------------------------------------------------------------------

    def record(self, epoch=None, logs=None):
        """Records this process's wall time, and the logs of ``epoch`` (0-based) if given.

        An epoch's logs replace those of that epoch and every later one (a
        resumed run trains them again). Recording an epoch commits the run.
        """
        self._progress.record(epoch, logs)
        self._committed = self._committed or epoch is not None

    def history(self):
        """``{key: [one value per epoch]}`` of every recorded epoch, across processes."""
        return self._progress.history() if self._progress else {}

    def timings(self):
        """``{"total": seconds of every process of the run, "processes": count}``."""
        return self._progress.timings() if self._progress else {"total": 0.0, "processes": 0}

    def state(self):
        """The last complete state, in words (``"2 epochs"``, ``"nothing trained"``)."""
        return self._progress.state() if self._progress else "nothing trained"

    @property
    def run_id(self):
        """An id shared by this run's progress and its ``result.json``."""
        return self._progress.run_id if self._progress else None

    # Finishing -------------------------------------------------------------------------

    def finish(self, result, files=None):
        """Writes the run's files, then ``result.json``, then removes the backup and progress.

        Args:
            result: the result dict (``result.json``; ``run_id`` is added).
            files: ``{name: write}``: each ``write(tmp)`` writes the file
                ``name`` to the temporary path ``tmp`` (which ends as ``name``
                does); it is renamed to ``name`` when complete.

        Returns:
            ``result`` with its ``run_id``.
        """
        for name, write in (files or {}).items():
            with results.atomic_path(self.join(name)) as tmp:
                write(tmp)
        result = {**result, "run_id": self.run_id}
        results.write_json_atomic(self.join(RESULT_FILE), result)
        self._committed = True
        self._drop_backup()
        self._finished = True
        return result

    # Internals -------------------------------------------------------------------------

    def _check_files(self):
        for name in (*self.files, *self.required):
            if os.path.isdir(self.join(name)):
                raise RunConflictError(
                    f"`model_dir`={self.path!r} holds a folder named {name}, where the run "
                    f"writes a file: remove {self.join(name)!r} or give another `model_dir`.",
                    model_dir=self.path,
                    what=f"a folder named {name}",
                )

    def _make_folder(self):
        """Creates the folder and its missing parents; whether it was missing."""
        missing, folder = [], os.path.abspath(self.path)
        while not os.path.isdir(folder):
            missing.append(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        os.makedirs(self.path, exist_ok=True)
        self._created = missing  # deepest first
        return bool(missing)

    def _remove_created(self):
        for folder in self._created:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        self._created = []

    def _clean(self):
        """Removes what kills left: temporaries, a half-deleted backup, a finish's leftovers."""
        results.remove_temporary_files(self.path, self.files)
        for entry in os.listdir(self.path):
            if entry.startswith(_TRASH_PREFIX):
                shutil.rmtree(self.join(entry), ignore_errors=True)
        progress = results.read_json(self.join(PROGRESS_FILE))
        result = results.read_json(self.join(RESULT_FILE))
        run_id = progress.get("run_id") if isinstance(progress, dict) else None
        if run_id and isinstance(result, dict) and result.get("run_id") == run_id:
            # Killed between result.json and the end of finish(): complete it.
            self._drop_backup()

    def _check_config(self):
        """Raises if the folder holds another configuration's run; whether it holds a run."""
        recorded = results.read_json(self.join(CONFIG_FILE))
        if not isinstance(recorded, dict):
            result = results.read_json(self.join(RESULT_FILE))
            recorded = self.identity(result) if isinstance(result, dict) else None
        if isinstance(recorded, dict):
            mine = {k: v for k, v in self.config.items() if k not in self.resumable}
            theirs = {k: v for k, v in recorded.items() if k not in self.resumable}
            changes = {
                k: (theirs.get(k), mine.get(k))
                for k in sorted(set(theirs) | set(mine))
                if theirs.get(k) != mine.get(k)
            }
            if changes and not self._holds_work():
                self.remove_run()  # a run that never trained an epoch did not claim the folder
                return False
            if changes:
                text = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in changes.items())
                raise RunConflictError(
                    f"`model_dir`={self.path!r} holds a run of another configuration "
                    f"({text}); give another `model_dir`, or pass `restart` to delete that "
                    "run and start afresh.",
                    model_dir=self.path,
                    what=f"a run of another configuration ({text})",
                    changes=changes,
                )
            if not os.path.exists(self.join(CONFIG_FILE)):
                results.write_json_atomic(self.join(CONFIG_FILE), self.config)
            return True
        leftovers = [n for n in (*self.folders, PROGRESS_FILE) if os.path.exists(self.join(n))]
        if leftovers:
            raise RunConflictError(
                f"`model_dir`={self.path!r} holds an unfinished run of unknown configuration "
                f"({', '.join(leftovers)}); give another `model_dir`, or pass `restart` to "
                "delete it and start afresh.",
                model_dir=self.path,
                what="an unfinished run of unknown configuration",
            )
        return False

    def _holds_work(self):
        """Whether the folder holds a run's work: an epoch, a result, a checkpoint."""
        progress = results.read_json(self.join(PROGRESS_FILE))
        if isinstance(progress, dict) and progress.get("epochs"):
            return True
        names = (*self.files, *(f for f in self.folders if f not in self.scratch))
        return any(
            os.path.exists(self.join(n)) for n in names if n not in (CONFIG_FILE, PROGRESS_FILE)
        )

    def _start_progress(self):
        self._progress = Progress(self.join(PROGRESS_FILE), self.started, self._lock.get("stale"))

    def _drop_backup(self):
        """Removes the backup in one step (a rename), then the progress file."""
        backup = self.join(BACKUP_FOLDER)
        if os.path.exists(backup):
            trash = self.join(f"{_TRASH_PREFIX}{BACKUP_FOLDER}.{uuid.uuid4().hex[:8]}")
            os.replace(backup, trash)
            shutil.rmtree(trash, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.join(PROGRESS_FILE))

    def _release(self, rollback):
        try:
            if rollback:
                self.remove_run()
                for name in os.listdir(self.path) if os.path.isdir(self.path) else ():
                    if name.startswith(_TRASH_PREFIX):
                        shutil.rmtree(self.join(name), ignore_errors=True)
            elif self._progress is not None and not self._finished:
                with contextlib.suppress(OSError):  # a full disk keeps the last record
                    self.record()
        finally:
            release_lock(self.path, self._lock)
            self._lock = None
            if rollback:
                self._remove_created()
