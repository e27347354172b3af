"""Every app answers a bad flag at once: exit 2, one stderr line naming the flag, no traceback.

Each app checks its own flags before it imports TensorFlow (or Keras) or loads
data, so that a flag error costs a Python start-up, not a TensorFlow one. The
real guard is that neither was imported; the wall-clock bound is generous, for
a loaded machine. A refused command creates no output folder.
"""

import os
import subprocess
import sys
import time

import pytest

from .conftest import ROOT

# Every refusal here happens before Keras is imported: no backend is involved.
pytestmark = pytest.mark.once("tensorflow")

# Runs an app as ``python -m`` does, then says whether TensorFlow or Keras was loaded.
_RUNNER = (
    "import atexit, runpy, sys\n"
    "loaded = lambda: [m in sys.modules for m in ('tensorflow', 'keras')]\n"
    "atexit.register(lambda: print('LOADED', *loaded()))\n"
    "module = sys.argv[1]\n"
    "sys.argv = [module.rsplit('.', 1)[-1] + '.py', *sys.argv[2:]]\n"
    "runpy.run_module(module, run_name='__main__', alter_sys=True)\n"
)

IMAGE_APPS = (
    "apps.image_experiment",
    "apps.table1",
    "apps.labeled_fraction",
    "apps.sparsity_sweep",
)
ALL_APPS = (*IMAGE_APPS, "apps.sentiment_experiment", "apps.tune")
OUTPUT_FLAG = {"apps.sentiment_experiment": "--output_dir", "apps.tune": "--directory"}


def _cases():
    """``(app, args, flag named)`` for every class of flag error, in every app it applies to.

    ``{binary}``, ``{itself}`` and ``{reviews}`` are files the test writes.
    """
    cases = []
    for app in ALL_APPS:
        cases += [
            (app, ["--seed=99999999999999999999"], "--seed"),
            (app, ["--epochs=0"], "--epochs"),
            (app, ["--flagfile={binary}"], "--flagfile"),
            (app, ["--flagfile="], "--flagfile"),
            (app, ["--flagfile={itself}"], "--flagfile"),
            (app, ["--no_such_flag=1"], "no_such_flag"),
        ]
    for app in (*IMAGE_APPS, "apps.tune"):
        cases += [
            (app, ["--hidden_units=10000000"], "--hidden_units"),
            (app, ["--tpu=my-tpu"], "--tpu"),
            (app, ["--l1=0.1,0.2"], "--l1"),
        ]
    rating = ["--reviews={reviews}", "--rating_scale=1"]
    cases += [
        ("apps.sentiment_experiment", ["--hidden_units=10000000"], "--hidden_units"),
        ("apps.image_experiment", ["--nopretrain=false"], "--nopretrain"),
        ("apps.tune", ["--nopretrain=false"], "--nopretrain"),
        ("apps.table1", ["--seeds=0,99999999999999999999"], "--seeds"),
        ("apps.table1", ["--neurons=relu"], "--neurons"),
        ("apps.labeled_fraction", ["--fractions=0.5,2"], "--fractions"),
        ("apps.sparsity_sweep", ["--num_networks=0"], "--num_networks"),
        ("apps.sparsity_sweep", ["--max_l1=-1"], "--max_l1"),
        ("apps.sentiment_experiment", rating, "--rating_scale"),
        ("apps.sentiment_experiment", ["--folds=1"], "--folds"),
        ("apps.tune", ["--max_trials=0"], "--max_trials"),
        ("apps.tune", ["--project_name=../x"], "--project_name"),
        ("apps.tune", ["--choices=learning_rate=-1"], "--choices"),
        ("apps.tune", ["--tune=momentum"], "--tune"),
        ("apps.tune", ["--stage=pretrain", "--nopretrain"], "--nopretrain"),
        ("apps.tune", ["--experiment=sentiment", "--rating_scale=1"], "--rating_scale"),
        ("apps.tune", ["--experiment=sentiment", *rating], "--rating_scale"),
    ]
    return cases


CASES = _cases()


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{a.split('.')[1]}:{' '.join(x)}" for a, x, _ in CASES]
)
def test_every_app_refuses_a_bad_flag_at_once_in_one_line(case, tmp_path):
    app, args, flag = case
    itself = tmp_path / "itself.flags"
    itself.write_text(f"--flagfile={itself}\n")
    (tmp_path / "binary.flags").write_bytes(b"\xff\xfe\x00\x01--epochs=1\n")
    (tmp_path / "reviews.csv").write_text("text,rating\ngood,5\nbad,1\n")
    files = {name: tmp_path / f"{name}.{suffix}" for name, suffix in
             (("binary", "flags"), ("itself", "flags"), ("reviews", "csv"))}  # fmt: skip
    output = tmp_path / "out"
    args = [a.format(**files) for a in args]
    args.append(f"{OUTPUT_FLAG.get(app, '--model_dir')}={output}")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", _RUNNER, app, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    seconds = time.perf_counter() - started
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2, run.stderr
    assert len(lines) == 1 and flag in lines[0], run.stderr
    assert "Traceback" not in run.stderr
    assert "LOADED False False" in run.stdout, "TensorFlow or Keras was imported before the check"
    assert not output.exists(), "a refused command created its output folder"
    assert seconds < 5, f"{seconds:.1f} s"
