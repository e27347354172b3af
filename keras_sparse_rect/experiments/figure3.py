"""Figure 3: sparsity against test error (left), pretraining with few labels (right).

Section 4.1 and Figure 3 of the paper. **Left**: rectifier networks trained
without pretraining, with L1 activation penalties spread over [0, 0.001] (the
paper trained 200 on MNIST; "models with 70% to almost 85% of true zeros can
achieve similar performances"); each network gives one point (average exact
sparsity of its hidden layers on the test set, test error). **Right**:
rectifier and tanh networks, with and without greedy layer-wise pretraining on
the *whole* training set (unlabeled), fine-tuned on growing fractions of the
labels (the paper used NORB); pretraining is "highly beneficial" to rectifiers
with few labels and the curves meet when everything is labeled.

The protocol of every run (:func:`fine_tune`): SGD at a constant rate (Table 1's
settings), early stopping on the whole validation set, keeping the best epoch's
weights. A small labeled set gets as many updates per epoch as a set of
``min_epoch_examples`` (its examples repeated, reshuffled each epoch), so that
0.5% of the labels is not starved of steps. The labeled subsets are
class-stratified and nested
(:func:`~keras_sparse_rect.data.splits.labeled_subset`: each fraction holds the
smaller ones, per seed). Pretraining runs once per (neuron type, seed), is
cached in the grid's folder and reused by every fraction.

Every run keeps ``result.json`` and ``test_predictions.npy`` in its own folder;
a grid started again reuses finished runs (same settings) and trains the rest,
so a killed grid resumes (a run killed midway starts again from its beginning;
a pretraining killed midway from its last finished layer). The CSVs and PNGs
are written by :mod:`keras_sparse_rect.experiments.figure3_report`.
"""

import dataclasses
import os

import numpy as np

from keras_sparse_rect._validation import check_int
from keras_sparse_rect.data.splits import labeled_subset
from keras_sparse_rect.experiments.figure3_protocol import (  # noqa: F401 (public here too)
    Protocol,
    capped,
    evaluate,
    fine_tune,
    pretrained_weights,
    run_settings,
)

#: Labeled fractions of the right panel (issue 32: 0.5% to 100%).
FRACTIONS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
#: Neuron types of the right panel.
NEURONS = ("rectifier", "tanh")
#: Pretraining rates per layer that Table 1's selection (section 4.1) chose on full
#: MNIST for seeds 0 - 2 (docs/results/table1.md); the fine-tuning rate was 0.01.
PRETRAIN_RATES = {"rectifier": (0.01, 0.001, 0.01), "tanh": (0.01, 0.01, 0.01)}
#: Section 4.1 states the L1 penalty for rectifier networks (Table 1: ``l1_neurons``).
L1_NEURONS = ("rectifier",)
#: Table 1's patience is 10 at most 50 epochs; the grids use less to fit their budget.
DEFAULT_PROTOCOL = Protocol()


def l1_values(count, high=1e-3, beyond=()):
    """``count`` L1 coefficients evenly spread over [0, ``high``], then ``beyond``.

    >>> l1_values(3, beyond=(0.003,))
    [0.0, 0.0005, 0.001, 0.003]
    """
    check_int("count", count, 1)
    spread = [0.0] if count == 1 else [float(v) for v in np.linspace(0.0, high, count)]
    return spread + [float(v) for v in beyond]


def neuron_config(base_config, neuron, seed, pretrain_rates=None):
    """``base_config`` for one neuron type and seed: L1 on rectifiers only (Table 1), and the
    pretraining rates ``pretrain_rates`` (default: :data:`PRETRAIN_RATES` of that neuron)."""
    rates = PRETRAIN_RATES[neuron] if pretrain_rates is None else pretrain_rates
    if len(rates) != len(base_config.hidden_units):
        rates = rates[:1]
    return dataclasses.replace(
        base_config,
        activation=neuron,
        l1=base_config.l1 if neuron in L1_NEURONS else 0.0,
        seed=seed,
        pretrain_learning_rate=tuple(rates),
    ).validate()


def run_labeled_fraction(
    base_config,
    data,
    fractions=FRACTIONS,
    seeds=(0, 1),
    neurons=NEURONS,
    protocol=DEFAULT_PROTOCOL,
    all_seeds_up_to=0.1,
    pretrain_rates=None,
    verbose=0,
    log=print,
    train=True,
    pretraining=(True, False),
):
    """Figure 3 (right): every (fraction, neuron, seed), with and without pretraining.

    Fractions up to ``all_seeds_up_to`` run every seed; larger ones the first
    seed only (issue 32: at least two seeds up to 10%). Fractions go from the
    smallest up, so an interrupted grid has its small fractions first. With
    ``train=False`` only the finished runs are gathered (nothing trains).
    ``pretraining`` chooses the curves: ``(True,)`` runs only the pretrained
    networks, ``(False,)`` only those without (a lane, or a check of one curve
    in its own ``model_dir``; pretraining runs only when a pretrained run trains).

    Returns:
        One row per run: ``activation``, ``pretrain``, ``seed``,
        ``labeled_fraction``, ``labeled``, ``test_error``, ``validation_error``,
        ``sparsity``, ``best_epoch``, ``updates``, ``wall_time_s``, ``test_correct``.
    """
    pretraining = tuple(pretraining)
    if (
        not pretraining
        or not all(isinstance(p, bool) for p in pretraining)
        or len(set(pretraining)) != len(pretraining)
    ):
        raise ValueError(
            f"`pretraining` must hold True, False or both, once each; got {pretraining!r}"
        )
    pretraining = [p for p in (True, False) if p in pretraining]
    root = base_config.model_dir
    cache = {}
    rows = []
    for fraction in sorted(fractions):
        for seed in seeds if fraction <= all_seeds_up_to else seeds[:1]:
            labeled = labeled_subset(data.y_train, fraction, seed)
            for neuron in neurons:
                config = neuron_config(base_config, neuron, seed, pretrain_rates)
                for pretrain in pretraining:
                    folder = os.path.join(root, f"{neuron}_seed{seed}")

                    def weights(config=config, folder=folder, key=(neuron, seed)):
                        if key not in cache:
                            cache[key] = pretrained_weights(
                                config, data, os.path.join(folder, "pretrained"), verbose
                            )
                        return cache[key][0]

                    name = f"{'pretrain' if pretrain else 'nopretrain'}_{fraction:.4f}"
                    extra = {"pretrain": pretrain, "labeled_fraction": fraction}
                    if pretrain:
                        extra["pretraining"] = {
                            "epochs": config.pretrain_epochs,
                            "learning_rate": list(config.per_layer("pretrain_learning_rate")),
                            "noise": list(config.per_layer("noise")),
                        }
                    result = fine_tune(
                        config,
                        data,
                        labeled,
                        protocol,
                        os.path.join(folder, name),
                        weights if pretrain else None,
                        verbose,
                        train,
                        **extra,
                    )
                    if result is None:
                        continue
                    row = _row(result, activation=neuron, pretrain=pretrain, seed=seed)
                    row.update(labeled_fraction=fraction, labeled=int(len(labeled)))
                    rows.append(row)
                    log(_line(row))
    return rows


def coarse_to_fine(count):
    """The indices ``0 .. count - 1`` ordered so that every prefix spans the range evenly.

    The ends first, then the midpoints by bisection: an interrupted sweep has
    points across all of [0, ``max_l1``] rather than its low end only.

    >>> coarse_to_fine(5)
    [0, 4, 2, 1, 3]
    """
    check_int("count", count, 1)
    order, seen = [], set()
    step = count - 1
    while True:
        for index in range(0, count, max(step, 1)):
            if index not in seen:
                seen.add(index)
                order.append(index)
        if step <= 1:
            return order
        step = (step + 1) // 2


def run_sparsity_sweep(
    base_config, data, l1s, protocol=DEFAULT_PROTOCOL, verbose=0, log=print, lane=(0, 1), train=True
):
    """Figure 3 (left): one rectifier network per L1 value, without pretraining.

    Network ``i`` has seed ``base_config.seed + i``; each trains on every
    labeled example to its best validation error. The networks train in the
    order of :func:`coarse_to_fine`; ``lane=(k, n)`` trains only every ``n``-th
    of that order from the ``k``-th (lanes side by side into one folder; a run
    with the default lane then gathers them all, reusing the finished ones).
    With ``train=False`` only the finished networks are gathered.

    Returns:
        One row per network, in the order of ``l1s``.
    """
    k, lanes = lane
    if check_int("lanes", lanes, 1) <= check_int("lane", k, 0):
        raise ValueError(f"`lane` must be (k, n) with 0 <= k < n; got lane={lane!r}.")
    labeled = np.arange(data.x_train.shape[0])
    rows = {}
    for index in coarse_to_fine(len(l1s))[k::lanes]:
        l1, seed = float(l1s[index]), base_config.seed + index
        config = dataclasses.replace(
            base_config, activation="rectifier", l1=l1, seed=seed
        ).validate()
        folder = os.path.join(base_config.model_dir, f"l1_{l1:.6f}_seed{seed}")
        result = fine_tune(
            config, data, labeled, protocol, folder, None, verbose, train, pretrain=False
        )
        if result is None:
            continue
        rows[index] = _row(result, activation="rectifier", pretrain=False, seed=seed)
        rows[index]["l1"] = l1
        log(_line(rows[index]))
    return [rows[i] for i in sorted(rows)]


def _row(result, **fields):
    keys = ("test_error", "validation_error", "sparsity", "best_epoch", "epochs_trained")
    keys += ("updates", "wall_time_s", "diverged")
    row = {**fields, **{k: result.get(k) for k in keys}}
    row["capped"] = capped(result)
    row["reused"] = bool(result.get("reused"))
    row["test_correct"] = result["test_correct"]
    return row


def _line(row):
    what = (
        f"L1 {row['l1']:.6f}"
        if "l1" in row
        else f"{row['activation']} {'with' if row['pretrain'] else 'without'} pretraining, "
        f"{100 * row['labeled_fraction']:g}% labeled ({row['labeled']})"
    )
    return (
        f"{what}, seed {row['seed']}: test error {100 * row['test_error']:.2f}%, "
        f"sparsity {100 * row['sparsity']:.1f}%, best epoch {row['best_epoch']} of "
        f"{row['epochs_trained']}, {row['wall_time_s']:.0f} s{' (reused)' if row['reused'] else ''}"
    )
