"""Strategy resolution, MirroredStrategy equivalence, and a two-worker run of the app."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import keras
import pytest

from keras_sparse_rect import distribute
from tests.apps.conftest import ROOT


def test_unknown_name_and_default():
    with pytest.raises(ValueError, match="strategy"):
        distribute.get_strategy("everywhere")
    strategy = distribute.get_strategy("default")
    with strategy.scope():
        keras.layers.Dense(2).build((None, 3))
    assert distribute.num_replicas(strategy) == 1


def test_chief_from_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.is_chief() and distribute.task_index() is None
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})
    )
    assert not distribute.is_chief() and distribute.task_index() == 1
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})
    )
    assert distribute.is_chief()


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="keras.distribution is JAX-only")
def test_jax_mirrored_is_data_parallel():
    strategy = distribute.get_strategy("mirrored")
    assert isinstance(strategy, distribute.JaxDataParallel)
    with pytest.raises(distribute.StrategyError, match="TensorFlow"):
        distribute.get_strategy("multi_worker_mirrored")


MIRRORED = textwrap.dedent(
    """
    import json, os
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from keras_sparse_rect import distribute
    from keras_sparse_rect.models import build_deep_network, compile_for_paper

    x = np.random.default_rng(0).random((256, 20)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, 256)
    losses = {}
    for name in ("default", "mirrored"):
        strategy = distribute.get_strategy(name)
        with strategy.scope():
            model = build_deep_network((20,), 3, hidden_units=(32, 32), seed=0)
            compile_for_paper(model, learning_rate=0.05, jit_compile=False, steps_per_execution=1)
        history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        losses[name] = [history.history["loss"], distribute.num_replicas(strategy)]
    print(json.dumps(losses))
    """
)


@pytest.mark.tensorflow_only
def test_mirrored_over_two_logical_cpus_matches_one_device():
    run = subprocess.run(
        [sys.executable, "-c", MIRRORED],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    losses = json.loads(run.stdout.strip().splitlines()[-1])
    assert losses["mirrored"][1] == 2 and losses["default"][1] == 1
    assert losses["mirrored"][0] == pytest.approx(losses["default"][0], rel=1e-4)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.tensorflow_only
def test_multi_worker_app_two_workers_agree(tiny_mnist, tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    args = [
        sys.executable,
        "-m",
        "apps.image_experiment",
        f"--dataset={tiny_mnist}",
        f"--model_dir={tmp_path}",
        "--strategy=multi_worker_mirrored",
        "--hidden_units=32,32",
        "--batch_size=20",
        "--epochs=2",
        "--pretrain_epochs=1",
        "--pretrain_learning_rate=0.001",
        "--verbose=0",
    ]
    workers = []
    for index in range(2):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config), "TF_CPP_MIN_LOG_LEVEL": "3"}
        workers.append(
            subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    try:
        outputs = [w.communicate(timeout=300) for w in workers]
    finally:
        for w in workers:
            w.kill()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()[-3000:]
    chief = json.loads((tmp_path / "result.json").read_text())
    other = json.loads((tmp_path / "workers" / "1" / "result.json").read_text())
    assert chief["replicas"] == 2
    assert chief["history"]["loss"] == pytest.approx(other["history"]["loss"], rel=1e-6)
    assert chief["test_error"] == other["test_error"]
    assert (tmp_path / "model.keras").exists()
