"""A network of the library loads back in a fresh process that imported only the layers."""

import os
import subprocess
import sys

from keras_sparse_rect.models import build_deep_network

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_saved_network_loads_after_importing_only_the_layers(tmp_path):
    # The sign-flipped layers carry the package's ActivityL1, which is registered in
    # keras_sparse_rect.regularizers: loading used to fail unless that module was imported.
    model = build_deep_network((12,), 3, hidden_units=(8, 8), l1=0.001, seed=0)
    path = tmp_path / "model.keras"
    model.save(path)
    code = (
        "import keras, numpy as np, keras_sparse_rect.layers, sys\n"
        f"m = keras.saving.load_model({str(path)!r})\n"
        "names = [type(layer.activity_regularizer).__name__ for layer in m.layers]\n"
        "assert 'ActivityL1' in names, names\n"
        "print(m.predict(np.ones((2, 12), 'float32'), verbose=0).shape)\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("(2, 3)")
