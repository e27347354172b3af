"""Section 4.2 in one command: Table 2 (RMSE and sparsity) by k-fold cross-validation on reviews.

    python -m apps.sentiment_experiment                   # offline default: Rotten Tomatoes
    python -m apps.sentiment_experiment --reviews=opentable.csv --text_column=review \\
        --rating_column=stars --rating_scale=5 --unlabeled=unlabeled.jsonl
    python -m apps.sentiment_experiment --hidden_units=1000 --folds=5 --models=rectifier_1

Writes ``--output_dir``/table2.md and result.json (atomically) and prints the
table. See keras_sparse_rect.experiments.sentiment.
"""

from absl import app, flags

from . import flags as app_flags

FLAGS = flags.FLAGS

app_flags.define_review_flags()
app_flags.define_sentiment_flags()
flags.DEFINE_bool(
    "restart", False, "Delete the run in --output_dir (finished or not) and start afresh."
)


def main(argv):
    del argv
    config = app_flags.config_from_flags(app_flags.SentimentConfig)
    reviews, name = app_flags.load_reviews_from_flags()
    if config.folds > reviews.x.shape[0]:
        app_flags.fail(
            f"--folds={config.folds} is more than the {reviews.x.shape[0]} labeled reviews "
            f"of {name}"
        )
    if reviews.bad_rows:
        path, line, reason = reviews.bad_rows[0]
        print(f"Skipped {len(reviews.bad_rows)} bad row(s) (first: {path}, line {line}: {reason}).")
    from keras_sparse_rect.experiments.sentiment import run_sentiment_experiment, summary

    with app_flags.run_errors_fail():
        result = run_sentiment_experiment(
            config,
            reviews,
            data_name=name,
            verbose=app_flags.verbosity(),
            restart=FLAGS.restart,
        )
    print(summary(result))


def run():
    """The ``ksr-sentiment-experiment`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
