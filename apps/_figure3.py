"""What the two Figure 3 apps share: their training flags and their output tail."""

import os

from absl import flags

from keras_sparse_rect.experiments.configs import ImageExperimentConfig

from . import flags as app_flags

FLAGS = flags.FLAGS


def define_flags(model_dir):
    """The image flags with Figure 3's defaults (30 epochs at most, patience 5), on
    ``mnist_subset`` (minutes), and ``--only_finished`` / ``--figure_dir``."""
    app_flags.define_config_flags(
        ImageExperimentConfig, only=("epochs", "patience"), defaults={"epochs": 30, "patience": 5}
    )
    app_flags.define_common_flags(model_dir=model_dir, dataset="mnist_subset")
    flags.DEFINE_boolean(
        "only_finished", False, "Train nothing: gather the finished runs into the CSV and PNG."
    )
    flags.DEFINE_string("figure_dir", "", "Where the CSVs and the PNG go (default: --model_dir).")


def check_figure_dir():
    """``--figure_dir`` (or ``--model_dir``), checked before TensorFlow is imported."""
    if FLAGS.figure_dir:
        app_flags.check_output_dir(FLAGS.figure_dir, "--figure_dir")
    return FLAGS.figure_dir or None


def write_outputs(config, name, rows, title):
    """Writes the panel's CSVs and PNG (chief only) and prints where; says when nothing ran."""
    from keras_sparse_rect import distribute
    from keras_sparse_rect.experiments import figure3_report

    if not rows:
        app_flags.fail(f"no finished run in --model_dir={config.model_dir} (--only_finished)")
    if distribute.is_chief():
        folder = FLAGS.figure_dir or config.model_dir
        paths = figure3_report.write_figure(folder, name, rows, title)
        print(f"results: {', '.join(os.path.relpath(p) for p in paths)}")
