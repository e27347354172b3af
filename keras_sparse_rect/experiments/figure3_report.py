"""Figure 3's files: the per-run and summary CSVs, the PNGs, and the paired tests.

The rows come from :func:`keras_sparse_rect.experiments.figure3.run_labeled_fraction`
and :func:`~keras_sparse_rect.experiments.figure3.run_sparsity_sweep`. Several
seeds of a point give its mean and, as error bar, their standard deviation
(``std``, over seeds). Each pretrained / not pretrained pair of one seed is
compared with McNemar's exact test on the test predictions
(:mod:`keras_sparse_rect.stats`, as Table 1), per seed, never pooled.
"""

import csv
import io
import os

import numpy as np

from keras_sparse_rect import results, stats

#: Figure 3 (left): "models with 70% to almost 85% of true zeros can achieve similar
#: performances".
PAPER_SPARSITY_BAND = (0.70, 0.85)
#: Test errors (%) the right panel may label on its log axis.
_ERROR_TICKS = (0.5, 0.7, 1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 70, 100)
_RUN_COLUMNS = (
    "activation",
    "pretrain",
    "seed",
    "labeled_fraction",
    "labeled",
    "l1",
    "test_error",
    "validation_error",
    "sparsity",
    "best_epoch",
    "epochs_trained",
    "updates",
    "wall_time_s",
    "diverged",
    "capped",
)


def summarize_labeled_fraction(rows):
    """One summary per (neuron type, fraction): both curves' mean and seed spread, and
    McNemar's test of each seed's pair.

    >>> row = lambda p, s, c: {"activation": "tanh", "pretrain": p, "seed": s,
    ...     "labeled_fraction": 0.1, "labeled": 10, "test_error": 1 - np.mean(c),
    ...     "test_correct": np.array(c, bool)}
    >>> (point,) = summarize_labeled_fraction([row(True, 0, [1, 1, 1]), row(False, 0, [1, 0, 0])])
    >>> point["pretrained_mean"], round(point["not_pretrained_mean"], 3), point["tests"][0]["b"]
    (0.0, 0.667, 2)
    """
    points = []
    keys = sorted({(r["activation"], r["labeled_fraction"]) for r in rows})
    for activation, fraction in keys:
        runs = {
            pretrain: {
                r["seed"]: r
                for r in rows
                if (r["activation"], r["labeled_fraction"], r["pretrain"])
                == (activation, fraction, pretrain)
            }
            for pretrain in (True, False)
        }
        point = {"activation": activation, "labeled_fraction": fraction}
        for pretrain, name in ((True, "pretrained"), (False, "not_pretrained")):
            errors = [runs[pretrain][s]["test_error"] for s in sorted(runs[pretrain])]
            point[f"{name}_mean"] = float(np.mean(errors)) if errors else None
            point[f"{name}_std"] = float(np.std(errors)) if errors else None
            point[f"{name}_seeds"] = len(errors)
            point[f"{name}_capped"] = sum(bool(r.get("capped")) for r in runs[pretrain].values())
        labeled = [r["labeled"] for seed_runs in runs.values() for r in seed_runs.values()]
        point["labeled"] = int(np.mean(labeled))
        point["tests"] = [
            {
                "seed": seed,
                **stats.mcnemar_test(run["test_correct"], runs[False][seed]["test_correct"]),
            }
            for seed, run in sorted(runs[True].items())
            if seed in runs[False]
        ]
        points.append(point)
    return points


def _csv_text(rows, columns):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path, rows, columns=None):
    """Writes ``rows`` (dicts) as CSV atomically; ``columns`` default to the first row's keys."""
    columns = columns or [k for k in rows[0] if k != "test_correct"]
    return results.write_text_atomic(path, _csv_text(rows, columns))


def summary_rows(points):
    """Flat rows of :func:`summarize_labeled_fraction` for a CSV (p-values per seed joined)."""
    flat = []
    for point in points:
        row = {k: v for k, v in point.items() if k != "tests"}
        row["p_values"] = ";".join(f"seed{t['seed']}:{t['p_value']:.3g}" for t in point["tests"])
        row["b_c"] = ";".join(f"seed{t['seed']}:{t['b']}/{t['c']}" for t in point["tests"])
        flat.append(row)
    return flat


def points_markdown(points):
    """A Markdown table of :func:`summarize_labeled_fraction`'s points (errors in %)."""

    def cell(point, name):
        mean = point[f"{name}_mean"]
        if mean is None:
            return "-"
        spread = f" ± {100 * point[f'{name}_std']:.2f}" if point[f"{name}_seeds"] > 1 else ""
        mark = "*" * bool(point.get(f"{name}_capped"))
        return f"{100 * mean:.2f}%{spread} ({point[f'{name}_seeds']}){mark}"

    lines = [
        "| Neuron | Labeled | With pre-training (seeds) | Without (seeds) | Gain (points) "
        "| McNemar per seed: b / c, p |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for point in points:
        both = point["pretrained_mean"] is not None and point["not_pretrained_mean"] is not None
        gain = (
            f"{100 * (point['not_pretrained_mean'] - point['pretrained_mean']):+.2f}"
            if both
            else "-"
        )
        tests = "; ".join(
            f"seed {t['seed']}: {t['b']} / {t['c']}, p = {t['p_value']:.2g}" for t in point["tests"]
        )
        lines.append(
            f"| {point['activation']} | {100 * point['labeled_fraction']:g}% ({point['labeled']}) "
            f"| {cell(point, 'pretrained')} | {cell(point, 'not_pretrained')} | {gain} "
            f"| {tests or '-'} |"
        )
    if any(p.get("pretrained_capped") or p.get("not_pretrained_capped") for p in points):
        lines += ["", "\\* the epoch cap stopped a run of this point before its patience ran out."]
    return "\n".join(lines) + "\n"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    with results.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    return path


def plot_sparsity_sweep(rows, path, title=""):
    """Figure 3 (left): test error against average sparsity, the paper's 70-85% band shaded."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    low, high = PAPER_SPARSITY_BAND
    ax.axvspan(100 * low, 100 * high, color="0.9", label="paper: 70-85% zeros")
    points = ax.scatter(
        [100 * r["sparsity"] for r in rows],
        [100 * r["test_error"] for r in rows],
        c=[r["l1"] for r in rows],
        cmap="viridis",
        zorder=3,
    )
    fig.colorbar(points, ax=ax, label="L1 coefficient")
    ax.set_xlabel("average exact sparsity of the hidden layers, test set (%)")
    ax.set_ylabel("test error (%)")
    ax.set_title(title or "Influence of final sparsity on accuracy")
    ax.legend(loc="upper left")
    path = _save(fig, path)
    plt.close(fig)
    return path


def plot_labeled_fraction(points, path, title=""):
    """Figure 3 (right): test error against labeled fraction; error bars: spread over seeds."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for activation, color in (("rectifier", "tab:blue"), ("tanh", "tab:red")):
        for name, style, words in (
            ("pretrained", "-", "with"),
            ("not_pretrained", "--", "without"),
        ):
            series = [
                p for p in points if p["activation"] == activation and p[f"{name}_mean"] is not None
            ]
            if series:
                ax.errorbar(
                    [100 * p["labeled_fraction"] for p in series],
                    [100 * p[f"{name}_mean"] for p in series],
                    yerr=[100 * p[f"{name}_std"] for p in series],
                    fmt=style,
                    color=color,
                    marker="o",
                    capsize=3,
                    label=f"{activation}, {words} pre-training",
                )
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    fractions = sorted({100 * p["labeled_fraction"] for p in points})
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(fractions, [f"{f:g}" for f in fractions])
    ax.xaxis.set_minor_formatter(NullFormatter())
    errors = [
        100 * p[f"{name}_mean"]
        for p in points
        for name in ("pretrained", "not_pretrained")
        if p[f"{name}_mean"]
    ]
    # Round values over the whole range: log ticks alone label only 10 between 10% and 100%.
    ticks = [t for t in _ERROR_TICKS if errors and min(errors) / 1.1 <= t <= max(errors) * 1.1]
    if len(ticks) >= 2:
        ax.set_yticks(ticks)
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("labeled training examples (%)")
    ax.set_ylabel("test error (%)")
    ax.set_title(title or "Effect of unsupervised pre-training")
    ax.legend()
    path = _save(fig, path)
    plt.close(fig)
    return path


def write_figure(folder, name, rows, title=""):
    """The CSVs and the PNG of one panel in ``folder``; returns the paths written.

    ``name`` is ``"labeled_fraction"`` (right: ``<name>_runs.csv`` per run,
    ``<name>.csv`` per point with means, spreads and p-values) or
    ``"sparsity_sweep"`` (left: ``<name>.csv`` per network); the right panel
    also gets ``<name>.md``, its points as a Markdown table
    (:func:`points_markdown`).
    """
    csv_path = os.path.join(folder, f"{name}.csv")
    png_path = os.path.join(folder, f"{name}.png")
    columns = [c for c in _RUN_COLUMNS if any(c in r for r in rows)]
    if name == "labeled_fraction":
        points = summarize_labeled_fraction(rows)
        runs_path = write_csv(os.path.join(folder, f"{name}_runs.csv"), rows, columns)
        write_csv(csv_path, summary_rows(points))
        table = results.write_text_atomic(
            os.path.join(folder, f"{name}.md"), points_markdown(points)
        )
        plot_labeled_fraction(points, png_path, title)
        return [csv_path, runs_path, table, png_path]
    write_csv(csv_path, rows, columns)
    plot_sparsity_sweep(rows, png_path, title)
    return [csv_path, png_path]
