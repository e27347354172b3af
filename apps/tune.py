"""Sections 4.1 and 4.2's hyper-parameter selection as a KerasTuner search.

    python -m apps.tune --epochs=5 --max_trials=20              # joint: all, by validation error
    python -m apps.tune --stage=pretrain --project_name=stage1  # by reconstruction error
    python -m apps.tune --stage=finetune --project_name=stage2 \\
        --flagfile=runs/tune/stage1/best.flags                  # by validation error
    python -m apps.image_experiment --flagfile=runs/tune/stage2/best.flags --epochs=30

    python -m apps.tune --experiment=sentiment --hidden_units=1000,1000,1000 \\
        --stage=finetune --project_name=reviews                 # Table 2's networks
    python -m apps.sentiment_experiment --flagfile=runs/tune/reviews/best.flags

``--experiment=image`` (the default) takes the data set and network flags of
``apps/image_experiment.py``; they give the values of the hyper-parameters the
search does not tune. ``--experiment=sentiment`` takes the data flags of
``apps/sentiment_experiment.py`` (``--reviews``, ``--num_terms``, ...), runs each
trial as that app runs one fold (validating on one fold of ``--folds``), and
takes the network flags below as one value for every layer; a network flag not
given keeps the sentiment experiment's default (see
keras_sparse_rect.tuning.SentimentHyperModel).

Writes into ``--directory/--project_name``: KerasTuner's state (a search started
again on the same folder resumes where it stopped), ``best.flags`` (a flagfile of
the experiment's app, written by ``apps/_tune_flags.py``), ``trials.json``,
``trials.md`` and TensorBoard logs.
Exits with status 1 when every trial failed. With KerasTuner's
``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``
the same command is the chief or a worker of a distributed search. See
keras_sparse_rect.tuning.
"""

import os
import sys

from absl import app, flags

from keras_sparse_rect._validation import check_inside, check_int
from keras_sparse_rect.experiments.configs import MODELS, SentimentConfig

from . import _tune_flags
from . import flags as app_flags

app_flags.define_common_flags(model_dir="runs/image_experiment", dataset="mnist_subset")
app_flags.define_single_run_flags()
app_flags.define_review_flags()
flags.DEFINE_enum(
    "experiment",
    "image",
    ["image", "sentiment"],
    "image: the data sets of apps/image_experiment.py (Table 1); sentiment: reviews, as "
    "apps/sentiment_experiment.py (Table 2).",
)
flags.DEFINE_enum(
    "tuner", "random", ["random", "bayesian", "hyperband", "grid"], "KerasTuner search algorithm."
)
flags.DEFINE_integer("max_trials", 10, "The most trials (Hyperband: a cap on its brackets).")
flags.DEFINE_string("directory", "runs/tune", "KerasTuner's working directory.")
flags.DEFINE_string("project_name", "deep_sparse", "The search's folder in --directory.")
flags.DEFINE_enum(
    "stage",
    "joint",
    ["pretrain", "finetune", "joint"],
    "pretrain: pretrain_learning_rate and l1 by reconstruction error; finetune: learning_rate "
    "and noise by validation error; joint: everything by validation error (sections 4.1, 4.2).",
)
flags.DEFINE_list(
    "tune", None, "Hyper-parameters to tune instead of the stage's (e.g. learning_rate,l1)."
)
flags.DEFINE_multi_string(
    "choices",
    [],
    "NAME=V1,V2,...: the values tried for one hyper-parameter, e.g. "
    "--choices=hidden_units=500,1000 (default: the paper's; repeat the flag for more).",
)
flags.DEFINE_boolean("overwrite", False, "Start afresh instead of resuming the search.")
FLAGS = flags.FLAGS

#: Flags of the image apps only.
IMAGE_ONLY = ("dataset", "data_dir", "labeled_fraction", "strategy", "tpu")

#: Fields of SentimentConfig set by review flags.
SENTIMENT_FIELDS = app_flags.REVIEW_FIELDS

#: Review data flags passed on to best.flags when given.
REVIEW_DATA = app_flags.REVIEW_DATA

#: Flags of the review data only.
REVIEW_ONLY = (*REVIEW_DATA, *SENTIMENT_FIELDS)

#: Image flags written to best.flags besides the tuned hyper-parameters.
PASSED_ON = (
    "dataset",
    "data_dir",
    "sign_flip",
    "pretrain",
    "batch_size",
    "epochs",
    "pretrain_epochs",
    "labeled_fraction",
    "seed",
)


def _equal_units(units):
    """``(units, layers)`` of a ``--hidden_units`` list; a search needs equal layers."""
    if not units or len(set(units)) != 1:
        raise ValueError(
            "--hidden_units must give every hidden layer the same number of units for a "
            f"search; got --hidden_units={','.join(map(str, units))}"
        )
    return units[0], len(units)


def _same_for_every_layer(flag, values):
    """The one value of a per-layer setting; a search tunes one value for every layer."""
    values = list(values)
    if not values or len(set(values)) != 1:
        raise ValueError(
            f"--{flag} must give every hidden layer the same value for a search; got "
            f"--{flag}={','.join(map(str, values))}"
        )
    return values[0]


def fixed_values(config):
    """The values of the hyper-parameters not tuned, from the network flags."""
    units, layers = _equal_units(config.hidden_units)
    one = {
        name: _same_for_every_layer(name, config.per_layer(name))
        for name in ("pretrain_learning_rate", "l1", "noise")
    }
    return {
        "pretrain_learning_rate": one["pretrain_learning_rate"],
        "l1": one["l1"],
        "learning_rate": config.learning_rate,
        "noise": one["noise"],
        "activation": config.activation,
        "hidden_layers": layers,
        "hidden_units": units,
    }


def _reject(names, experiment):
    given = [f"--{name}" for name in names if FLAGS[name].present]
    if given:
        verb = "does" if len(given) == 1 else "do"
        app_flags.fail(f"{', '.join(given)} {verb} not apply to --experiment={experiment}")


def check_image_flags():
    """The image search's flags, before TensorFlow: ``(config, fixed values)``."""
    _reject(REVIEW_ONLY, "image")
    config = app_flags.config_from_flags(check_output=False)  # a search writes to --directory
    if config.strategy == "multi_worker_mirrored":
        raise ValueError(
            "--strategy=multi_worker_mirrored does not apply to a search: spread the "
            "trials over machines with KERASTUNER_TUNER_ID / _ORACLE_IP / _ORACLE_PORT"
        )
    return config, fixed_values(config)


def image_search(config, fixed):
    """``(hypermodel, fit_args, fit_kwargs, base_flags, strategy)`` of an image search."""
    strategy, data = app_flags.strategy_and_data(config)
    from keras_sparse_rect import tuning
    from keras_sparse_rect.experiments.image import labeled_subset

    if data.train_distortion is not None:
        raise ValueError(
            f"--dataset={config.dataset} distorts its training images on the fly, "
            "which a search does not do; tune on another data set"
        )
    hypermodel = tuning.DeepSparseHyperModel(
        data.input_shape,
        data.num_classes,
        stage=FLAGS.stage,
        tune=FLAGS.tune,
        search_space=tuning.parse_search_space(FLAGS.choices),
        fixed=fixed,
        unlabeled=data.x_train,  # the whole training set, unlabeled (Figure 3 right)
        pretrain_epochs=config.pretrain_epochs if config.pretrain else 0,
        sign_flip=config.sign_flip,
        batch_size=config.batch_size,
        seed=config.seed,
    )
    labeled = labeled_subset(data.y_train, config.labeled_fraction, config.seed)
    fit = {"validation_data": (data.x_val, data.y_val), "epochs": config.epochs}
    base = {name: FLAGS[name].value for name in PASSED_ON}
    return hypermodel, (data.x_train[labeled], data.y_train[labeled]), fit, base, strategy


def sentiment_config():
    """The base :class:`SentimentConfig` and Table 2 network from the flags given."""
    fields = {name: FLAGS[name].value for name in SENTIMENT_FIELDS}
    for name in ("epochs", "learning_rate", "batch_size", "pretrain", "pretrain_epochs", "seed"):
        if FLAGS[name].present:
            fields[name] = FLAGS[name].value
    # One value of an image network flag sets every layer's.
    for flag, field, layers in (
        ("l1", "l1", 3),
        ("pretrain_learning_rate", "pretrain_learning_rates", 3),
        ("noise", "masking_noise", 2),
    ):
        if FLAGS[flag].present:
            try:
                values = [float(v) for v in FLAGS[flag].value]
            except ValueError:
                raise ValueError(
                    f"--{flag} must be a number; got --{flag}={','.join(FLAGS[flag].value)}"
                ) from None
            fields[field] = (_same_for_every_layer(flag, values),) * layers
    layers = 3
    if FLAGS["hidden_units"].present:
        try:
            units = [int(u) for u in FLAGS.hidden_units]
        except ValueError:
            raise ValueError(
                "--hidden_units must be a comma-separated list of ints; got "
                f"--hidden_units={','.join(FLAGS.hidden_units)}"
            ) from None
        fields["hidden_units"], layers = _equal_units(units)
    activation = FLAGS.activation if FLAGS["activation"].present else "rectifier"
    network = f"{activation}_{layers}"
    if network not in MODELS:
        tables = ", ".join(n for n in MODELS if n != "no_hidden")
        raise ValueError(
            f"--activation={activation} with {layers} hidden layer(s) is not a network of "
            f"Table 2 ({tables}); change --activation or --hidden_units"
        )
    return SentimentConfig(**fields).validate(), network


def check_sentiment_flags():
    """The review search's flags, before TensorFlow: ``(config, network)``."""
    _reject(IMAGE_ONLY + ("sign_flip",), "sentiment")
    app_flags.check_review_flags()
    config, network = sentiment_config()
    return config, network


def sentiment_search(config, network):
    """``(hypermodel, fit_args, fit_kwargs, base_flags, None)`` of a search on reviews."""
    from keras_sparse_rect import tuning
    from keras_sparse_rect.data.folds import kfold_splits

    reviews, _ = app_flags.load_reviews_from_flags()
    hypermodel = tuning.SentimentHyperModel(
        reviews.x.shape[1],
        reviews.scale.values,
        config=config,
        network=network,
        stage=FLAGS.stage,
        tune=FLAGS.tune,
        search_space=tuning.parse_search_space(FLAGS.choices),
        unlabeled=reviews.pretraining_inputs(),  # labeled and unlabeled (section 4.2)
    )
    train, val = kfold_splits(reviews.x.shape[0], config.folds, seed=config.seed)[0]
    fit = {"validation_data": (reviews.x[val], reviews.y[val]), "epochs": config.epochs}
    base = {name: FLAGS[name].value for name in REVIEW_DATA if FLAGS[name].present}
    return hypermodel, (reviews.x[train], reviews.y[train]), fit, base, None


def check_search_flags():
    """Every flag of a search, before TensorFlow is loaded; one line and exit 2 if bad.

    Returns the experiment's setup and its arguments.
    """
    from keras_sparse_rect.tuning.space import SearchSpace, parse_search_space

    try:
        check_int("max_trials", FLAGS.max_trials, 1)
        check_inside("project_name", FLAGS.project_name, "directory")
        if FLAGS.experiment == "sentiment":
            config, network = check_sentiment_flags()
            setup, arguments = sentiment_search, (config, network)
            pretraining = config.pretrain and config.pretrain_epochs > 0
            fixed = None
        else:
            config, fixed = check_image_flags()
            setup, arguments = image_search, (config, fixed)
            pretraining = config.pretrain and config.pretrain_epochs > 0
        if FLAGS.stage == "pretrain" and not pretraining:
            given = "--nopretrain" if not config.pretrain else "--pretrain_epochs=0"
            raise ValueError(
                "--stage=pretrain selects by reconstruction error, which needs pretraining; "
                f"got {given}"
            )
        SearchSpace(
            FLAGS.stage,
            FLAGS.tune,
            parse_search_space(FLAGS.choices),
            fixed,
            pretraining=pretraining,
        )
    except ValueError as error:
        app_flags.fail(app_flags.flag_message(error))
    app_flags.check_output_dir(FLAGS.directory, "--directory")
    return setup, arguments


def main(argv):
    del argv
    setup, arguments = check_search_flags()
    app_flags.import_keras_quietly()
    import keras

    from keras_sparse_rect import tuning

    try:
        role = tuning.search_role()
        hypermodel, fit_args, fit_kwargs, base, strategy = setup(*arguments)
        tuner = tuning.make_tuner(
            FLAGS.tuner,
            hypermodel,
            max_trials=FLAGS.max_trials,
            directory=FLAGS.directory,
            project_name=FLAGS.project_name,
            max_epochs=fit_kwargs["epochs"],
            seed=FLAGS.seed,
            overwrite=FLAGS.overwrite,
            distribution_strategy=strategy,
        )
    except ValueError as error:
        app_flags.fail(app_flags.flag_message(error))

    keras.utils.set_random_seed(FLAGS.seed)
    summary = tuning.run_search(
        tuner,
        *fit_args,
        **fit_kwargs,
        verbose=app_flags.verbosity(),
        tensorboard_dir=os.path.join(tuner.project_dir, "logs"),
    )
    print(tuning.summary_text(summary))
    if role != "worker":
        files = tuning.write_search_results(
            summary, best_flags=_tune_flags.best_flags(FLAGS.experiment, hypermodel, base)
        )
        print(f"Trials: {files['trials_md']} and {files['trials_json']}")
        if files["best_flags"]:
            print(
                f"Best configuration: {files['best_flags']}\n"
                f"Run it: {_tune_flags.run_command(FLAGS.experiment, files['best_flags'])}"
            )
    if summary["all_failed"]:
        sys.exit(1)


def run():
    """The ``ksr-tune`` command."""
    app.run(main, flags_parser=app_flags.parse_flags)


if __name__ == "__main__":
    run()
