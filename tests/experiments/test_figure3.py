"""Figure 3's protocol: nested stratified subsets, L1 spread, cached pretraining, reused runs,
the paired tests and the files (section 4.1, Figure 3)."""

import csv
import json
import os

import numpy as np
import pytest

from keras_sparse_rect.experiments import figure3, figure3_report
from keras_sparse_rect.experiments.configs import ImageExperimentConfig

LABELS = np.repeat(np.arange(10), [50, 60, 70, 40, 55, 45, 65, 35, 50, 30])


@pytest.mark.parametrize("seed", [0, 3])
def test_the_grid_labeled_subsets_are_nested_and_stratified(seed):
    subsets = [figure3.labeled_subset(LABELS, f, seed) for f in figure3.FRACTIONS]
    for small, large in zip(subsets, subsets[1:], strict=False):
        assert np.isin(small, large).all()
    for fraction, subset in zip(figure3.FRACTIONS, subsets, strict=True):
        counts = np.bincount(LABELS[subset], minlength=10)
        expected = np.maximum(1, np.round(fraction * np.bincount(LABELS)))
        np.testing.assert_array_equal(counts, expected)


def test_l1_values_spread_evenly_then_go_beyond():
    values = figure3.l1_values(21, 1e-3, beyond=(0.002, 0.005))
    assert len(values) == 23 and values[0] == 0.0 and values[20] == pytest.approx(1e-3)
    np.testing.assert_allclose(np.diff(values[:21]), 5e-5)
    assert values[21:] == [0.002, 0.005]
    with pytest.raises(ValueError, match="count"):
        figure3.l1_values(0)


def test_protocol_checks_its_fields():
    with pytest.raises(ValueError, match="patience"):
        figure3.Protocol(patience=0)


def test_neuron_config_puts_l1_on_rectifiers_and_table1_rates():
    base = ImageExperimentConfig(l1=1e-3).validate()
    rectifier = figure3.neuron_config(base, "rectifier", 1)
    tanh = figure3.neuron_config(base, "tanh", 1)
    assert rectifier.l1 == 1e-3 and tanh.l1 == 0.0 and tanh.seed == 1
    assert rectifier.pretrain_learning_rate == (0.01, 0.001, 0.01)
    one_layer = dataclass_replace(base, hidden_units=(8,))
    assert figure3.neuron_config(one_layer, "rectifier", 0).pretrain_learning_rate == 0.01


def dataclass_replace(config, **changes):
    import dataclasses

    return dataclasses.replace(config, **changes).validate()


def _row(activation, pretrain, seed, correct, fraction=0.1):
    correct = np.asarray(correct, bool)
    return {
        "activation": activation,
        "pretrain": pretrain,
        "seed": seed,
        "labeled_fraction": fraction,
        "labeled": 20,
        "test_error": float(1 - correct.mean()),
        "test_correct": correct,
    }


def test_points_average_seeds_and_test_each_seed_pair():
    right, half = [1] * 10, [1] * 5 + [0] * 5
    rows = [
        _row("rectifier", True, 0, right),
        _row("rectifier", True, 1, half),
        _row("rectifier", False, 0, half),
        _row("rectifier", False, 1, half),
    ]
    (point,) = figure3_report.summarize_labeled_fraction(rows)
    assert point["pretrained_mean"] == pytest.approx(0.25)
    assert point["pretrained_std"] == pytest.approx(0.25)
    assert point["not_pretrained_std"] == 0.0 and point["not_pretrained_seeds"] == 2
    assert [(t["seed"], t["b"], t["c"]) for t in point["tests"]] == [(0, 5, 0), (1, 0, 0)]
    assert point["tests"][1]["p_value"] == 1.0


def test_write_figure_writes_csvs_and_pngs(tmp_path):
    rows = [
        _row(a, p, s, [1] * (7 + s) + [0] * (3 - s), f)
        for a in ("rectifier", "tanh")
        for p in (True, False)
        for s in (0, 1)
        for f in (0.01, 1.0)
    ]
    paths = figure3_report.write_figure(str(tmp_path), "labeled_fraction", rows, "t")
    assert [os.path.basename(p) for p in paths] == [
        "labeled_fraction.csv",
        "labeled_fraction_runs.csv",
        "labeled_fraction.md",
        "labeled_fraction.png",
    ]
    points = list(csv.DictReader(open(paths[0])))
    assert len(points) == 4 and points[0]["p_values"].startswith("seed0:")
    assert len(list(csv.DictReader(open(paths[1])))) == 16
    table = open(paths[2]).read()
    assert (
        "| rectifier | 1% (20) | 25.00% ± 5.00 (2) |" in table and "seed 1: 0 / 0, p = 1" in table
    )
    assert open(paths[3], "rb").read(4) == b"\x89PNG"
    sweep = [
        {**_row("rectifier", False, i, [1, 0]), "l1": i * 1e-4, "sparsity": 0.8} for i in range(3)
    ]
    left = figure3_report.write_figure(str(tmp_path), "sparsity_sweep", sweep)
    assert [float(r["l1"]) for r in csv.DictReader(open(left[0]))] == [0.0, 1e-4, 2e-4]


@pytest.fixture(scope="module")
def tiny_data():
    from keras_sparse_rect.data import load_image_dataset

    data = load_image_dataset("mnist_subset")
    import dataclasses

    return dataclasses.replace(
        data,
        x_train=data.x_train[:300],
        y_train=data.y_train[:300],
        x_val=data.x_val[:100],
        y_val=data.y_val[:100],
        x_test=data.x_test[:100],
        y_test=data.y_test[:100],
    )


def test_grid_pretrains_once_per_seed_and_reuses_finished_runs(tiny_data, tmp_path):
    base = ImageExperimentConfig(
        hidden_units=(8,), batch_size=50, pretrain_epochs=1, model_dir=str(tmp_path)
    ).validate()
    protocol = figure3.Protocol(epochs=2, patience=1, min_epoch_examples=200)
    lines = []
    rows = figure3.run_labeled_fraction(
        base, tiny_data, (0.1, 1.0), (0, 1), ("rectifier",), protocol, log=lines.append
    )
    # 0.1: two seeds; 1.0: the first seed only; each with and without pretraining.
    assert [(r["labeled_fraction"], r["seed"], r["pretrain"]) for r in rows] == [
        (0.1, 0, True),
        (0.1, 0, False),
        (0.1, 1, True),
        (0.1, 1, False),
        (1.0, 0, True),
        (1.0, 0, False),
    ]
    assert [r["labeled"] for r in rows][::2] == [30, 30, 300]
    result = json.loads(
        (tmp_path / "rectifier_seed0" / "pretrain_0.1000" / "result.json").read_text()
    )
    assert result["epoch_examples"] == 210  # 30 labeled, repeated to at least 200
    assert result["best_epoch"] <= result["epochs_trained"] <= 2
    pretrained = tmp_path / "rectifier_seed0" / "pretrained" / "pretrained.npz"
    stamp = pretrained.stat().st_mtime_ns
    again = figure3.run_labeled_fraction(
        base, tiny_data, (0.1, 1.0), (0, 1), ("rectifier",), protocol, log=lines.append
    )
    assert all(r["reused"] for r in again) and pretrained.stat().st_mtime_ns == stamp
    assert [r["test_error"] for r in again] == [r["test_error"] for r in rows]
    from keras_sparse_rect.experiments.image import RunConflictError

    with pytest.raises(RunConflictError):
        figure3.run_labeled_fraction(
            base,
            tiny_data,
            (0.1,),
            (0,),
            ("rectifier",),
            figure3.Protocol(2, 1, 300),  # another epoch size
        )


def test_a_run_stopped_by_the_cap_trains_again_with_a_larger_cap(tiny_data, tmp_path):
    config = ImageExperimentConfig(hidden_units=(8,), batch_size=50, l1=0.0).validate()
    labeled = np.arange(100)
    first = figure3.fine_tune(config, tiny_data, labeled, figure3.Protocol(1, 1, 100), tmp_path)
    assert first["best_epoch"] == 1 and figure3.capped(first)
    # Gathering only, or the same cap: the finished run as it is.
    for protocol, train in (
        (figure3.Protocol(3, 1, 100), False),
        (figure3.Protocol(1, 1, 100), True),
    ):
        again = figure3.fine_tune(config, tiny_data, labeled, protocol, tmp_path, train=train)
        assert again["reused"] and again["settings"]["epochs"] == 1
    longer = figure3.fine_tune(config, tiny_data, labeled, figure3.Protocol(3, 1, 100), tmp_path)
    assert not longer.get("reused") and longer["settings"]["epochs"] == 3
    assert 1 <= longer["best_epoch"] <= longer["epochs_trained"] <= 3
    # A larger patience: the run might not have stopped yet, so it trains again.
    patient = figure3.fine_tune(config, tiny_data, labeled, figure3.Protocol(3, 2, 100), tmp_path)
    assert not patient.get("reused") and patient["settings"]["patience"] == 2


def test_one_curve_alone_trains_without_pretraining_anything(tiny_data, tmp_path):
    base = ImageExperimentConfig(
        hidden_units=(8,), batch_size=50, pretrain_epochs=1, model_dir=str(tmp_path)
    ).validate()
    protocol = figure3.Protocol(epochs=1, patience=1, min_epoch_examples=100)
    rows = figure3.run_labeled_fraction(
        base,
        tiny_data,
        (0.5,),
        (0,),
        ("tanh",),
        protocol,
        log=lambda line: None,
        pretraining=(False,),
    )
    assert [(r["activation"], r["pretrain"]) for r in rows] == [("tanh", False)]
    assert not list(tmp_path.glob("*/pretrained"))  # nothing pretrained for a curve without it
    for bad in ((), (True, True), ("without",)):
        with pytest.raises(ValueError, match="`pretraining` must hold True, False or both"):
            figure3.run_labeled_fraction(base, tiny_data, (0.5,), pretraining=bad)


def test_a_killed_run_resumes_at_its_last_epoch(tiny_data, tmp_path, monkeypatch):
    from keras_sparse_rect.experiments.run_callbacks import RunBackup

    config = ImageExperimentConfig(hidden_units=(8,), batch_size=50, l1=0.0).validate()
    labeled, protocol = (
        np.arange(100),
        figure3.Protocol(epochs=4, patience=4, min_epoch_examples=100),
    )
    started = []

    def killed_at_the_third_epoch(self, epoch, logs=None):
        started.append(epoch)
        if epoch == 2:
            raise KeyboardInterrupt  # after the second epoch's backup

    monkeypatch.setattr(RunBackup, "on_epoch_begin", killed_at_the_third_epoch, raising=False)
    with pytest.raises(KeyboardInterrupt):
        figure3.fine_tune(config, tiny_data, labeled, protocol, tmp_path)
    monkeypatch.undo()
    backup = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert backup["epoch"] == 2 and backup["early_stopping"]["best_epoch"] in (0, 1)
    result = figure3.fine_tune(config, tiny_data, labeled, protocol, tmp_path)
    assert started == [0, 1, 2] and result["timings_s"]["processes"] == 2
    assert result["epochs_trained"] == len(result["history"]["loss"]) == 4  # both processes'
    assert 1 <= result["best_epoch"] <= 4 and not (tmp_path / "backup").exists()
