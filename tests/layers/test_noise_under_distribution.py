"""Under MirroredStrategy each replica must draw its own noise (Keras' own layers don't).

See docs/facts.md, "Identical noise on MirroredStrategy replicas".
"""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import os, json
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from keras_sparse_rect.layers import MaskingNoise, SaltAndPepperNoise

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    result = {}
    with strategy.scope():
        layers = {
            "masking": MaskingNoise(0.5, seed=1),
            "salt_pepper": SaltAndPepperNoise(0.5, seed=1),
            "keras_dropout": keras.layers.Dropout(0.5, seed=1),
        }
    x = tf.ones((8, 64))
    dataset = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensors(x).unbatch().batch(8)
    )
    batch = next(iter(dataset))
    for name, layer in layers.items():
        @tf.function
        def step(b):
            return layer(b, training=True)
        per_replica = strategy.experimental_local_results(strategy.run(step, args=(batch,)))
        a, b = (np.asarray(t) for t in per_replica)
        result[name] = bool(np.array_equal(a == 0, b == 0) and np.array_equal(a, b))
        result[name + "_changed"] = float(np.mean(a != 1.0))
    print(json.dumps(result))
    """
)


@pytest.mark.tensorflow_only
def test_each_replica_draws_its_own_noise():
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=180
    )
    assert run.returncode == 0, run.stderr[-3000:]
    import json

    result = json.loads(run.stdout.strip().splitlines()[-1])
    # Ours differ between the two replicas; each still corrupts about half.
    assert result["masking"] is False
    assert result["salt_pepper"] is False
    assert 0.3 < result["masking_changed"] < 0.7
    # Documents the Keras behaviour we work around (if Keras fixes it, fine: drop this line).
    assert result["keras_dropout"] is True
