"""Is the NISTP input pipeline fast enough? Examples/s of the pipeline vs. the model.

Measures, on synthetic NISTP-style data (uint8 32 x 32 "characters", 62
classes), in one process:

1. the distorted input pipeline alone (``to_tf_dataset`` + ``nistp_distortion``,
   batch 128): how fast it can feed;
2. the paper's network (3 x 1000 rectifier units, section 4.1) training with
   plain SGD on one ready batch repeated: how fast it can eat;
3. the same network fed by the distorted pipeline, both sharing the CPU.

The pipeline is not the bottleneck when (1) is well above (2); (3) / (2) shows
what sharing the cores costs. Run it with either backend:

    KERAS_BACKEND=jax python bench/input_pipeline.py
    KERAS_BACKEND=tensorflow python bench/input_pipeline.py
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_sparse_rect.data import nistp_distortion, to_tf_dataset  # noqa: E402


def synthetic_characters(n, seed=0):
    """Random strokes on black, uint8 32 x 32 x 1, like padded EMNIST."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 32, 32, 1), np.uint8)
    for i in range(n):
        for _ in range(3):
            r, c = rng.integers(4, 26, 2)
            if rng.random() < 0.5:
                x[i, r : r + rng.integers(4, 14), c : c + 3] = 255
            else:
                x[i, r : r + 3, c : c + rng.integers(4, 14)] = 255
    return x, rng.integers(0, 62, n).astype(np.int32)


def pipeline_rate(ds, steps, batch_size):
    iterator = iter(ds)
    for _ in range(5):  # warm up: tracing, prefetch buffers
        next(iterator)
    start = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    return steps * batch_size / (time.perf_counter() - start)


class _EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def training_rate(ds, steps, batch_size):
    """Examples/s of the second of two epochs (the first one compiles)."""
    model = keras.Sequential(
        [keras.Input((32, 32, 1)), keras.layers.Flatten()]
        + [keras.layers.Dense(1000, activation="relu") for _ in range(3)]
        + [keras.layers.Dense(62, activation="softmax")]
    )
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    timer = _EpochTimer()
    model.fit(ds, epochs=2, steps_per_epoch=steps, callbacks=[timer], verbose=0)
    return steps * batch_size / timer.seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=150, help="timed batches")
    parser.add_argument("--examples", type=int, default=20_000)
    args = parser.parse_args()
    b, steps = args.batch_size, args.steps
    x, y = synthetic_characters(args.examples)

    def distorted(streams=4):
        return to_tf_dataset(
            x,
            y,
            b,
            shuffle=True,
            seed=0,
            repeat=True,
            distortion=nistp_distortion(0),
            distortion_streams=streams,
        )

    feed_1 = pipeline_rate(distorted(1), steps, b)
    feed = pipeline_rate(distorted(), steps, b)
    eat = training_rate(distorted().take(1).cache().repeat(), steps, b)
    both = training_rate(distorted(), steps, b)
    print(f"backend {keras.backend.backend()}, batch {b}, {os.cpu_count()} CPUs")
    print(f"distorted NISTP pipeline alone, 1 stream:  {feed_1:7.0f} examples/s")
    print(f"distorted NISTP pipeline alone, 4 streams: {feed:7.0f} examples/s")
    print(f"3 x 1000 network on ready batches:         {eat:7.0f} examples/s")
    print(f"3 x 1000 network fed by the pipeline:      {both:7.0f} examples/s")
    print(f"pipeline / network: {feed / eat:.1f}x; fed / ready: {both / eat:.2f}")


if __name__ == "__main__":
    main()
