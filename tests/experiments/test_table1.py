"""Table 1's wiring on made-up run results: pairing per seed, the bold rule, exclusions."""

import numpy as np
import pytest

from keras_sparse_rect.experiments import suite, table1


def run(seed, error, status="ok", n=1000, shift=0):
    """A made-up run: ``error`` of ``n`` test examples wrong, starting at ``shift``."""
    correct = np.ones(n, dtype=bool)
    wrong = int(round(error * n))
    correct[shift : shift + wrong] = False
    return {
        "seed": seed,
        "status": status,
        "test_error": float(1.0 - correct.mean()),
        "test_correct": correct,
        "sparsity": 0.8,
    }


def test_diverged_and_collapsed_runs_are_not_averaged():
    cell = table1.summarize_cell(
        [run(0, 0.02), run(1, 0.90, "diverged"), run(2, 0.04), run(3, 0.5, "collapsed")]
    )
    assert cell["test_error"] == pytest.approx(0.03)
    assert cell["seeds"] == [0, 2]
    assert cell["excluded"] == [
        {"seed": 1, "status": "diverged"},
        {"seed": 3, "status": "collapsed"},
    ]


def test_a_cell_without_valid_runs_says_why():
    cell = table1.summarize_cell([run(0, 0.9, "diverged")])
    assert cell["test_error"] is None
    test = table1.paired_tests([run(0, 0.9, "diverged")], [run(0, 0.02)])
    text = table1._format_cell(cell, True, "rectifier", "mnist", test)
    assert text.startswith("diverged") and "[1.20%]" in text and "**" not in text


def test_the_test_is_per_seed_not_pooled():
    """A 1-point difference on each of 8 seeds (20 vs 30 of 1000 wrong, on different examples):
    no seed alone rejects, while pooling the 8 x 1000 predictions would."""
    from keras_sparse_rect import stats

    pretrained = [run(s, 0.020, shift=0) for s in range(8)]
    plain = [run(s, 0.030, shift=100) for s in range(8)]
    tests = table1.paired_tests(pretrained, plain)
    assert [t["seed"] for t in tests["per_seed"]] == list(range(8))
    assert all(not t["rejects"] for t in tests["per_seed"])
    assert tests["equivalent"]
    pooled = stats.mcnemar_test(
        np.concatenate([r["test_correct"] for r in pretrained]),
        np.concatenate([r["test_correct"] for r in plain]),
    )
    assert pooled["p_value"] < 0.05  # what pooling would have said


def test_pairs_are_matched_by_seed_and_invalid_seeds_skipped():
    pretrained = [run(0, 0.02), run(1, 0.02, "collapsed"), run(2, 0.02)]
    plain = [run(2, 0.10), run(0, 0.021), run(1, 0.02)]
    tests = table1.paired_tests(pretrained, plain)
    assert [t["seed"] for t in tests["per_seed"]] == [0, 2]
    assert tests["skipped_seeds"] == [1]
    by_seed = {t["seed"]: t for t in tests["per_seed"]}
    assert not by_seed[0]["rejects"] and by_seed[2]["rejects"]
    assert tests["equivalent"]  # one of two seeds does not reject: half


@pytest.mark.parametrize(
    "rejects, bold",
    [
        ([], False),
        ([False], True),
        ([True], False),
        ([True, False], True),
        ([True, True, False], False),
    ],
)
def test_bold_rule_at_least_half_of_the_seeds_do_not_reject(rejects, bold):
    assert table1.equivalent([{"rejects": r} for r in rejects]) is bold


def test_markdown_states_the_rule_and_marks_excluded_runs():
    runs = {True: [run(0, 0.012), run(1, 0.5, "collapsed")], False: [run(0, 0.013), run(1, 0.014)]}
    table = {
        "cells": {"mnist": {p: {} for p in (True, False)}},
        "equivalent": {"mnist": {}},
        "runs": [],
        "seeds": [0, 1],
        "alpha": 0.05,
        "protocol": "paper",
        "bold_rule": "bold: the rule",
    }
    for neuron in table1.NEURONS:
        for pretrain in (True, False):
            table["cells"]["mnist"][pretrain][neuron] = table1.summarize_cell(runs[pretrain])
        table["equivalent"]["mnist"][neuron] = table1.paired_tests(runs[True], runs[False])
    markdown = table1.table1_markdown(table)
    assert "bold: the rule" in markdown and "protocol: paper" in markdown
    assert "**1.20%** (seed 1 collapsed) [1.20%]" in markdown
    assert "skipped seeds [1]" in markdown


@pytest.mark.parametrize(
    "name, expected",
    [("mnist", "mnist"), ("norb", "norb"), ("mnist_subset", "mnist_subset")],
)
def test_registered_names_are_their_own_folder(name, expected):
    assert table1.run_folder_name(name) == expected


def test_file_data_sets_get_one_safe_folder_each():
    a = table1.run_folder_name("idx:/a/b")
    b = table1.run_folder_name("idx:/c/b")
    npz = table1.run_folder_name("npz:/tmp/my data.npz")
    for name in (a, b, npz):
        assert "/" not in name and ":" not in name and " " not in name and name
    assert a.startswith("idx_b_") and a != b
    assert npz.startswith("npz_my_data.npz_")


def test_each_data_set_gets_the_papers_architecture():
    assert table1.paper_architecture("norb") == (4000, 2000)
    assert table1.paper_architecture("mnist") == (1000, 1000, 1000)
    assert table1.paper_architecture("cifar10") == (1000, 1000, 1000)


def test_rows_and_the_l1_penalty_reach_each_runs_config(monkeypatch, tmp_path):
    from keras_sparse_rect.experiments.configs import ImageExperimentConfig

    trained = []

    def fake_run_or_load(config, data, strategy, verbose=1):
        trained.append(config)
        return {"test_error": 0.02, "test_correct": np.ones(10, dtype=bool), "sparsity": 0.8}

    monkeypatch.setattr(suite, "run_or_load", fake_run_or_load)
    base = ImageExperimentConfig(l1=0.002, model_dir=str(tmp_path)).validate()
    table = table1.run_table1(
        base, ["mnist"], [0], lambda name: None, None, neurons=["tanh", "rectifier"]
    )
    assert [(c.activation, c.pretrain, c.l1) for c in trained] == [
        ("rectifier", True, 0.002),
        ("rectifier", False, 0.002),
        ("tanh", True, 0.0),
        ("tanh", False, 0.0),
    ]
    assert table["neurons"] == ["rectifier", "tanh"] and table["l1_neurons"] == ["rectifier"]
    markdown = table1.table1_markdown(table)
    assert "| Tanh |" in markdown and "Softplus" not in markdown
    assert "L1 activation penalty on: rectifier" in markdown
    trained.clear()
    table1.run_table1(base, ["mnist"], [0], lambda name: None, None, l1_neurons=())
    assert {c.l1 for c in trained} == {0.0}


@pytest.mark.parametrize(
    "neurons, l1_neurons", [([], ()), (["relu"], ()), ("tanh", ()), (["tanh"], ["tanh", "tanh"])]
)
def test_bad_neuron_lists_raise(neurons, l1_neurons, tmp_path):
    from keras_sparse_rect.experiments.configs import ImageExperimentConfig

    base = ImageExperimentConfig(model_dir=str(tmp_path)).validate()
    with pytest.raises(ValueError, match="neurons"):
        table1.run_table1(
            base, ["mnist"], [0], lambda n: None, None, neurons=neurons, l1_neurons=l1_neurons
        )
