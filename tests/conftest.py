"""Shared pytest configuration.

Run the suite once per backend: ``KERAS_BACKEND=tensorflow python -m pytest`` and
``KERAS_BACKEND=jax python -m pytest``. Tests marked ``tensorflow_only`` (tf.data,
tf.distribute, tensorflow-datasets) are skipped on other backends.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


def pytest_collection_modifyitems(config, items):
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason="needs the TensorFlow backend")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Each test starts with fresh Keras names and a fixed global seed."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    yield
