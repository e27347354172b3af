"""Every app's flag helpers in one import: ``from . import flags as app_flags``.

Three modules, one idea each:

- :mod:`apps._config_flags`: flags generated from the experiments' config
  dataclasses, and the validated config and data they give;
- :mod:`apps._cli`: the command-line error handling (one line naming the
  flag, exit status 2, no traceback), flag files, quiet Keras start-up, and
  the library's errors phrased from their fields;
- :mod:`apps._review_flags`: the review apps' data flags (section 4.2).

No module here imports Keras or TensorFlow until the flags are checked.

Example:

>>> from apps import flags as app_flags
>>> app_flags.SINGLE_RUN_FIELDS
('activation', 'pretrain', 'labeled_fraction')
"""

from absl import flags

from keras_sparse_rect.experiments.configs import ImageExperimentConfig, SentimentConfig

from ._cli import (
    check_flagfiles,
    check_output_dir,
    collapse_message,
    conflict_message,
    fail,
    flag_message,
    import_keras_quietly,
    native_stderr_silenced,
    parse_flags,
    run_conflicts_fail,
    run_errors_fail,
    verbosity,
)
from ._config_flags import (
    SINGLE_RUN_FIELDS,
    check_dataset,
    check_loaded_network,
    config_from_flags,
    define_common_flags,
    define_config_flags,
    define_sentiment_flags,
    define_single_run_flags,
    define_verbose_flag,
    strategy_and_data,
)
from ._review_flags import (
    REVIEW_DATA,
    REVIEW_FIELDS,
    REVIEW_FILE_FLAGS,
    check_review_flags,
    define_review_flags,
    load_reviews_from_flags,
)

FLAGS = flags.FLAGS

__all__ = [
    "FLAGS",
    "REVIEW_DATA",
    "REVIEW_FIELDS",
    "REVIEW_FILE_FLAGS",
    "SINGLE_RUN_FIELDS",
    "ImageExperimentConfig",
    "SentimentConfig",
    "check_dataset",
    "check_flagfiles",
    "check_loaded_network",
    "check_output_dir",
    "check_review_flags",
    "collapse_message",
    "config_from_flags",
    "conflict_message",
    "define_common_flags",
    "define_config_flags",
    "define_review_flags",
    "define_sentiment_flags",
    "define_single_run_flags",
    "define_verbose_flag",
    "fail",
    "flag_message",
    "import_keras_quietly",
    "load_reviews_from_flags",
    "native_stderr_silenced",
    "parse_flags",
    "run_conflicts_fail",
    "run_errors_fail",
    "strategy_and_data",
    "verbosity",
]
