"""Table 1: rectifier, tanh and softplus, with and without pretraining, over data sets and seeds.

    python -m apps.table1                                  # offline: full MNIST, seed 0
    python -m apps.table1 --protocol=paper --epochs=30     # section 4.1's model selection
    python -m apps.table1 --datasets=mnist,cifar10 --seeds=0,1,2 --epochs=100
    python -m apps.table1 --neurons=tanh --model_dir=runs/t1 &   # rows side by side,
    python -m apps.table1 --neurons=softplus --model_dir=runs/t1  # then once with all rows

The L1 activation penalty (``--l1``) is applied to the neuron types in
``--l1_neurons`` (default: rectifier, as section 4.1); the other rows get none.

Writes ``--model_dir``/table1.md (the paper's layout; bold: McNemar's test per
seed does not reject at p = 0.05 for at least half of the seeds; diverged or
collapsed runs marked, not averaged) and table1.json; each run keeps its own
folder, and finished runs are reused when the command is started again
(``--table_name=rectifier_only --neurons=rectifier`` assembles a subset beside
the full table instead of over it). Each
data set gets the paper's architecture (NORB 4000-2000, else 3 x 1000) unless
``--hidden_units`` is given.
"""

import os
import re

from absl import app, flags

from keras_sparse_rect._validation import MAX_SEED
from keras_sparse_rect.names import ACTIVATIONS

from . import flags as app_flags

app_flags.define_common_flags(model_dir="runs/table1")
flags.DEFINE_list("datasets", ["mnist"], "Data sets (names of load_image_dataset).")
flags.DEFINE_list("seeds", ["0"], "Seeds; each cell is the mean over them.")
flags.DEFINE_list(
    "neurons",
    ["rectifier", "tanh", "softplus"],
    "Rows to train (rectifier, tanh, softplus); finished runs of the others are not shown.",
)
flags.DEFINE_list(
    "l1_neurons",
    ["rectifier"],
    "Neuron types trained with the --l1 activation penalty; the others get none "
    "(section 4.1 states it for rectifiers). Empty: none.",
)
flags.DEFINE_string(
    "table_name",
    "table1",
    "Base name of the table files written into --model_dir (<name>.md, <name>.json): another "
    "name assembles a subset of the runs without overwriting the full table.",
)
FLAGS = flags.FLAGS

# A plain file name: no folder, nothing hidden.
_TABLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_flags():
    """This app's own flags, before TensorFlow is imported: ``seeds``, or one line and exit 2."""
    try:
        seeds = [int(s) for s in FLAGS.seeds]
    except ValueError:
        app_flags.fail(
            f"--seeds must be a comma-separated list of ints; got --seeds={','.join(FLAGS.seeds)}"
        )
    if not _TABLE_NAME.fullmatch(FLAGS.table_name):
        app_flags.fail(
            "--table_name must be a file name of letters, digits, '_', '.' or '-' (no folder); "
            f"got --table_name={FLAGS.table_name!r}"
        )
    if not FLAGS.datasets or not seeds:
        app_flags.fail("--datasets and --seeds must each name at least one value")
    if any(not 0 <= seed <= MAX_SEED for seed in seeds):
        app_flags.fail(
            f"--seeds must be ints >= 0 and <= {MAX_SEED}; got --seeds={','.join(FLAGS.seeds)}"
        )
    for name in FLAGS.datasets:
        app_flags.check_dataset(name, "--datasets")
    for flag, allow_empty in (("neurons", False), ("l1_neurons", True)):
        values = FLAGS[flag].value
        if (
            any(v not in ACTIVATIONS for v in values)
            or len(set(values)) != len(values)
            or (not values and not allow_empty)
        ):
            app_flags.fail(
                f"--{flag} must name {', '.join(ACTIVATIONS)}, each at most once"
                f"{'' if allow_empty else ', at least one'}; got --{flag}={','.join(values)}"
            )
    return seeds


def main(argv):
    del argv
    seeds = check_flags()
    config = app_flags.config_from_flags()
    strategy, loaded = app_flags.strategy_and_data(config, FLAGS.datasets)
    from keras_sparse_rect import distribute, results
    from keras_sparse_rect.experiments.table1 import run_table1, table1_json, table1_markdown

    with app_flags.run_errors_fail():
        table = run_table1(
            config,
            FLAGS.datasets,
            seeds,
            loaded.__getitem__,
            strategy,
            verbose=app_flags.verbosity(),
            hidden_units=config.hidden_units if FLAGS["hidden_units"].present else None,
            neurons=FLAGS.neurons,
            l1_neurons=FLAGS.l1_neurons,
        )

    markdown = table1_markdown(table)
    base = os.path.join(config.model_dir, FLAGS.table_name)
    if distribute.is_chief():
        results.write_text_atomic(f"{base}.md", markdown)
        results.write_json_atomic(
            f"{base}.json", {**table1_json(table), "environment": results.environment()}
        )
    print(markdown)
    print(f"results: {base}.md, {FLAGS.table_name}.json")


def run():
    """The ``ksr-table1`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
