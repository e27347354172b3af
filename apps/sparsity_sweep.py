"""Figure 3 (left): rectifier networks with L1 from 0 to 0.001, test error against sparsity.

    python -m apps.sparsity_sweep                      # offline: mnist_subset, 5 networks
    KERAS_BACKEND=jax python -m apps.sparsity_sweep --dataset=mnist --num_networks=21 \
        --beyond_l1=0.002,0.003,0.005 --model_dir=runs/figure3_left

Each network (no pretraining, seed ``--seed`` + its index) trains on every
labeled example to its best validation error (``--epochs``, ``--patience``);
its sparsity is the average exact sparsity of its hidden layers on the test
set. The networks train from both ends of the L1 range inwards, so a partial
sweep spans it; ``--lane=K/N`` trains one lane's share, and a run without it
gathers them. Started again, the sweep reuses its finished networks;
``--only_finished`` trains nothing and gathers them. Writes ``--figure_dir``
(default ``--model_dir``)/sparsity_sweep.csv and sparsity_sweep.png (the paper's 70-85%
band shaded).
"""

import math

from absl import app, flags

from . import _figure3
from . import flags as app_flags

_figure3.define_flags(model_dir="runs/sparsity_sweep")
flags.DEFINE_integer("num_networks", 5, "Networks with L1 spread over [0, --max_l1] (paper: 200).")
flags.DEFINE_float("max_l1", 1e-3, "Largest L1 coefficient of the spread (the paper: 0.001).")
flags.DEFINE_list("beyond_l1", [], "More L1 coefficients past --max_l1 (where accuracy drops).")
flags.DEFINE_string(
    "lane", "0/1", "K/N: train every N-th network from the K-th (lanes side by side), 0/1: all."
)
FLAGS = flags.FLAGS


def check_flags():
    """This app's own flags, before TensorFlow is imported: one line and exit 2 if bad."""
    if FLAGS.num_networks < 1:
        app_flags.fail(
            f"--num_networks must be an int >= 1; got --num_networks={FLAGS.num_networks}"
        )
    if not math.isfinite(FLAGS.max_l1) or FLAGS.max_l1 < 0:
        app_flags.fail(f"--max_l1 must be a finite number >= 0; got --max_l1={FLAGS.max_l1}")
    try:
        beyond = [float(v) for v in FLAGS.beyond_l1]
    except ValueError:
        beyond = [math.nan]
    if not all(math.isfinite(v) and v > FLAGS.max_l1 for v in beyond):
        app_flags.fail(
            f"--beyond_l1 must be numbers > --max_l1={FLAGS.max_l1}; got "
            f"--beyond_l1={','.join(FLAGS.beyond_l1)}"
        )
    try:
        lane = tuple(int(v) for v in FLAGS.lane.split("/"))
    except ValueError:
        lane = ()
    if len(lane) != 2 or not 0 <= lane[0] < lane[1]:
        app_flags.fail(f"--lane must be K/N with 0 <= K < N; got --lane={FLAGS.lane}")
    return beyond, lane


def main(argv):
    del argv
    beyond, lane = check_flags()
    _figure3.check_figure_dir()
    config = app_flags.config_from_flags(pretrain=False)
    _, data = app_flags.strategy_and_data(config)
    from keras_sparse_rect.experiments import figure3

    l1s = figure3.l1_values(FLAGS.num_networks, FLAGS.max_l1, beyond)
    protocol = figure3.Protocol(config.epochs, config.patience)
    with app_flags.run_conflicts_fail():
        rows = figure3.run_sparsity_sweep(
            config,
            data,
            l1s,
            protocol,
            app_flags.verbosity(),
            lane=lane,
            train=not FLAGS.only_finished,
        )
    _figure3.write_outputs(config, "sparsity_sweep", rows, f"{config.dataset}: sparsity vs error")


def run():
    """The ``ksr-sparsity-sweep`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
