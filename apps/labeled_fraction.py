"""Figure 3 (right): rectifier and tanh, with and without pretraining, on growing label fractions.

    python -m apps.labeled_fraction                     # offline: mnist_subset
    python -m apps.labeled_fraction --dataset=norb --hidden_units=4000,2000 \
        --fractions=0.01,0.05,0.1,0.25,0.5,1

Pretraining always uses the whole training set as unlabeled data. Writes
``--model_dir``/labeled_fraction.csv and labeled_fraction.png.
"""

import os

from absl import app, flags

from . import flags as app_flags

app_flags.define_common_flags(model_dir="runs/labeled_fraction", dataset="mnist_subset")
flags.DEFINE_list("fractions", ["0.1", "0.5", "1.0"], "Fractions of the labeled training set.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    config = app_flags.config_from_flags()
    try:
        fractions = sorted(float(f) for f in FLAGS.fractions)
    except ValueError:
        app_flags.fail(f"--fractions must be numbers in (0, 1]; got {FLAGS.fractions!r}")
    if not fractions or not all(0.0 < f <= 1.0 for f in fractions):
        app_flags.fail(f"--fractions must be numbers in (0, 1]; got {FLAGS.fractions!r}")
    strategy, data = app_flags.strategy_and_data(config)
    from keras_sparse_rect import distribute
    from keras_sparse_rect.experiments import figure3

    with app_flags.run_conflicts_fail():
        rows = figure3.run_labeled_fraction(
            config, data, strategy, fractions, app_flags.verbosity()
        )
    csv_path = os.path.join(config.model_dir, "labeled_fraction.csv")
    png_path = os.path.join(config.model_dir, "labeled_fraction.png")
    if distribute.is_chief():
        figure3.write_csv(csv_path, rows)
        figure3.plot_labeled_fraction(rows, png_path, title=f"{config.dataset}: labeled fraction")
    for row in rows:
        print(
            f"{row['activation']:>9} {'with' if row['pretrain'] else 'without':>7} pre-training, "
            f"{100 * row['labeled_fraction']:5.1f}% labeled: "
            f"test error {100 * row['test_error']:.2f}%"
        )
    print(f"results: {csv_path}, {png_path}")


def run():
    """The ``ksr-labeled-fraction`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
