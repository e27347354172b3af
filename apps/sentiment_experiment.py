"""Section 4.2 in one command: Table 2 (RMSE and sparsity) by k-fold cross-validation on reviews.

    python -m apps.sentiment_experiment                   # offline default: Rotten Tomatoes
    python -m apps.sentiment_experiment --reviews=opentable.csv --text_column=review \\
        --rating_column=stars --rating_scale=5 --unlabeled=unlabeled.jsonl
    python -m apps.sentiment_experiment --hidden_units=1000 --folds=5 --models=rectifier_1

Writes ``--output_dir``/table2.md and result.json (atomically) and prints the
table. See keras_sparse_rect.experiments.sentiment.
"""

from absl import app, flags

from apps import flags as app_flags
from keras_sparse_rect.experiments.sentiment import MODELS, SentimentConfig

_D = SentimentConfig()
FLAGS = flags.FLAGS

app_flags.define_review_flags()
# The networks and their training.
flags.DEFINE_list("models", list(_D.models), f"Networks of Table 2: {', '.join(MODELS)}.")
flags.DEFINE_integer("hidden_units", _D.hidden_units, "Units per hidden layer (paper: 5000).")
flags.DEFINE_integer("epochs", _D.epochs, "Fine-tuning epochs per fold.")
flags.DEFINE_float("learning_rate", _D.learning_rate, "Fine-tuning SGD learning rate.")
flags.DEFINE_integer("batch_size", _D.batch_size, "Mini-batch size (paper: 10).")
flags.DEFINE_list("l1", [str(v) for v in _D.l1], "Activation L1 of hidden layers 1, 2, 3.")
flags.DEFINE_boolean("pretrain", _D.pretrain, "Greedy layer-wise pretraining (denoising AEs).")
flags.DEFINE_integer("pretrain_epochs", _D.pretrain_epochs, "Pretraining epochs per layer.")
flags.DEFINE_list(
    "pretrain_learning_rates",
    [str(v) for v in _D.pretrain_learning_rates],
    "Pretraining SGD learning rate of layers 1, 2, 3.",
)
flags.DEFINE_list(
    "masking_noise", [str(v) for v in _D.masking_noise], "Masking noise of layers 2 and 3."
)
flags.DEFINE_integer("seed", _D.seed, "Random seed (folds, weights, noise).")
flags.DEFINE_string("output_dir", _D.output_dir, "Where table2.md and result.json go.")
flags.DEFINE_enum("verbose", "0", ["0", "1", "2"], "Keras verbosity of each fit.")


def _floats(name):
    try:
        return tuple(float(v) for v in FLAGS[name].value)
    except ValueError:
        app_flags.fail(f"--{name} must be comma-separated numbers; got {FLAGS[name].value!r}")


def config_from_flags():
    """A validated :class:`SentimentConfig` from the flags (a bad value exits with status 2)."""
    config = SentimentConfig(
        models=tuple(FLAGS.models),
        hidden_units=FLAGS.hidden_units,
        folds=FLAGS.folds,
        epochs=FLAGS.epochs,
        learning_rate=FLAGS.learning_rate,
        batch_size=FLAGS.batch_size,
        l1=_floats("l1"),
        pretrain=FLAGS.pretrain,
        pretrain_epochs=FLAGS.pretrain_epochs,
        pretrain_learning_rates=_floats("pretrain_learning_rates"),
        pepper_rate=FLAGS.pepper_rate,
        salt_rate=FLAGS.salt_rate,
        masking_noise=_floats("masking_noise"),
        reconstruction_sampling=FLAGS.reconstruction_sampling,
        sampled_zeros=FLAGS.sampled_zeros,
        seed=FLAGS.seed,
        output_dir=FLAGS.output_dir,
    )
    try:
        return config.validate()
    except ValueError as error:
        app_flags.fail(error)


def main(argv):
    del argv
    config = config_from_flags()
    reviews, name = app_flags.load_reviews_from_flags()
    if reviews.bad_rows:
        path, line, reason = reviews.bad_rows[0]
        print(f"Skipped {len(reviews.bad_rows)} bad row(s) (first: {path}, line {line}: {reason}).")
    from keras_sparse_rect.experiments.sentiment import run_sentiment_experiment, summary

    result = run_sentiment_experiment(config, reviews, data_name=name, verbose=int(FLAGS.verbose))
    print(summary(result))


if __name__ == "__main__":
    app.run(main, flags_parser=app_flags.parse_flags)
