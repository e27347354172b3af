"""Table 1: test error of rectifier, tanh and softplus networks, with and without pretraining.

For each data set, seed and neuron type the network is trained twice, with and
without greedy layer-wise pretraining (section 4.1), each data set with the
paper's architecture (:data:`PAPER_ARCHITECTURES`) unless ``hidden_units`` is
given. The table is honest about its runs:

- **Excluded runs.** A run that diverged (NaN loss or predictions) or whose
  pretraining collapsed (a layer with more dead units than the run's
  ``collapse_threshold``) is marked in its cell and not averaged into it; a
  cell with no valid run shows why instead of a number.
- **The paired test, per seed.** The paper bolds a pair (same neuron type and
  data set, with and without pretraining) that is "statistically equivalent
  ... under the pairwise test with p = 0.05", without naming the test. For each
  seed whose two runs are both valid we run McNemar's exact test
  (:mod:`keras_sparse_rect.stats`) on that seed's test predictions. Pooling the
  predictions of several seeds would treat the same test example seen by
  several networks as independent pairs, which makes more seeds look more
  significant; it is not done.
- **The bold rule** (:func:`equivalent`): bold when at least half of the seeds
  with a valid pair do not reject equal error rates at ``alpha`` (with one seed,
  the paper's rule). No valid pair: not bold.
- **The L1 penalty, rectifiers only** (``l1_neurons``). Section 4.1 states the
  L1 penalty on the activations ("coefficient of 0.001 ... during pre-training
  and fine-tuning") in its paragraph on rectifier networks, beside the sign
  flip, and reports sparsity for rectifiers only; the tanh and softplus rows
  are trained with no activation penalty unless ``l1_neurons`` names them.
"""

import hashlib
import os
import re

import numpy as np

from keras_sparse_rect import stats
from keras_sparse_rect.experiments.suite import run_grid

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
#: The paper's average hidden-layer sparsity of its rectifier networks (section 4.1).
PAPER_SPARSITY = 0.834
#: Section 4.1: 3 hidden layers of 1000 units, except NORB (4000 and 2000 units).
DEFAULT_ARCHITECTURE = (1000, 1000, 1000)
PAPER_ARCHITECTURES = {"norb": (4000, 2000)}
#: Section 4.1: the L1 activation penalty belongs to the rectifier networks.
L1_NEURONS = ("rectifier",)


def check_neurons(name, values, allow_empty=True):
    """``values`` as a tuple of neuron types in :data:`NEURONS` order; ValueError otherwise.

    >>> check_neurons("neurons", ["tanh", "rectifier"])
    ('rectifier', 'tanh')
    """
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise ValueError(f"`{name}` must be a list of neuron types; got {name}={values!r}.")
    values = list(values)
    unknown = [v for v in values if v not in NEURONS]
    if unknown or (not values and not allow_empty) or len(set(values)) != len(values):
        raise ValueError(
            f"`{name}` must name {'' if allow_empty else 'at least one of '}"
            f"{', '.join(NEURONS)}, each once; got {name}={values!r}."
        )
    return tuple(n for n in NEURONS if n in values)


def paper_architecture(dataset):
    """The hidden layers section 4.1 uses for ``dataset``."""
    return PAPER_ARCHITECTURES.get(_paper_name(dataset), DEFAULT_ARCHITECTURE)


def run_folder_name(dataset):
    """A single, safe folder name for a data set's runs.

    Registered names stay as they are; ``idx:DIR`` and ``npz:FILE`` become the
    source and the file's base name, with a short hash of the whole name so
    that two files of the same name do not share a folder:
    ``"idx:/a/b"`` -> ``"idx_b_<8 hex digits>"``.
    """
    if re.fullmatch(r"[A-Za-z0-9_.-]+", dataset) and dataset not in (".", ".."):
        return dataset
    source, _, argument = dataset.partition(":")
    base = os.path.basename(os.path.normpath(argument)) if argument else ""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{source}_{base}").strip("._") or "dataset"
    digest = hashlib.sha256(dataset.encode("utf-8")).hexdigest()[:8]
    return f"{stem[:60]}_{digest}"


def run_status(result):
    """``"ok"``, ``"diverged"`` or ``"collapsed"`` of one run's result dict."""
    if result.get("diverged") or not np.isfinite(result.get("test_error", np.nan)):
        return "diverged"
    if result.get("collapsed"):
        return "collapsed"
    return "ok"


def summarize_cell(runs):
    """The cell of a list of runs (``seed``, ``test_error``, ``status``, ...).

    Only runs with status ``"ok"`` are averaged; the others are listed in
    ``excluded`` with their status.
    """
    valid = [run for run in runs if run["status"] == "ok"]
    errors = [run["test_error"] for run in valid]
    sparsity = [run["sparsity"] for run in valid if run.get("sparsity") is not None]
    return {
        "test_error": float(np.mean(errors)) if errors else None,
        "std": float(np.std(errors)) if errors else None,
        "errors": errors,
        "seeds": [run["seed"] for run in valid],
        "sparsity": float(np.mean(sparsity)) if sparsity else None,
        "excluded": [
            {"seed": run["seed"], "status": run["status"]} for run in runs if run not in valid
        ],
        "runs": [run.get("model_dir") for run in runs],
    }


def paired_tests(pretrained, not_pretrained, alpha=0.05):
    """McNemar's test per seed between the two halves of a pair; the bold verdict.

    Args:
        pretrained, not_pretrained: lists of runs with ``seed``, ``status`` and
            ``test_correct`` (booleans per test example).
        alpha: significance level.

    Returns:
        ``{"per_seed": [{"seed", "b", "c", "p_value", "rejects"}], "equivalent": bool,
        "p_value": median p-value over seeds or None}``; seeds where either run is
        not valid are left out (``skipped_seeds``).
    """
    others = {run["seed"]: run for run in not_pretrained}
    per_seed, skipped = [], []
    for run in pretrained:
        other = others.get(run["seed"])
        if other is None or run["status"] != "ok" or other["status"] != "ok":
            skipped.append(run["seed"])
            continue
        test = stats.mcnemar_test(run["test_correct"], other["test_correct"])
        per_seed.append({"seed": run["seed"], **test, "rejects": test["p_value"] < alpha})
    return {
        "per_seed": per_seed,
        "skipped_seeds": skipped,
        "equivalent": equivalent(per_seed),
        "p_value": float(np.median([t["p_value"] for t in per_seed])) if per_seed else None,
    }


def equivalent(per_seed):
    """The bold rule: at least half of the seeds' tests do not reject (none: False)."""
    if not per_seed:
        return False
    accepted = sum(not test["rejects"] for test in per_seed)
    return 2 * accepted >= len(per_seed)


def run_table1(
    base_config,
    datasets,
    seeds,
    load_data,
    strategy,
    verbose=1,
    alpha=0.05,
    hidden_units=None,
    neurons=NEURONS,
    l1_neurons=L1_NEURONS,
):
    """Trains (or reloads) every cell of Table 1.

    Args:
        base_config: an ``ImageExperimentConfig`` with the shared settings; its
            ``model_dir`` is the root of the grid.
        datasets: data set names.
        seeds: ints; each cell is the mean over its valid runs.
        load_data: ``name -> ImageDataset``.
        strategy: the distribution strategy every run uses.
        alpha: significance level of the paired test.
        hidden_units: the hidden layers of every data set; ``None``: each data
            set's :func:`paper_architecture`.
        neurons: the rows to train, a subset of :data:`NEURONS` (for example one
            row per process, to run rows side by side into one ``model_dir``).
        l1_neurons: the neuron types trained with ``base_config.l1``; the others
            get no activation penalty (section 4.1 applies it to rectifiers).

    Returns:
        A dict: ``cells[dataset][pretrain][neuron]`` (:func:`summarize_cell`),
        ``equivalent[dataset][neuron]`` (:func:`paired_tests`), ``runs`` (one
        summary per run: status, error, sparsity, dead units, wall time), and
        the settings.
    """
    neurons = check_neurons("neurons", neurons, allow_empty=False)
    l1_neurons = check_neurons("l1_neurons", l1_neurons)
    cells, tests, runs_table = {}, {}, []
    for dataset in datasets:
        data = load_data(dataset)
        units = tuple(hidden_units) if hidden_units else paper_architecture(dataset)
        cells[dataset] = {True: {}, False: {}}
        tests[dataset] = {}
        for neuron in neurons:
            grid = [
                (
                    os.path.join(run_folder_name(dataset), _run_name(neuron, pretrain, seed)),
                    {
                        "dataset": dataset,
                        "activation": neuron,
                        "pretrain": pretrain,
                        "hidden_units": units,
                        "l1": base_config.l1 if neuron in l1_neurons else 0.0,
                        "seed": seed,
                    },
                )
                for pretrain in (True, False)
                for seed in seeds
            ]
            runs = {True: [], False: []}
            for config, result in run_grid(base_config, grid, data, strategy, verbose):
                run = _run_summary(
                    result, dataset, neuron, config.pretrain, config.seed, config.model_dir
                )
                runs_table.append({k: v for k, v in run.items() if k != "test_correct"})
                runs[config.pretrain].append(run)
            for pretrain in (True, False):
                cells[dataset][pretrain][neuron] = summarize_cell(runs[pretrain])
            tests[dataset][neuron] = paired_tests(runs[True], runs[False], alpha)
    return {
        "cells": cells,
        "equivalent": tests,
        "runs": runs_table,
        "seeds": list(seeds),
        "neurons": list(neurons),
        "l1_neurons": list(l1_neurons),
        "alpha": alpha,
        "protocol": base_config.protocol,
        "bold_rule": (
            "McNemar's exact test on each seed's test predictions does not reject equal "
            f"error rates at p = {alpha} for at least half of the seeds whose two runs are valid"
        ),
    }


def _run_name(neuron, pretrain, seed):
    return f"{neuron}_{'pretrain' if pretrain else 'nopretrain'}_seed{seed}"


def _run_summary(result, dataset, neuron, pretrain, seed, model_dir):
    pretraining = result.get("pretraining") or {}
    return {
        "dataset": dataset,
        "neuron": neuron,
        "pretrain": pretrain,
        "seed": seed,
        "status": run_status(result),
        "test_error": result["test_error"],
        "validation_error": result.get("validation_error"),
        "sparsity": result.get("sparsity") if neuron == "rectifier" else None,
        "dead_units_per_layer": result.get("dead_units_per_layer"),
        "dead_fraction_after_pretraining": pretraining.get("dead_fraction_per_layer"),
        "collapsed_layers": pretraining.get("collapsed_layers", []),
        "selection": result.get("selection") or {},
        "pretrain_learning_rates": pretraining.get("learning_rate_per_layer"),
        "wall_time_s": (result.get("timings_s") or {}).get("total"),
        "model_dir": model_dir,
        "test_correct": result["test_correct"],
    }


def _format_cell(cell, pretrain, neuron, dataset, test):
    if cell["test_error"] is None:
        reasons = sorted({e["status"] for e in cell["excluded"]}) or ["no run"]
        text = "/".join(reasons)
    else:
        text = f"{100 * cell['test_error']:.2f}%"
        if len(cell["errors"]) > 1:
            text += f" ± {100 * cell['std']:.2f}"
        if test["equivalent"]:
            text = f"**{text}**"
        if cell["excluded"]:
            text += (
                " (" + ", ".join(f"seed {e['seed']} {e['status']}" for e in cell["excluded"]) + ")"
            )
    paper = PAPER[pretrain][neuron].get(_paper_name(dataset))
    if paper is not None:
        text += f" [{paper:.2f}%]"
    return text


def table1_markdown(table):
    """Table 1 in the paper's layout, the paper's figures beside ours, then the details."""
    datasets = list(table["cells"])
    neurons = table.get("neurons", NEURONS)
    l1_neurons = table.get("l1_neurons")
    penalty = (
        ""
        if l1_neurons is None
        else " L1 activation penalty on: "
        + (", ".join(l1_neurons) if l1_neurons else "none")
        + " (section 4.1: rectifiers)."
    )
    lines = [
        f"Test error (%), mean over the valid runs of seeds {table['seeds']} "
        f"(protocol: {table.get('protocol', 'fixed')}). In brackets: the paper's figure. "
        f"**Bold**: {table['bold_rule']}. Runs that diverged or whose pretraining collapsed "
        f"are named in their cell and not averaged.{penalty}",
        "",
        "| Neuron | " + " | ".join(datasets) + " |",
        "| --- | " + " | ".join("---" for _ in datasets) + " |",
    ]
    for pretrain, title in (
        (True, "With unsupervised pre-training"),
        (False, "Without unsupervised pre-training"),
    ):
        lines.append(f"| *{title}* | " + " | ".join("" for _ in datasets) + " |")
        for neuron in neurons:
            row = [
                _format_cell(
                    table["cells"][d][pretrain][neuron],
                    pretrain,
                    neuron,
                    d,
                    table["equivalent"][d][neuron],
                )
                for d in datasets
            ]
            lines.append(f"| {neuron.capitalize()} | " + " | ".join(row) + " |")
    lines += ["", "Paired tests (McNemar, per seed):", ""]
    for dataset in datasets:
        for neuron in neurons:
            test = table["equivalent"][dataset][neuron]
            seeds = "; ".join(
                f"seed {t['seed']}: b={t['b']}, c={t['c']}, p={t['p_value']:.3g}"
                for t in test["per_seed"]
            )
            skipped = (
                f"; skipped seeds {test['skipped_seeds']} (a run not valid)"
                if test["skipped_seeds"]
                else ""
            )
            verdict = "equivalent" if test["equivalent"] else "not equivalent"
            lines.append(f"- {dataset}, {neuron}: {seeds or 'no valid pair'}{skipped}: {verdict}")
    lines += [
        "",
        "| Data set | Neuron | Pretrained | Seed | Status | Test error | Sparsity "
        "| Dead units after pretraining | Dead units after training | Rates | Wall time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in table.get("runs", []):
        after_pretraining = run.get("dead_fraction_after_pretraining") or {}
        rates = run.get("selection", {}).get("learning_rate")
        pre_rates = [r for r in (run.get("pretrain_learning_rates") or []) if r is not None]
        rate_text = (
            (f"pretrain {'/'.join(f'{r:g}' for r in pre_rates)}; " if pre_rates else "")
            + (f"fine-tune {rates:g}" if rates is not None else "")
        ) or "fixed"
        sparsity = "" if run["sparsity"] is None else f"{100 * run['sparsity']:.1f}%"
        wall = "" if run["wall_time_s"] is None else f"{run['wall_time_s']:.0f} s"
        dead_pre = ", ".join(f"{100 * v:.1f}%" for v in after_pretraining.values()) or "-"
        dead = ", ".join(str(v) for v in (run.get("dead_units_per_layer") or {}).values())
        lines.append(
            f"| {run['dataset']} | {run['neuron']} | {'yes' if run['pretrain'] else 'no'} "
            f"| {run['seed']} | {run['status']} | {100 * run['test_error']:.2f}% "
            f"| {sparsity} | {dead_pre} | {dead} | {rate_text} | {wall} |"
        )
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
