"""Hyper-parameter search with KerasTuner: the paper's selection, rerunnable (sections 4.1, 4.2).

The paper chooses its hyper-parameters by search. Section 4.1: the pretraining
learning rate is constant, "the following values have been explored:
{.1, .01, .001, .0001}. We select the model with the lowest reconstruction
error"; the fine-tuning learning rate comes from the same set, chosen "with
respect to the supervised validation error". Section 4.2: "We selected the noise
level of each layer based on the classification performance, the other
hyperparameters are selected according to the reconstruction error."

The package, one idea per module:

- :mod:`.space`: the search space (:data:`SEARCH_SPACE`, :data:`DEFAULT_VALUES`,
  :data:`STAGES`), :func:`parse_search_space`, :class:`SearchSpace`, one
  search over it (stage, tuned names, choices, fixed values); none of it
  loads Keras, so that an app checks its flags against it first;
- :mod:`.hypermodel`: :class:`SpaceHyperModel`, the HyperModel base that reads
  its stage, tuned names and objective off its space;
- :mod:`.trial`: what every trial shares (``val_error``, its metrics, the
  divergence checks);
- :mod:`.image`: :class:`DeepSparseHyperModel`, the image search, and
  :func:`trial_settings` (a trial's values as ``ImageExperimentConfig`` fields);
- :mod:`.sentiment`: :class:`SentimentHyperModel`, the search on reviews, whose
  ``trial_config`` is a trial's ``SentimentConfig``;
- :mod:`.tuners`: the resumable tuners, :func:`make_tuner`, :func:`search_role`;
- :mod:`.search`: :func:`run_search`;
- :mod:`.report`: :func:`summarize`, :func:`summary_text`, :func:`trials_markdown`,
  :func:`write_search_results`;
- :mod:`._compat`: every use of KerasTuner's private internals, checked at import.

Both HyperModels are ``keras_tuner.HyperModel`` subclasses built around a
:class:`SearchSpace`: ``declare_hyperparameters(hp)`` declares it, ``build(hp)``
returns the compiled network, and ``fit(hp, model, ...)`` pretrains it greedily
with the trial's pretraining hyper-parameters and then fine-tunes it, so that
both stages are tunable:

======================  =========================  ====================  =======
hyper-parameter         default choices            selected by           paper
======================  =========================  ====================  =======
pretrain_learning_rate  0.1, 0.01, 0.001, 0.0001   reconstruction error  4.1
l1                      0, 0.0001, 0.001           reconstruction error  4.2
learning_rate           0.1, 0.01, 0.001, 0.0001   validation error      4.1
noise                   0, 0.1, 0.25, 0.5          validation error      4.2
activation              rectifier, tanh, softplus  validation error      3.1
hidden_layers           1, 2, 3                    validation error      4
hidden_units            500, 1000                  validation error      4
======================  =========================  ====================  =======

**Two stages, as in the paper** (``stage=``), each one KerasTuner search:

1. ``"pretrain"`` tunes ``pretrain_learning_rate`` and ``l1``. Its objective is
   ``pretrain/reconstruction`` (min): the top hidden layer's reconstruction cost
   in its last pretraining epoch, as logged by ``GreedyLayerwisePretraining``
   (``pretrain/layer_<k>/reconstruction``). Reconstruction error favours a small
   L1; fix ``l1`` (the paper's images: 0.001) when you want the sparsity.
2. ``"finetune"`` tunes ``learning_rate`` and ``noise`` with stage 1's best
   values fixed: ``fixed=stage1_tuner.get_best_hyperparameters()[0].values``
   (each becomes an ``hp.Fixed``). Its objective is ``val_error`` (min), the
   validation classification error (1 - ``val_accuracy``).

``"joint"`` tunes all seven in one search by validation error. Whatever a stage
does not tune is an ``hp.Fixed``: its value in ``fixed``, else
:data:`DEFAULT_VALUES`. ``tune=`` overrides which names are tuned and
``search_space=`` their choices. The reconstruction cost only compares networks
of one shape, so stage 1 runs on a fixed architecture.

:func:`make_tuner` makes a random, Bayesian, Hyperband or grid tuner that keeps
its state in ``directory/project_name``: started again on the same folder, a
stopped search resumes where it stopped (finished trials are kept, the one that
was running is run again). With KerasTuner's environment variables
``KERASTUNER_TUNER_ID`` (``chief``, ``tuner0``, ``tuner1``, ...),
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` the same code runs a
distributed search: the chief holds the oracle, the workers run trials.
:func:`run_search` runs the search and surfaces failed trials, which KerasTuner
only counts (:func:`summarize`); :func:`write_search_results` writes a summary
of all trials and, with the text the caller gives (``apps/tune.py``: a flagfile
of the experiment's app), ``best.flags``.

Example:

>>> from keras_sparse_rect.tuning import DeepSparseHyperModel, make_tuner, run_search
>>> stage1 = DeepSparseHyperModel((28, 28, 1), 10, stage="pretrain", pretrain_epochs=5)
>>> tuner = make_tuner("random", stage1, max_trials=8, project_name="stage1")
>>> result = run_search(tuner, x, y, validation_data=(x_val, y_val), epochs=5)  # doctest: +SKIP
>>> best = tuner.get_best_hyperparameters()[0].values  # doctest: +SKIP
>>> stage2 = DeepSparseHyperModel((28, 28, 1), 10, stage="finetune", fixed=best)  # doctest: +SKIP
"""

import importlib

#: Each public name -> the submodule that defines it (loaded on first use, so that
#: ``keras_sparse_rect.tuning.space`` can be read without Keras or KerasTuner).
_EXPORTS = {
    "BayesianOptimization": "tuners",
    "DEFAULT_VALUES": "space",
    "DeepSparseHyperModel": "image",
    "GridSearch": "tuners",
    "Hyperband": "tuners",
    "LEARNING_RATES": "space",
    "MAX_CONSECUTIVE_FAILURES": "tuners",
    "NOISE_TYPES": "image",
    "PER_LAYER": "sentiment",
    "PRETRAINING_ONLY": "space",
    "RAN_BY_FILE": "tuners",
    "RandomSearch": "tuners",
    "SEARCH_SPACE": "space",
    "SENTIMENT_SEARCH_SPACE": "sentiment",
    "STAGES": "space",
    "SearchSpace": "space",
    "SentimentHyperModel": "sentiment",
    "TUNERS": "tuners",
    "atomic_state_files": "_compat",
    "make_tuner": "tuners",
    "parse_search_space": "space",
    "run_search": "search",
    "search_role": "tuners",
    "summarize": "report",
    "summary_text": "report",
    "trial_settings": "image",
    "trials_markdown": "report",
    "write_search_results": "report",
}

__all__ = [
    "DEFAULT_VALUES",
    "LEARNING_RATES",
    "MAX_CONSECUTIVE_FAILURES",
    "NOISE_TYPES",
    "PER_LAYER",
    "PRETRAINING_ONLY",
    "RAN_BY_FILE",
    "SEARCH_SPACE",
    "SENTIMENT_SEARCH_SPACE",
    "STAGES",
    "TUNERS",
    "BayesianOptimization",
    "DeepSparseHyperModel",
    "GridSearch",
    "Hyperband",
    "RandomSearch",
    "SearchSpace",
    "SentimentHyperModel",
    "atomic_state_files",
    "make_tuner",
    "parse_search_space",
    "run_search",
    "search_role",
    "summarize",
    "summary_text",
    "trial_settings",
    "trials_markdown",
    "write_search_results",
]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
