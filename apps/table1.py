"""Table 1: rectifier, tanh and softplus, with and without pretraining, over data sets and seeds.

    python -m apps.table1                                  # offline: mnist_subset, seed 0
    python -m apps.table1 --datasets=mnist,cifar10 --seeds=0,1,2 --epochs=100

Writes ``--model_dir``/table1.md (the paper's layout, bold = equivalent under
McNemar's test at p = 0.05) and table1.json; each run keeps its own folder, and
finished runs are reused when the command is started again.
"""

import os

from absl import app, flags

from apps import flags as app_flags

app_flags.define_common_flags(model_dir="runs/table1")
flags.DEFINE_list("datasets", ["mnist_subset"], "Data sets (names of load_image_dataset).")
flags.DEFINE_list("seeds", ["0"], "Seeds; each cell is the mean over them.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    config = app_flags.config_from_flags()
    try:
        seeds = [int(s) for s in FLAGS.seeds]
    except ValueError:
        app_flags.fail(f"--seeds must be a comma-separated list of ints; got {FLAGS.seeds!r}")
    if not FLAGS.datasets or not seeds:
        app_flags.fail("--datasets and --seeds must each name at least one value")
    strategy, loaded = app_flags.strategy_and_data(config, FLAGS.datasets)
    from keras_sparse_rect import distribute, results
    from keras_sparse_rect.experiments.table1 import run_table1, table1_json, table1_markdown

    table = run_table1(
        config, FLAGS.datasets, seeds, loaded.__getitem__, strategy, verbose=app_flags.verbosity()
    )
    markdown = table1_markdown(table)
    if distribute.is_chief():
        results.write_text_atomic(os.path.join(config.model_dir, "table1.md"), markdown)
        results.write_json_atomic(
            os.path.join(config.model_dir, "table1.json"),
            {**table1_json(table), "environment": results.environment()},
        )
    print(markdown)
    print(f"results: {os.path.join(config.model_dir, 'table1.md')}, table1.json")


if __name__ == "__main__":
    app.run(main, flags_parser=app_flags.parse_flags)
