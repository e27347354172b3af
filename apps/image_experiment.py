"""Section 4.1 in one command: train and evaluate one deep network on an image data set.

    python -m apps.image_experiment                       # offline default: full MNIST
    python -m apps.image_experiment --activation=tanh --nopretrain --protocol=paper
    python -m apps.image_experiment --dataset=mnist_subset --epochs=3  # a one-minute demo
    python -m apps.image_experiment --flagfile=best.flags --strategy=mirrored

Writes ``--model_dir``/result.json, model.keras, test_predictions.npy and
TensorBoard logs; a run killed at any point resumes when started again with the
same ``--model_dir``. See keras_sparse_rect.experiments.image.
"""

from absl import app, flags

from . import flags as app_flags

app_flags.define_common_flags(model_dir="runs/image_experiment")
app_flags.define_single_run_flags()
flags.DEFINE_boolean(
    "restart", False, "Delete the run in --model_dir (finished or not) and start afresh."
)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    config = app_flags.config_from_flags()
    strategy, data = app_flags.strategy_and_data(config)
    from keras_sparse_rect.experiments.image import summary
    from keras_sparse_rect.experiments.suite import run_or_load

    with app_flags.run_errors_fail():
        result = run_or_load(
            config, data, strategy, verbose=app_flags.verbosity(), restart=FLAGS.restart
        )
    if result.get("reused"):
        print(
            f"{config.model_dir} holds this run, finished: its result is shown "
            "(--restart trains it again)."
        )
    print(summary(result))


def run():
    """The ``ksr-image-experiment`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
