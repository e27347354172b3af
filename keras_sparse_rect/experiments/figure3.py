"""Figure 3: sparsity vs test error (left), and pretraining with few labels (right).

Left: rectifier networks trained with L1 penalties spread from 0 to 0.001 (the
paper trained 200 on MNIST); each gives one point (average sparsity, test
error). Right: rectifier and tanh networks, with and without pretraining on the
whole training set (unlabeled), fine-tuned on growing fractions of the labels
(the paper used NORB). Both write a CSV and a PNG, atomically.
"""

import csv
import dataclasses
import io
import os

import numpy as np

from keras_sparse_rect import results
from keras_sparse_rect.experiments.suite import run_or_load


def l1_values(count, high=1e-3):
    """``count`` L1 coefficients evenly spread over [0, ``high``]."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be an int >= 1; got count={count!r}.")
    return [0.0] if count == 1 else [float(v) for v in np.linspace(0.0, high, count)]


def run_sparsity_sweep(base_config, data, strategy, l1s, verbose=1):
    """One rectifier network per L1 value; returns one row per network."""
    rows = []
    for index, l1 in enumerate(l1s):
        config = dataclasses.replace(
            base_config,
            activation="rectifier",
            l1=l1,
            seed=base_config.seed + index,
            model_dir=os.path.join(
                base_config.model_dir, f"l1_{l1:.6f}_seed{base_config.seed + index}"
            ),
        )
        result = run_or_load(config, data, strategy, verbose=verbose)
        rows.append(
            {
                "l1": l1,
                "seed": config.seed,
                "sparsity": result["sparsity"],
                "test_error": result["test_error"],
                "validation_error": result["validation_error"],
            }
        )
    return rows


def run_labeled_fraction(base_config, data, strategy, fractions, verbose=1):
    """Rectifier and tanh, with and without pretraining, on each labeled fraction."""
    rows = []
    for fraction in fractions:
        for activation in ("rectifier", "tanh"):
            for pretrain in (True, False):
                name = f"{activation}_{'pretrain' if pretrain else 'nopretrain'}_{fraction:.4f}"
                config = dataclasses.replace(
                    base_config,
                    activation=activation,
                    pretrain=pretrain,
                    labeled_fraction=fraction,
                    model_dir=os.path.join(base_config.model_dir, name),
                )
                result = run_or_load(config, data, strategy, verbose=verbose)
                rows.append(
                    {
                        "labeled_fraction": fraction,
                        "labeled": result["dataset"]["labeled"],
                        "activation": activation,
                        "pretrain": pretrain,
                        "test_error": result["test_error"],
                        "sparsity": result["sparsity"],
                    }
                )
    return rows


def write_csv(path, rows):
    """Writes ``rows`` (dicts with the same keys) as CSV, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return results.write_text_atomic(path, buffer.getvalue())


def _save_figure(fig, path):
    with results.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")


def plot_sparsity_sweep(rows, path, title=""):
    """Figure 3 (left): test error against average sparsity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    points = ax.scatter(
        [100 * r["sparsity"] for r in rows],
        [100 * r["test_error"] for r in rows],
        c=[r["l1"] for r in rows],
        cmap="viridis",
    )
    fig.colorbar(points, ax=ax, label="L1 coefficient")
    ax.set_xlabel("average sparsity (%)")
    ax.set_ylabel("test error (%)")
    ax.set_title(title or "Influence of final sparsity on accuracy")
    _save_figure(fig, path)
    plt.close(fig)
    return path


def plot_labeled_fraction(rows, path, title=""):
    """Figure 3 (right): test error against the fraction of labeled examples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for activation, color in (("rectifier", "tab:blue"), ("tanh", "tab:red")):
        for pretrain, style in ((True, "-"), (False, "--")):
            series = sorted(
                (r["labeled_fraction"], r["test_error"])
                for r in rows
                if r["activation"] == activation and r["pretrain"] == pretrain
            )
            if series:
                ax.plot(
                    [100 * f for f, _ in series],
                    [100 * e for _, e in series],
                    style,
                    color=color,
                    marker="o",
                    label=f"{activation}, {'with' if pretrain else 'without'} pre-training",
                )
    ax.set_xlabel("labeled training examples (%)")
    ax.set_ylabel("test error (%)")
    ax.set_title(title or "Effect of unsupervised pre-training")
    ax.legend()
    _save_figure(fig, path)
    plt.close(fig)
    return path
