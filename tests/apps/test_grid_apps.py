"""Table 1 and Figure 3 apps, end to end on tiny real data."""

import csv
import json
import subprocess
import sys

import pytest

from tests.apps.conftest import ROOT, error_lines, run_app, run_in_process

FAST = ["--hidden_units=16", "--batch_size=50", "--epochs=1", "--pretrain_epochs=1", "--verbose=0"]


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_table1(tiny_mnist, tmp_path):
    run = run_app("apps.table1", f"--datasets={tiny_mnist}", f"--model_dir={tmp_path}", *FAST)
    assert run.returncode == 0, run.stderr[-3000:]
    markdown = (tmp_path / "table1.md").read_text()
    for row in ("Rectifier", "Tanh", "Softplus", "With unsupervised", "Without unsupervised"):
        assert row in markdown
    table = json.loads((tmp_path / "table1.json").read_text())
    (equivalence,) = table["equivalent"].values()
    assert set(equivalence) == {"rectifier", "tanh", "softplus"}
    assert all(0.0 <= v["p_value"] <= 1.0 for v in equivalence.values())
    # Section 4.1's L1 penalty: the rectifier rows only (--l1_neurons' default).
    assert table["l1_neurons"] == ["rectifier"]
    for run in table["runs"]:
        config = json.loads((tmp_path.joinpath(run["model_dir"]) / "result.json").read_text())
        assert config["config"]["l1"] == (0.001 if run["neuron"] == "rectifier" else 0.0)
    # A second start reuses the six finished runs instead of training again; a subset of
    # the rows, under another name, leaves the full table as it was.
    again = run_in_process(
        "apps.table1", f"--datasets={tiny_mnist}", f"--model_dir={tmp_path}", *FAST
    )
    assert again.returncode == 0
    assert json.loads((tmp_path / "table1.json").read_text())["cells"] == table["cells"]
    subset = run_in_process(
        "apps.table1",
        f"--datasets={tiny_mnist}",
        f"--model_dir={tmp_path}",
        *FAST,
        "--neurons=rectifier",
        "--table_name=rectifier_only",
    )
    assert subset.returncode == 0, subset.stderr[-3000:]
    assert (tmp_path / "table1.md").read_text() == markdown
    (by_pretrain,) = json.loads((tmp_path / "rectifier_only.json").read_text())["cells"].values()
    assert all(set(cells) == {"rectifier"} for cells in by_pretrain.values())
    assert "Rectifier" in (tmp_path / "rectifier_only.md").read_text()
    # Another configuration in the same folders is refused in one line, before training.
    other = run_in_process(
        "apps.table1", f"--datasets={tiny_mnist}", f"--model_dir={tmp_path}", *FAST, "--noise=0.5"
    )
    assert other.returncode == 2
    (line,) = error_lines(other.stderr)
    assert "holds a run of another configuration (noise 0.25 -> 0.5)" in line, line
    assert str(tmp_path) in line and "delete that folder" in line and "restart" not in line


FIGURE3 = ["--hidden_units=16", "--batch_size=50", "--epochs=2", "--patience=1", "--verbose=0"]


@pytest.mark.slow
@pytest.mark.once("tensorflow")  # the app's plumbing; tests/experiments/ test its library on both
def test_sparsity_sweep(tiny_mnist, tmp_path):
    args = [f"--dataset={tiny_mnist}", f"--model_dir={tmp_path}", "--num_networks=2", *FIGURE3]
    lane = run_app("apps.sparsity_sweep", *args, "--beyond_l1=0.003", "--lane=1/2")
    assert lane.returncode == 0, lane.stderr[-3000:]
    # Lane 1 of 2 trains every other network of the order 0, 2 (0.003), 1: L1 0.003 only.
    assert [float(r["l1"]) for r in csv.DictReader((tmp_path / "sparsity_sweep.csv").open())] == [
        0.003
    ]
    gathered = run_in_process(
        "apps.sparsity_sweep",
        *args,
        "--beyond_l1=0.003",
        "--only_finished",
        f"--figure_dir={tmp_path / 'figure'}",
    )
    assert gathered.returncode == 0, gathered.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / "figure" / "sparsity_sweep.csv").open()))
    assert [float(r["l1"]) for r in rows] == [0.003]  # nothing else trained
    run = run_in_process("apps.sparsity_sweep", *args, "--beyond_l1=0.003")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "(reused)" in run.stdout
    rows = list(csv.DictReader((tmp_path / "sparsity_sweep.csv").open()))
    assert [float(r["l1"]) for r in rows] == [0.0, 0.001, 0.003]
    assert all(0.0 <= float(r["sparsity"]) <= 1.0 for r in rows)
    assert all(1 <= int(r["best_epoch"]) <= int(r["epochs_trained"]) <= 2 for r in rows)
    assert (tmp_path / "sparsity_sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_only_finished_without_finished_runs_says_so(tiny_mnist, tmp_path):
    run = run_in_process(
        "apps.labeled_fraction",
        f"--dataset={tiny_mnist}",
        f"--model_dir={tmp_path}",
        "--only_finished",
        *FIGURE3,
    )
    assert run.returncode == 2
    (line,) = error_lines(run.stderr)
    assert "no finished run" in line and "--only_finished" in line


@pytest.mark.slow
@pytest.mark.once("tensorflow")  # the app's plumbing; tests/experiments/ test its library on both
def test_labeled_fraction(tiny_mnist, tmp_path):
    run = run_app(
        "apps.labeled_fraction",
        f"--dataset={tiny_mnist}",
        f"--model_dir={tmp_path}",
        "--fractions=0.1,1",
        "--seeds=0,1",
        "--neurons=tanh",
        "--min_epoch_examples=100",
        *FIGURE3,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    points = list(csv.DictReader((tmp_path / "labeled_fraction.csv").open()))
    assert [(p["activation"], p["labeled_fraction"]) for p in points] == [
        ("tanh", "0.1"),
        ("tanh", "1.0"),
    ]
    assert [p["pretrained_seeds"] for p in points] == ["2", "1"]  # 0.1: both seeds; 1: seed 0
    assert all(p["p_values"].startswith("seed0:") for p in points)
    runs = list(csv.DictReader((tmp_path / "labeled_fraction_runs.csv").open()))
    assert len(runs) == 6  # (0.1: two seeds, 1: one) x with and without pretraining
    small, everything = sorted({int(r["labeled"]) for r in runs})
    assert everything == 400 and abs(small - 40) <= 5  # a tenth of each class, rounded
    assert (tmp_path / "labeled_fraction.png").read_bytes()[:4] == b"\x89PNG"
    assert "| tanh | 10% (" in (tmp_path / "labeled_fraction.md").read_text()
    # Pretraining ran once per seed, cached beside the runs.
    assert sorted(p.parent.parent.name for p in tmp_path.glob("*/pretrained/pretrained.npz")) == [
        "tanh_seed0",
        "tanh_seed1",
    ]


@pytest.mark.parametrize(
    "app, args, message",
    [
        ("apps.sparsity_sweep", ["--max_l1=nan"], "--max_l1 must be a finite number >= 0"),
        ("apps.sparsity_sweep", ["--num_networks=0"], "--num_networks must be an int >= 1"),
        ("apps.table1", ["--datasets=mnist,nosuch"], "--datasets must name data sets among"),
        ("apps.table1", ["--seeds=0,-1"], "--seeds must be ints >= 0"),
        ("apps.table1", ["--hidden_units=0"], "--hidden_units must be one or more ints >= 1"),
        ("apps.table1", ["--neurons=relu"], "--neurons must name rectifier, softplus, tanh"),
        ("apps.table1", ["--neurons="], "--neurons must name rectifier, softplus, tanh"),
        ("apps.table1", ["--l1_neurons=tanh,tanh"], "--l1_neurons must name rectifier"),
        ("apps.table1", ["--table_name=../t"], "--table_name must be a file name"),
        ("apps.table1", ["--table_name="], "--table_name must be a file name"),
        ("apps.sparsity_sweep", ["--beyond_l1=0.0005"], "--beyond_l1 must be numbers > --max_l1"),
        ("apps.sparsity_sweep", ["--beyond_l1=x"], "--beyond_l1 must be numbers > --max_l1"),
        ("apps.sparsity_sweep", ["--lane=2/2"], "--lane must be K/N with 0 <= K < N"),
        ("apps.labeled_fraction", ["--fractions=0.5,2"], "--fractions must be numbers in (0, 1]"),
        ("apps.labeled_fraction", ["--fractions=half"], "--fractions must be numbers in (0, 1]"),
        ("apps.labeled_fraction", ["--seeds=0,-1"], "--seeds must be distinct ints >= 0"),
        ("apps.labeled_fraction", ["--neurons=softplus"], "--neurons must name rectifier or tanh"),
        ("apps.labeled_fraction", ["--min_epoch_examples=0"], "--min_epoch_examples must be"),
        ("apps.labeled_fraction", ["--pretraining=yes"], "--pretraining must name with or without"),
        ("apps.labeled_fraction", ["--pretraining="], "--pretraining must name with or without"),
    ],
)
def test_bad_flags_of_the_grid_apps_print_one_line_and_exit_2(app, args, message, tmp_path):
    run = run_in_process(app, *args, f"--model_dir={tmp_path / 'run'}")
    assert run.returncode == 2, run.stderr[-2000:]
    lines = error_lines(run.stderr)
    assert len(lines) == 1 and message in lines[0], lines


@pytest.mark.parametrize(
    "app, flag",
    [
        ("apps.labeled_fraction", "--fractions=0,1"),
        ("apps.labeled_fraction", "--neurons=relu"),
        ("apps.sparsity_sweep", "--num_networks=0"),
        ("apps.sparsity_sweep", "--lane=1"),
    ],
)
def test_figure3_flags_are_checked_before_tensorflow_or_data(app, flag, tmp_path):
    code = (
        "import runpy, sys, time\n"
        f"sys.argv = [{app!r}, {flag!r}, '--model_dir={tmp_path}']\n"
        "start = time.perf_counter()\n"
        "try:\n"
        f"    runpy.run_module({app!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print(exit.code, time.perf_counter() - start,\n"
        "          sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    status, seconds, imported = run.stdout.split(" ", 2)
    assert status == "2" and imported.strip() == "[]", run.stdout + run.stderr
    assert float(seconds) < 1.0
    (line,) = error_lines(run.stderr)
    assert flag.split("=")[0] in line
