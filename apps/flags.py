"""Flags shared by the apps, defined once (in the manner of the TF Model Garden).

Every flag has a default, so each app runs with none. ``--flagfile`` works as
absl makes it. A bad flag value prints one line and exits with status 2.
"""

import sys

from absl import flags

from keras_sparse_rect.experiments.image import ImageExperimentConfig

FLAGS = flags.FLAGS
_DEFAULTS = ImageExperimentConfig()


def define_common_flags(model_dir):
    """Flags of every image app: data, network shape, training, distribution."""
    flags.DEFINE_string(
        "dataset",
        _DEFAULTS.dataset,
        "Data set: mnist_subset (offline default), mnist, cifar10, nistp, norb, smallnorb, "
        "idx:DIR or npz:FILE.",
    )
    flags.DEFINE_string("data_dir", None, "Where data sets are (tensorflow-datasets' data_dir).")
    flags.DEFINE_list(
        "hidden_units",
        [str(u) for u in _DEFAULTS.hidden_units],
        "Units per hidden layer (NORB in the paper: 4000,2000).",
    )
    flags.DEFINE_boolean(
        "sign_flip", _DEFAULTS.sign_flip, "Negate half of the rectifier units (section 4.1)."
    )
    flags.DEFINE_float("l1", _DEFAULTS.l1, "L1 penalty on the activations (paper: 0.001).")
    flags.DEFINE_float(
        "noise", _DEFAULTS.noise, "Masking noise level of pretraining (paper: 0.25)."
    )
    flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate, "Constant SGD learning rate.")
    flags.DEFINE_float(
        "pretrain_learning_rate", _DEFAULTS.pretrain_learning_rate, "Pretraining learning rate."
    )
    flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size, "Mini-batch size (paper: 10).")
    flags.DEFINE_integer("epochs", _DEFAULTS.epochs, "Supervised epochs.")
    flags.DEFINE_integer(
        "pretrain_epochs", _DEFAULTS.pretrain_epochs, "Pretraining epochs per layer."
    )
    flags.DEFINE_integer("seed", _DEFAULTS.seed, "Random seed (weights, noise, subsets).")
    flags.DEFINE_enum(
        "strategy",
        _DEFAULTS.strategy,
        ["default", "one_device", "mirrored", "multi_worker_mirrored", "tpu"],
        "Distribution strategy (see keras_sparse_rect.distribute).",
    )
    flags.DEFINE_string("tpu", None, "TPU name or grpc:// address, for --strategy=tpu.")
    flags.DEFINE_string("model_dir", model_dir, "Where results, logs and models are written.")
    flags.DEFINE_enum("verbose", "1", ["0", "1", "2"], "Keras verbosity: 1 = progress bars.")


def define_single_run_flags():
    """Flags that choose one row of Table 1."""
    flags.DEFINE_enum(
        "activation", _DEFAULTS.activation, ["rectifier", "tanh", "softplus"], "Neuron type."
    )
    flags.DEFINE_boolean(
        "pretrain", _DEFAULTS.pretrain, "Greedy layer-wise pretraining (denoising autoencoders)."
    )
    flags.DEFINE_float(
        "labeled_fraction", 1.0, "Fraction of the training labels used (Figure 3 right)."
    )


def config_from_flags(**overrides):
    """An :class:`ImageExperimentConfig` from the parsed flags (plus ``overrides``)."""
    try:
        hidden_units = tuple(int(u) for u in FLAGS.hidden_units)
    except ValueError:
        fail(f"--hidden_units must be a comma-separated list of ints; got {FLAGS.hidden_units!r}")
    fields = {
        "dataset": FLAGS.dataset,
        "data_dir": FLAGS.data_dir,
        "hidden_units": hidden_units,
        "sign_flip": FLAGS.sign_flip,
        "l1": FLAGS.l1,
        "noise": FLAGS.noise,
        "learning_rate": FLAGS.learning_rate,
        "pretrain_learning_rate": FLAGS.pretrain_learning_rate,
        "batch_size": FLAGS.batch_size,
        "epochs": FLAGS.epochs,
        "pretrain_epochs": FLAGS.pretrain_epochs,
        "seed": FLAGS.seed,
        "strategy": FLAGS.strategy,
        "tpu": FLAGS.tpu,
        "model_dir": FLAGS.model_dir,
    }
    for name in ("activation", "pretrain", "labeled_fraction"):
        if name in FLAGS:
            fields[name] = FLAGS[name].value
    fields.update(overrides)
    config = ImageExperimentConfig(**fields)
    try:
        return config.validate()
    except ValueError as error:
        fail(error)


def verbosity():
    return int(FLAGS.verbose)


def fail(message):
    """Prints one line naming the problem and exits with status 2."""
    program = sys.argv[0].rsplit("/", 1)[-1] if sys.argv else "app"
    text = " ".join(str(message).split())
    print(f"{program}: error: {text}", file=sys.stderr)
    sys.exit(2)


def parse_flags(argv):
    """absl's ``flags_parser``: a bad flag prints one line and exits with status 2."""
    try:
        remaining = FLAGS(argv)
    except flags.Error as error:
        fail(error)
    if len(remaining) > 1:
        fail(f"unexpected arguments: {' '.join(remaining[1:])}")
    return remaining
