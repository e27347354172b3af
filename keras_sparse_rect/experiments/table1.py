"""Table 1: test error of rectifier, tanh and softplus networks, with and without pretraining.

For each data set, seed and neuron type the network is trained twice, with and
without greedy layer-wise pretraining (section 4.1). Errors are averaged over
seeds. As in the paper, a pair (same neuron type and data set, with and without
pretraining) is **bold** when the two are statistically equivalent: McNemar's
test (:mod:`keras_sparse_rect.stats`) on the test predictions, pooled over seeds
(each example of each seed is one pair), does not reject equal error rates at
p = 0.05.
"""

import dataclasses
import os

import numpy as np

from keras_sparse_rect import stats
from keras_sparse_rect.experiments.suite import run_or_load

NEURONS = ("rectifier", "tanh", "softplus")
PAPER = {  # Table 1 of the paper: test error (%)
    True: {
        "rectifier": {"mnist": 1.20, "cifar10": 49.96, "nistp": 32.86, "norb": 16.46},
        "tanh": {"mnist": 1.16, "cifar10": 50.79, "nistp": 35.89, "norb": 17.66},
        "softplus": {"mnist": 1.17, "cifar10": 49.52, "nistp": 33.27, "norb": 19.19},
    },
    False: {
        "rectifier": {"mnist": 1.43, "cifar10": 50.86, "nistp": 32.64, "norb": 16.40},
        "tanh": {"mnist": 1.57, "cifar10": 52.62, "nistp": 36.46, "norb": 19.29},
        "softplus": {"mnist": 1.77, "cifar10": 53.20, "nistp": 35.48, "norb": 17.68},
    },
}


def run_table1(base_config, datasets, seeds, load_data, strategy, verbose=1, alpha=0.05):
    """Trains (or reloads) every cell of Table 1.

    Args:
        base_config: an ``ImageExperimentConfig`` with the shared settings; its
            ``model_dir`` is the root of the grid.
        datasets: data set names.
        seeds: ints; each cell is averaged over them.
        load_data: ``name -> ImageDataset``.
        strategy: the distribution strategy every run uses.
        alpha: significance level of the equivalence test.

    Returns:
        A dict: ``cells[dataset][pretrain][neuron]`` with the mean test error,
        its standard deviation over seeds and the runs' folders, and
        ``equivalent[dataset][neuron]`` with McNemar's ``b``, ``c``, p-value and
        whether the pair is equivalent.
    """
    cells, equivalent = {}, {}
    for dataset in datasets:
        data = load_data(dataset)
        cells[dataset] = {True: {}, False: {}}
        equivalent[dataset] = {}
        for neuron in NEURONS:
            correct = {True: [], False: []}
            for pretrain in (True, False):
                errors, dirs = [], []
                for seed in seeds:
                    name = (
                        f"{dataset}/{neuron}_{'pretrain' if pretrain else 'nopretrain'}_seed{seed}"
                    )
                    config = dataclasses.replace(
                        base_config,
                        dataset=dataset,
                        activation=neuron,
                        pretrain=pretrain,
                        seed=seed,
                        model_dir=os.path.join(base_config.model_dir, name),
                    )
                    result = run_or_load(config, data, strategy, verbose=verbose)
                    errors.append(result["test_error"])
                    dirs.append(config.model_dir)
                    correct[pretrain].append(result["test_correct"])
                cells[dataset][pretrain][neuron] = {
                    "test_error": float(np.mean(errors)),
                    "std": float(np.std(errors)),
                    "errors": errors,
                    "runs": dirs,
                }
            test = stats.mcnemar_test(np.concatenate(correct[True]), np.concatenate(correct[False]))
            equivalent[dataset][neuron] = {**test, "equivalent": test["p_value"] >= alpha}
    return {"cells": cells, "equivalent": equivalent, "seeds": list(seeds), "alpha": alpha}


def table1_markdown(table):
    """Table 1 in the paper's layout, with the paper's figures beside ours."""
    datasets = list(table["cells"])
    lines = [
        "Test error (%), mean over seeds "
        f"{table['seeds']}. **Bold**: with and without pre-training statistically equivalent "
        f"(McNemar, p >= {table['alpha']}). In parentheses: the paper's figure.",
        "",
        "| Neuron | " + " | ".join(datasets) + " |",
        "| --- | " + " | ".join("---" for _ in datasets) + " |",
    ]
    for pretrain, title in (
        (True, "With unsupervised pre-training"),
        (False, "Without unsupervised pre-training"),
    ):
        lines.append(f"| *{title}* | " + " | ".join("" for _ in datasets) + " |")
        for neuron in NEURONS:
            row = []
            for dataset in datasets:
                cell = table["cells"][dataset][pretrain][neuron]
                text = f"{100 * cell['test_error']:.2f}%"
                if len(cell["errors"]) > 1:
                    text += f" ± {100 * cell['std']:.2f}"
                if table["equivalent"][dataset][neuron]["equivalent"]:
                    text = f"**{text}**"
                paper = PAPER[pretrain][neuron].get(_paper_name(dataset))
                if paper is not None:
                    text += f" ({paper:.2f}%)"
                row.append(text)
            lines.append(f"| {neuron.capitalize()} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _paper_name(dataset):
    return {"mnist_subset": "mnist", "smallnorb": None}.get(dataset, dataset)


def table1_json(table):
    """A JSON-ready copy of ``table`` (string keys)."""
    return {
        **table,
        "cells": {
            d: {("pretrain" if p else "no_pretrain"): v for p, v in by_p.items()}
            for d, by_p in table["cells"].items()
        },
    }
