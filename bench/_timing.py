"""Timing helpers shared by the bench scripts: alternating rounds, within-round ratios.

On a small shared machine one timing varies by +-30% from one second to the next, more than
the effects measured. So every script times its variants in rounds, alternating (in an order
rotated every round), and reports the **median over rounds of the ratio within a round** to
a baseline, with its interquartile range; a second copy of the baseline timed the same way
gives the run's noise floor.
"""

import statistics

import numpy as np


def alternate(timer, names, rounds):
    """``timer(name)`` (examples/s) for each name in ``rounds`` rounds, in rotated orders.

    Round r starts at the r-th name: every variant takes every position equally often and
    none runs twice in a row (reversing the order every other round ran the first and last
    names twice in a row, with their weights still in cache, and favoured them by ~10%).
    """
    speeds = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            speeds[name].append(timer(name))
    return speeds


def summarize(speeds, baseline):
    """name -> (median examples/s, median within-round ratio to baseline, q25, q75)."""
    out = {}
    for name, values in speeds.items():
        ratios = [v / b for v, b in zip(values, speeds[baseline], strict=True)]
        q25, q75 = np.quantile(ratios, [0.25, 0.75])
        out[name] = (statistics.median(values), statistics.median(ratios), q25, q75)
    return out


def report(title, summary, baseline):
    """Prints one line per variant: median examples/s and its ratio to ``baseline``."""
    print(f"  {title}")
    for name, (speed, ratio, q25, q75) in summary.items():
        versus = f", {ratio:.2f} x {baseline} (IQR {q25:.2f}-{q75:.2f})" if name != baseline else ""
        print(f"    {name:>22s}: {speed:>7.0f} ex/s{versus}")
