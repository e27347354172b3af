"""What ``apps/tune.py`` writes for the apps: a search's best trial as app flags, ``best.flags``.

The library (:mod:`keras_sparse_rect.tuning`) knows no app: it gives a trial's
values as the experiments' configs (``tuning.trial_settings`` for
``ImageExperimentConfig``, ``SentimentHyperModel.trial_config`` for
``SentimentConfig``), and this module turns those into the flags of
``apps/image_experiment.py`` and ``apps/sentiment_experiment.py``, whose flag
names are the configs' field names. Pure functions: importing this module
defines no flags and imports no KerasTuner (``apps/tune.py`` imports it after
parsing its flags).
"""

#: The app that runs each experiment's best configuration.
APPS = {"image": "apps.image_experiment", "sentiment": "apps.sentiment_experiment"}


def _flag_value(value):
    return list(value) if isinstance(value, tuple) else value


def hyperparameter_flags(values):
    """``apps/image_experiment.py`` flag values for hyper-parameter ``values``.

    ``hidden_layers`` and ``hidden_units`` become one ``hidden_units`` list
    (``3`` x ``1000`` -> ``[1000, 1000, 1000]``); KerasTuner's ``tuner/...``
    entries are dropped.

    Example:

    >>> hyperparameter_flags({"learning_rate": 0.01, "hidden_layers": 2, "hidden_units": 32})
    {'learning_rate': 0.01, 'hidden_units': [32, 32]}
    """
    from keras_sparse_rect.tuning import trial_settings

    return {k: _flag_value(v) for k, v in trial_settings(values).items()}


def sentiment_flags(hypermodel, values):
    """Flags of ``apps/sentiment_experiment.py`` that run a trial's configuration.

    Every setting is written (tuned or not), so the flagfile reruns the trial's
    network whatever the app's defaults become; ``output_dir`` is left to the app.
    """
    config = hypermodel.trial_config(values).to_dict()
    config.pop("output_dir")
    return config


def experiment_flags(experiment, hypermodel, values):
    """The flags of ``experiment``'s app (:data:`APPS`) for a trial's ``values``."""
    if experiment == "sentiment":
        return sentiment_flags(hypermodel, values)
    return hyperparameter_flags(values)


def flagfile_text(flags, comments=()):
    """An absl flagfile: one ``--name=value`` a line (bools ``--name``/``--noname``).

    Lists are comma-separated; ``None`` values are left out; ``comments`` become
    ``#`` lines at the top.

    Example:

    >>> print(flagfile_text({"learning_rate": 0.01, "pretrain": True, "hidden_units": [32, 32]}))
    --hidden_units=32,32
    --learning_rate=0.01
    --pretrain
    <BLANKLINE>
    """
    lines = [f"# {line}" for line in comments]
    for name in sorted(flags):
        value = flags[name]
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"--{name}" if value else f"--no{name}")
        elif isinstance(value, (list, tuple)):
            lines.append(f"--{name}={','.join(str(v) for v in value)}")
        else:
            lines.append(f"--{name}={value}")
    return "\n".join(lines) + "\n"


def best_flags(experiment, hypermodel=None, base_flags=None):
    """``best_flags(summary, path)`` for ``tuning.write_search_results``: the app's flagfile.

    The flagfile holds ``base_flags`` (data set, epochs, ...) updated with the
    best trial's hyper-parameters as flags of ``experiment``'s app, under two
    comment lines: which trial won, and the command that runs it.

    Example:

    >>> from keras_sparse_rect.tuning import write_search_results
    >>> files = write_search_results(summary, best_flags=best_flags("image"))  # doctest: +SKIP
    """
    if experiment not in APPS:
        raise ValueError(f"`experiment` must be one of {list(APPS)}; got {experiment!r}.")

    def text(summary, path):
        best = summary["best"]
        flags = {
            **(base_flags or {}),
            **experiment_flags(experiment, hypermodel, best["hyperparameters"]),
        }
        comments = [
            f"Best of {len(summary['trials'])} trials in {summary['project_dir']}: trial "
            f"{best['trial_id']}, {summary['objective']['name']} = {best['score']:.6g}.",
            f"Use: {run_command(experiment, path)}",
        ]
        return flagfile_text(flags, comments)

    return text


def run_command(experiment, flagfile):
    """The command that runs ``experiment``'s app with ``flagfile``."""
    return f"python -m {APPS[experiment]} --flagfile={flagfile}"
