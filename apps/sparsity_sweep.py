"""Figure 3 (left): rectifier networks with L1 from 0 to 0.001, test error against sparsity.

    python -m apps.sparsity_sweep                      # offline: mnist_subset, 5 networks
    python -m apps.sparsity_sweep --dataset=mnist --num_networks=200

Writes ``--model_dir``/sparsity_sweep.csv and sparsity_sweep.png.
"""

import math
import os

from absl import app, flags

from . import flags as app_flags

app_flags.define_common_flags(model_dir="runs/sparsity_sweep", dataset="mnist_subset")
flags.DEFINE_integer("num_networks", 5, "Number of networks (the paper: 200).")
flags.DEFINE_float("max_l1", 1e-3, "Largest L1 coefficient (the paper: 0.001).")
flags.DEFINE_boolean("pretrain", False, "Pretrain each network (the paper's Figure 3: no).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    config = app_flags.config_from_flags(pretrain=FLAGS.pretrain)
    if FLAGS.num_networks < 1:
        app_flags.fail(
            f"--num_networks must be an int >= 1; got --num_networks={FLAGS.num_networks}"
        )
    if not math.isfinite(FLAGS.max_l1) or FLAGS.max_l1 < 0:
        app_flags.fail(f"--max_l1 must be a finite number >= 0; got --max_l1={FLAGS.max_l1}")
    from keras_sparse_rect import distribute
    from keras_sparse_rect.experiments import figure3

    l1s = figure3.l1_values(FLAGS.num_networks, FLAGS.max_l1)
    strategy, data = app_flags.strategy_and_data(config)
    with app_flags.run_conflicts_fail():
        rows = figure3.run_sparsity_sweep(
            config, data, strategy, l1s, verbose=app_flags.verbosity()
        )
    csv_path = os.path.join(config.model_dir, "sparsity_sweep.csv")
    png_path = os.path.join(config.model_dir, "sparsity_sweep.png")
    if distribute.is_chief():
        figure3.write_csv(csv_path, rows)
        figure3.plot_sparsity_sweep(rows, png_path, title=f"{config.dataset}: sparsity vs error")
    for row in rows:
        print(
            f"l1 {row['l1']:.6f}: sparsity {100 * row['sparsity']:.1f}%, "
            f"test error {100 * row['test_error']:.2f}%"
        )
    print(f"results: {csv_path}, {png_path}")


def run():
    """The ``ksr-sparsity-sweep`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
