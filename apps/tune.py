"""Sections 4.1 and 4.2's hyper-parameter selection as a KerasTuner search.

    python -m apps.tune --epochs=5 --max_trials=20              # joint: all, by validation error
    python -m apps.tune --stage=pretrain --project_name=stage1  # by reconstruction error
    python -m apps.tune --stage=finetune --project_name=stage2 \\
        --flagfile=runs/tune/stage1/best.flags                  # by validation error
    python -m apps.image_experiment --flagfile=runs/tune/stage2/best.flags --epochs=30

Takes the data set and network flags of ``apps/image_experiment.py``; they give
the values of the hyper-parameters the search does not tune. Writes into
``--directory/--project_name``: KerasTuner's state (a search started again on the
same folder resumes where it stopped), ``best.flags`` (a flagfile of
``apps/image_experiment.py``), ``trials.json``, ``trials.md`` and TensorBoard logs.
Exits with status 1 when every trial failed. With KerasTuner's
``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``
the same command is the chief or a worker of a distributed search. See
keras_sparse_rect.tuning.
"""

import os
import sys

from absl import app, flags

from apps import flags as app_flags

app_flags.define_common_flags(model_dir="runs/image_experiment")
app_flags.define_single_run_flags()
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

#: Flags written to best.flags besides the tuned hyper-parameters.
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


def fixed_values(config):
    """The values of the hyper-parameters not tuned, from the network flags."""
    if len(set(config.hidden_units)) != 1:
        raise ValueError(
            "--hidden_units must give every hidden layer the same number of units for a "
            f"search; got --hidden_units={','.join(map(str, config.hidden_units))}"
        )
    return {
        "pretrain_learning_rate": config.pretrain_learning_rate,
        "l1": config.l1,
        "learning_rate": config.learning_rate,
        "noise": config.noise,
        "activation": config.activation,
        "hidden_layers": len(config.hidden_units),
        "hidden_units": config.hidden_units[0],
    }


def main(argv):
    del argv
    config = app_flags.config_from_flags()
    import keras

    from keras_sparse_rect import distribute, tuning
    from keras_sparse_rect.data import load_image_dataset
    from keras_sparse_rect.experiments.image import labeled_subset

    try:
        role = tuning.search_role()
        search_space = tuning.parse_search_space(FLAGS.choices)
        if config.strategy == "multi_worker_mirrored":
            raise ValueError(
                "--strategy=multi_worker_mirrored does not apply to a search: spread the "
                "trials over machines with KERASTUNER_TUNER_ID / _ORACLE_IP / _ORACLE_PORT"
            )
        strategy = distribute.get_strategy(config.strategy, config.tpu)
        data = load_image_dataset(config.dataset, data_dir=config.data_dir)
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
            search_space=search_space,
            fixed=fixed_values(config),
            unlabeled=data.x_train,  # the whole training set, unlabeled (Figure 3 right)
            pretrain_epochs=config.pretrain_epochs if config.pretrain else 0,
            sign_flip=config.sign_flip,
            batch_size=config.batch_size,
            seed=config.seed,
        )
        tuner = tuning.make_tuner(
            FLAGS.tuner,
            hypermodel,
            max_trials=FLAGS.max_trials,
            directory=FLAGS.directory,
            project_name=FLAGS.project_name,
            max_epochs=config.epochs,
            seed=config.seed,
            overwrite=FLAGS.overwrite,
            distribution_strategy=strategy,
        )
    except ValueError as error:
        app_flags.fail(error)

    labeled = labeled_subset(data.y_train, config.labeled_fraction, config.seed)
    keras.utils.set_random_seed(config.seed)
    summary = tuning.run_search(
        tuner,
        data.x_train[labeled],
        data.y_train[labeled],
        validation_data=(data.x_val, data.y_val),
        epochs=config.epochs,
        verbose=app_flags.verbosity(),
        tensorboard_dir=os.path.join(tuner.project_dir, "logs"),
    )
    print(tuning.summary_text(summary))
    if role != "worker":
        base = {name: FLAGS[name].value for name in PASSED_ON}
        files = tuning.write_search_results(summary, base_flags=base)
        print(f"Trials: {files['trials_md']} and {files['trials_json']}")
        if files["best_flags"]:
            print(
                f"Best configuration: {files['best_flags']}\n"
                f"Run it: python -m apps.image_experiment --flagfile={files['best_flags']}"
            )
    if summary["all_failed"]:
        sys.exit(1)


if __name__ == "__main__":
    app.run(main, flags_parser=app_flags.parse_flags)
