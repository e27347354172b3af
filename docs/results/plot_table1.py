"""Draws Table 1 as a grouped bar chart, measured against the paper.

Reads the first table of ``docs/results/table1.md`` (the measured cells, each with the
paper's figure in brackets), so the chart cannot disagree with the page:

    python docs/results/plot_table1.py   # writes docs/results/table1.png
"""

import argparse
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
CELL = re.compile(r"(\d+\.\d+)%\**\s*\[(\d+\.\d+)%")


def read_table(page):
    """``{neuron: [(measured, paper) with pre-training, (measured, paper) without]}``."""
    cells = {}
    for line in page.read_text().splitlines():
        parts = [part.strip() for part in line.strip().strip("|").split("|")]
        if len(parts) >= 3 and parts[0] in ("Rectifier", "Tanh", "Softplus"):
            pairs = [CELL.search(part) for part in parts[1:3]]
            if all(pairs):
                cells.setdefault(parts[0], [(float(m[1]), float(m[2])) for m in pairs])
    if len(cells) != 3:
        raise ValueError(f"{page}: expected the Rectifier, Tanh and Softplus rows; got {cells}")
    return cells


def plot(cells, output):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, measured, paper = [], [], []
    for neuron, pair in cells.items():
        for (ours, theirs), kind in zip(pair, ("pre-trained", "no pre-training"), strict=True):
            labels.append(f"{neuron}\n{kind}")
            measured.append(ours)
            paper.append(theirs)
    positions = range(len(labels))
    width = 0.38
    figure, axes = plt.subplots(figsize=(8, 3.6), dpi=100)
    bars = axes.bar([p - width / 2 for p in positions], measured, width, label="measured")
    theirs = axes.bar([p + width / 2 for p in positions], paper, width, label="paper", color="0.7")
    axes.bar_label(bars, fmt="%.2f", fontsize=8)
    axes.bar_label(theirs, fmt="%.2f", fontsize=8, color="0.4")
    axes.set_xticks(list(positions), labels, fontsize=8)
    axes.set_ylabel("MNIST test error (%)")
    axes.set_title("Table 1 on full MNIST: measured (seed 0) against the paper")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    figure.savefig(output, metadata={"Software": None})
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", type=pathlib.Path, default=HERE / "table1.md")
    parser.add_argument("--output", type=pathlib.Path, default=HERE / "table1.png")
    args = parser.parse_args()
    plot(read_table(args.page), args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
