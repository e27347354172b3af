"""Figure 3 (right): rectifier and tanh, with and without pretraining, on growing label fractions.

    python -m apps.labeled_fraction --fractions=0.1,1    # offline: mnist_subset, minutes
    KERAS_BACKEND=jax python -m apps.labeled_fraction --dataset=mnist \
        --model_dir=runs/figure3_right --neurons=rectifier     # one lane per neuron type

Pretraining uses the whole training set as unlabeled data, once per neuron type
and seed (cached, reused by every fraction); each network is fine-tuned on a
class-stratified, nested labeled subset to its best validation error
(``--epochs``, ``--patience``), an epoch of a small subset repeating it to
``--min_epoch_examples``. Fractions up to ``--all_seeds_up_to`` run every
``--seeds``, larger ones the first. Started again, the grid reuses its finished
runs; ``--only_finished`` trains nothing and gathers the finished ones;
``--pretraining=without`` (or ``with``) runs one curve only. Writes
``--figure_dir`` (default ``--model_dir``)/labeled_fraction.csv (per point: means, seed
spread, McNemar p-value per seed), labeled_fraction_runs.csv and
labeled_fraction.png.
"""

import math

from absl import app, flags

from . import _figure3
from . import flags as app_flags

FRACTIONS = ("0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1")
NEURONS = ("rectifier", "tanh")
_figure3.define_flags(model_dir="runs/labeled_fraction")
flags.DEFINE_list("fractions", list(FRACTIONS), "Fractions of the labeled training set, in (0, 1].")
flags.DEFINE_list("seeds", ["0", "1"], "Seeds of the fractions up to --all_seeds_up_to.")
flags.DEFINE_float("all_seeds_up_to", 0.1, "Larger fractions run the first seed only.")
flags.DEFINE_list("neurons", list(NEURONS), "Neuron types (rectifier, tanh); one per lane.")
flags.DEFINE_list(
    "pretraining", ["with", "without"], "The curves to run: with and/or without pretraining."
)
flags.DEFINE_integer(
    "min_epoch_examples", 5000, "An epoch of a smaller labeled set repeats it to this many."
)
FLAGS = flags.FLAGS


def check_flags():
    """This app's own flags, before TensorFlow is imported: one line and exit 2 if bad."""
    try:
        fractions = sorted({float(f) for f in FLAGS.fractions})
    except ValueError:
        fractions = []
    if not fractions or not all(0.0 < f <= 1.0 for f in fractions):
        app_flags.fail(
            f"--fractions must be numbers in (0, 1]; got --fractions={','.join(FLAGS.fractions)}"
        )
    try:
        seeds = [int(s) for s in FLAGS.seeds]
    except ValueError:
        seeds = []
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        app_flags.fail(f"--seeds must be distinct ints >= 0; got --seeds={','.join(FLAGS.seeds)}")
    neurons = FLAGS.neurons
    if not neurons or any(n not in NEURONS for n in neurons) or len(set(neurons)) != len(neurons):
        app_flags.fail(
            f"--neurons must name rectifier or tanh, each at most once; got "
            f"--neurons={','.join(neurons)}"
        )
    pretraining = FLAGS.pretraining
    if (
        not pretraining
        or any(p not in ("with", "without") for p in pretraining)
        or len(set(pretraining)) != len(pretraining)
    ):
        app_flags.fail(
            f"--pretraining must name with or without, each at most once; got "
            f"--pretraining={','.join(pretraining)}"
        )
    if not math.isfinite(FLAGS.all_seeds_up_to) or FLAGS.all_seeds_up_to < 0:
        app_flags.fail(f"--all_seeds_up_to must be a number >= 0; got {FLAGS.all_seeds_up_to}")
    if FLAGS.min_epoch_examples < 1:
        app_flags.fail(f"--min_epoch_examples must be >= 1; got {FLAGS.min_epoch_examples}")
    return fractions, seeds, [n for n in NEURONS if n in neurons]


def main(argv):
    del argv
    fractions, seeds, neurons = check_flags()
    _figure3.check_figure_dir()
    config = app_flags.config_from_flags()
    _, data = app_flags.strategy_and_data(config)
    from keras_sparse_rect.experiments import figure3

    protocol = figure3.Protocol(config.epochs, config.patience, FLAGS.min_epoch_examples)
    own_rates = FLAGS["pretrain_learning_rate"].present
    with app_flags.run_conflicts_fail():
        rows = figure3.run_labeled_fraction(
            config,
            data,
            fractions,
            seeds,
            neurons,
            protocol,
            FLAGS.all_seeds_up_to,
            config.per_layer("pretrain_learning_rate") if own_rates else None,
            verbose=app_flags.verbosity(),
            train=not FLAGS.only_finished,
            pretraining=tuple(p == "with" for p in FLAGS.pretraining),
        )
    _figure3.write_outputs(config, "labeled_fraction", rows, f"{config.dataset}: labeled fraction")


def run():
    """The ``ksr-labeled-fraction`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
