"""The run folder: one process at a time, another configuration refused, nothing left behind.

Keras-free: these tests run in a second each on every backend.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from keras_sparse_rect import results
from keras_sparse_rect.experiments import run_folder
from keras_sparse_rect.experiments.run_folder import (
    NoSpaceLeftError,
    RunConflictError,
    RunFolder,
    RunLockedError,
    lock_holder,
)

CONFIG = {"seed": 0, "epochs": 2, "model_dir": "x"}


def folder(path, config=CONFIG, **kwargs):
    return RunFolder(
        path,
        config,
        resumable=("epochs", "model_dir"),
        files=("model.keras", "test_predictions.npy"),
        folders=("logs",),
        **kwargs,
    )


def holder_process(path, seconds=60, record=False):
    """A second Python process that claims ``path`` and sleeps; returns it once it holds it."""
    code = (
        "import sys, time, json\n"
        "from keras_sparse_rect.experiments.run_folder import RunFolder\n"
        f"f = RunFolder({str(path)!r}, {CONFIG!r}, resumable=('epochs', 'model_dir'))\n"
        "with f.claim():\n"
        f"    f.record(epoch=0, logs={{'loss': 1.0}}) if {record!r} else None\n"
        "    print('held', flush=True)\n"
        f"    time.sleep({seconds})\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_process_is_refused_at_once_naming_the_folder_and_the_pid(tmp_path):
    path = tmp_path / "run"
    process = holder_process(path)
    try:
        started = time.perf_counter()
        with pytest.raises(RunLockedError) as caught:
            with folder(path).claim():
                pass
        assert time.perf_counter() - started < 1.0
        error = caught.value
        assert error.model_dir == str(path) and error.pid == process.pid
        assert str(path) in str(error) and str(process.pid) in str(error)
        assert f"process {process.pid}" in error.what
        assert isinstance(error, RunConflictError) and isinstance(error, ValueError)
        assert lock_holder(path)["pid"] == process.pid
    finally:
        process.kill()
        process.wait()


def test_a_killed_processs_lock_is_taken_over_and_its_time_counted(tmp_path):
    path = tmp_path / "run"
    process = holder_process(path, record=True)
    time.sleep(1.0)
    (path / "logs").mkdir()
    (path / "logs" / "events").write_text("written by the killed process")
    process.send_signal(signal.SIGKILL)  # not reaped yet: a zombie, whose lock is stale too
    assert os.path.exists(path / "run.lock")
    deadline = time.monotonic() + 10
    while lock_holder(path) is not None and time.monotonic() < deadline:
        time.sleep(0.05)  # the signal is delivered asynchronously
    assert lock_holder(path) is None
    run = folder(path)
    with run.claim():
        timings = run.timings()
        assert run.history() == {"loss": [1.0]}
    assert timings["processes"] == 2
    assert timings["total"] >= 1.0  # the killed process ran at least a second
    assert not os.path.exists(path / "run.lock")
    process.wait()


def test_a_lock_of_a_process_id_no_longer_running_is_stale(tmp_path):
    path = tmp_path / "run"
    path.mkdir()
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    (path / "run.lock").write_text(json.dumps({"pid": process.pid}))
    with folder(path).claim():
        assert lock_holder(path)["pid"] == os.getpid()


def test_a_run_that_fails_before_its_first_epoch_leaves_nothing(tmp_path):
    path = tmp_path / "a" / "run"
    with pytest.raises(RuntimeError, match="diverged"):
        with folder(path).claim() as run:
            (path / "logs").mkdir()
            results.write_text_atomic(run.join("model.keras"), "x")
            raise RuntimeError("pretraining diverged")
    assert not (tmp_path / "a").exists()
    # A folder that was there stays, empty; the corrected command is not refused.
    path.mkdir(parents=True)
    with pytest.raises(RuntimeError):
        with folder(path, {**CONFIG, "seed": 5}).claim():
            raise RuntimeError("seed out of range")
    assert list(path.iterdir()) == []
    with folder(path).claim() as run:
        run.record(epoch=0, logs={"loss": 1.0})


def test_a_run_killed_before_its_first_epoch_does_not_hold_the_folder(tmp_path):
    path = tmp_path / "run"
    run = folder(path)
    with pytest.raises(KeyboardInterrupt):  # kept as a kill would keep it
        with run.claim():
            (path / "logs").mkdir()
            raise KeyboardInterrupt
    assert (path / "run_config.json").exists()
    with folder(path, {**CONFIG, "seed": 1}).claim() as other:  # not "another configuration"
        assert other.timings()["processes"] == 1 and not (path / "logs").exists()
    with folder(path, {**CONFIG, "seed": 1}).claim() as other:
        other.record(epoch=0, logs={"loss": 1.0})
    with pytest.raises(RunConflictError):
        with folder(path).claim():
            pass


def test_a_run_that_fails_after_an_epoch_keeps_its_state(tmp_path):
    path = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with folder(path).claim() as run:
            run.record(epoch=0, logs={"loss": 1.0})
            raise RuntimeError("later")
    assert (path / "run_config.json").exists() and (path / "progress.json").exists()


def test_another_configuration_is_refused_with_its_changes_and_restart_deletes_it(tmp_path):
    path = tmp_path / "run"
    with folder(path).claim() as run:
        run.record(epoch=0, logs={"loss": 1.0})
    with folder(path, {**CONFIG, "epochs": 5}).claim():  # a resumable change
        pass
    with pytest.raises(RunConflictError) as caught:
        with folder(path, {**CONFIG, "seed": 1}).claim():
            pass
    assert caught.value.changes == {"seed": (0, 1)} and caught.value.model_dir == str(path)
    assert "seed 0 -> 1" in caught.value.what and "restart" in str(caught.value)
    assert not (path / "run.lock").exists()  # a refusal releases the lock
    with folder(path, {**CONFIG, "seed": 1}).claim(restart=True) as run:
        assert run.history() == {}
    assert json.loads((path / "run_config.json").read_text())["seed"] == 1


@pytest.mark.parametrize("name", ["result.json", "model.keras"])
def test_a_folder_where_a_run_file_belongs_is_a_clear_value_error(tmp_path, name):
    path = tmp_path / "run"
    (path / name).mkdir(parents=True)
    for call in (lambda: folder(path).finished(), lambda: folder(path).claim().__enter__()):
        with pytest.raises(ValueError, match=f"folder named {name}") as caught:
            call()
        assert str(path) in str(caught.value) and caught.value.model_dir == str(path)


def test_a_killed_writes_temporaries_are_removed_at_the_next_claim(tmp_path):
    path = tmp_path / "run"
    path.mkdir()
    left = [".model.keras.abc123.keras", ".test_predictions.npy.x1y2.npy", ".result.json.q.json"]
    for name in left:
        (path / name).write_bytes(b"half")
    (path / ".trash.backup.1234").mkdir()
    (path / "mine.txt").write_text("the user's")
    with folder(path).claim():
        pass
    assert sorted(os.listdir(path)) == ["mine.txt", "progress.json", "run_config.json"]


@pytest.mark.parametrize("kill_at", ["before the backup is removed", "while it is deleted"])
def test_a_kill_at_the_end_of_finish_never_leaves_a_backup_to_resume_from(
    tmp_path, monkeypatch, kill_at
):
    path = tmp_path / "run"
    run = folder(path)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    with run.claim():
        run.record(epoch=0, logs={"loss": 1.0})
        (path / "backup").mkdir()
        (path / "backup" / "training_metadata.json").write_text('{"epoch": 1}')
        if kill_at == "while it is deleted":
            monkeypatch.setattr(run_folder.shutil, "rmtree", killed)
        else:
            monkeypatch.setattr(RunFolder, "_drop_backup", killed)
        with pytest.raises(KeyboardInterrupt):
            run.finish({"config": CONFIG, "test_error": 0.5})
        monkeypatch.undo()
    # The result is written before anything is removed: the run is finished ...
    assert folder(path).finished()["test_error"] == 0.5
    # ... the backup is whole or gone, never its metadata alone ...
    assert (path / "backup").exists() == (kill_at == "before the backup is removed")
    # ... and the next claim (say with more epochs) starts afresh, not from that backup.
    again = folder(path, {**CONFIG, "epochs": 3})
    with again.claim():
        assert sorted(os.listdir(path)) == [
            "progress.json", "result.json", "run.lock", "run_config.json"
        ]  # fmt: skip
        assert again.history() == {} and again.timings()["processes"] == 1


def test_a_full_disk_is_one_error_keeping_the_last_complete_state(tmp_path, monkeypatch):
    path = tmp_path / "run"
    run = folder(path)
    write = results.write_json_atomic

    def full(target, data):
        if os.path.basename(target) == "progress.json" and len(data["epochs"]) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(target, data)

    monkeypatch.setattr(run_folder.results, "write_json_atomic", full)
    with pytest.raises(NoSpaceLeftError) as caught:
        with run.claim():
            run.record(epoch=0, logs={"loss": 1.0})
            run.record(epoch=1, logs={"loss": 0.5})
    assert caught.value.model_dir == str(path) and caught.value.errno == errno.ENOSPC
    assert "1 epoch" in str(caught.value) and "start the same command again" in str(caught.value)
    assert isinstance(caught.value.__cause__, OSError)
    assert not (path / "run.lock").exists()
    assert not [n for n in os.listdir(path) if n.startswith(".")]  # no half-written file
    monkeypatch.undo()  # space is back
    again = folder(path)
    with again.claim():
        assert again.history() == {"loss": [1.0]}  # resumes after the last complete epoch
        assert again.timings()["processes"] == 2


def test_finished_needs_this_very_configuration_and_the_required_files(tmp_path):
    path = tmp_path / "run"
    run = folder(path, required=("test_predictions.npy",))
    with run.claim():
        run.record(epoch=0, logs={})
        run.finish({"config": CONFIG}, {"test_predictions.npy": lambda t: open(t, "w").close()})
    assert run.finished()["config"] == CONFIG and run.finished()["run_id"]
    assert folder(path, {**CONFIG, "epochs": 3}, required=()).finished() is None
    os.remove(path / "test_predictions.npy")
    assert run.finished() is None


def test_the_old_progress_file_is_read(tmp_path):
    path = tmp_path / "run"
    path.mkdir()
    (path / "run_config.json").write_text(json.dumps({"seed": 0}))
    old = {"epochs": [{"loss": 2.0}], "seconds": 7.0, "processes": 1}
    (path / "progress.json").write_text(json.dumps(old))
    run = folder(path)
    with run.claim():
        assert run.history() == {"loss": [2.0]}
        assert run.timings()["processes"] == 2 and run.timings()["total"] >= 7.0


def test_a_model_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        folder(path).claim().__enter__()


def test_a_grid_run_held_by_another_process_is_refused_and_released_after(tmp_path):
    from keras_sparse_rect.experiments.run_lock import holding

    path = tmp_path / "run"
    process = holder_process(path)
    try:
        with pytest.raises(RunLockedError) as caught:
            with holding(str(path)):
                pass
        assert caught.value.pid == process.pid
    finally:
        process.kill()
        process.wait()
    with holding(str(path)) as mine:  # the killed holder's lock is stale
        assert lock_holder(path)["pid"] == os.getpid() == mine["pid"]
    assert lock_holder(path) is None
