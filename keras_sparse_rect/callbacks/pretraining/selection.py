"""Choosing each layer's pretraining learning rate (section 4.1), and trying the next one.

Section 4.1 selects hyper-parameters among constant learning rates (0.1, 0.01,
0.001, 0.0001). Pretraining chooses per layer, greedily: each candidate trains
a short trial, the clean reconstruction cost of held-out rows ranks them
(:meth:`RateSelection.rank`), and the layer then trains fully with the best;
if that leaves too many units dead (section 3.1), the next-best candidate is
trained instead (:func:`train_first_eligible`).

>>> selection = RateSelection(candidates=(0.01, 0.001), epochs=2)
>>> RateSelection.from_config(selection.get_config()) == selection
True
"""

import dataclasses
import math
import numbers

import numpy as np

from keras_sparse_rect._validation import check_int, check_positive, check_rate
from keras_sparse_rect.api import register
from keras_sparse_rect.callbacks.pretraining import collapse as _collapse
from keras_sparse_rect.callbacks.pretraining.autoencoders import shuffle_seed
from keras_sparse_rect.callbacks.pretraining.representation import CACHE_BATCH, rows_of
from keras_sparse_rect.names import PAPER_LEARNING_RATES

_HELD_OUT = 2_000


@register
@dataclasses.dataclass(frozen=True)
class RateSelection:
    """How each layer's pretraining learning rate is chosen among candidates (section 4.1).

    Per layer, greedily, every candidate trains a fresh autoencoder (the same
    initial weights) for ``epochs`` on up to ``examples`` rows of the layer's
    cached input; the one with the lowest clean reconstruction cost on up to
    2,000 other rows, among those that leave at most ``eligible_dead_fraction``
    of the units dead, is chosen (a dead unit reconstructs with the decoder's
    bias alone, which a short trial can make cheap). Candidates that leave more,
    but no more than the collapse threshold, are tried only when no preferred
    one is left. If the full training leaves more than ``eligible_dead_fraction``
    of the units dead, the next-best candidate is trained instead; when every
    one does, the training with the fewest dead units is kept. On full MNIST a
    rate that left 29.8% of layer 2 dead, under a 0.5 bound, cost the
    fine-tuned network 0.3 points of test error (docs/results/table1.md).

    Passed to ``GreedyLayerwisePretraining(rate_selection=...)`` as an object
    or as its ``get_config()`` dict, the way Keras passes a learning-rate schedule.

    Args:
        candidates: the learning rates to choose from (default: section 4.1's
            ``PAPER_LEARNING_RATES``, 0.1 to 0.0001).
        examples: rows of the cached input each trial trains on, >= 1.
        epochs: epochs of each trial, >= 1.
        eligible_dead_fraction: the largest fraction of dead units, in [0, 1],
            that a candidate may leave (in its trial, then in full training) and
            still be preferred; the stricter of it and the collapse threshold holds.

    Raises:
        ValueError: naming the argument and its value.

    Example:

    >>> RateSelection(candidates=[0.1, 0.01]).candidates
    (0.1, 0.01)
    """

    candidates: tuple = PAPER_LEARNING_RATES
    examples: int = 10_000
    epochs: int = 1
    eligible_dead_fraction: float = 0.1

    def __post_init__(self):
        values = checked(self.candidates, self.examples, self.epochs, self.eligible_dead_fraction)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def get_config(self):
        config = dataclasses.asdict(self)
        config["candidates"] = list(self.candidates)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def bound(self, collapse):
        """The dead fraction up to which a candidate rate is preferred."""
        return min(self.eligible_dead_fraction, collapse.threshold)

    def rank(self, build, data, batch_size, collapse, seed):
        """The candidates by held-out reconstruction cost, among those that keep the layer alive.

        Args:
            build: ``build(learning_rate)`` returns a fresh compiled autoencoder.
            data: the layer's cached input (rows).
            batch_size: the layer's mini-batch size.
            collapse: the :class:`~.collapse.CollapsePolicy` (its threshold and sample).
            seed: seed of the rows drawn for the trials, or ``None``.

        Returns:
            ``(eligible rates, best first; {rate: cost}; {rate: dead fraction})``;
            a diverged candidate's cost is ``inf``. When every candidate diverged
            or collapsed the layer, the smallest rate alone.

        Raises:
            ValueError: if ``data`` has fewer than 2 rows.
        """
        rows = data.shape[0]
        held_out = max(1, min(_HELD_OUT, rows // 5))
        count = min(self.examples, rows - held_out)
        if count < 1:
            raise ValueError(
                f"GreedyLayerwisePretraining: {rows} unlabeled examples are too few to "
                "select a learning rate (select_learning_rate needs at least 2)."
            )
        order = np.random.default_rng(seed).permutation(rows)
        train = rows_of(data, np.sort(order[:count]))
        valid = rows_of(data, np.sort(order[count : count + held_out]))
        costs, dead = {}, {}
        for rate in self.candidates:
            dae = build(rate)
            dae.adapt(train)
            dae.fit(
                train,
                batch_size=batch_size,
                epochs=self.epochs,
                shuffle=True,
                verbose=0,
                **shuffle_seed(dae, seed),
            )
            cost = float(
                dae.evaluate(valid, batch_size=CACHE_BATCH, verbose=0, return_dict=True)[
                    "reconstruction"
                ]
            )
            costs[float(rate)] = cost if math.isfinite(cost) else math.inf
            dead[float(rate)] = _collapse.dead_fraction(dae, valid, collapse.sample, seed)
        # Units that a trial kills seldom come back in full training: a candidate
        # that kills many is tried only after those that kill few.
        bound = self.bound(collapse)
        finite = [rate for rate in costs if math.isfinite(costs[rate])]
        preferred = [rate for rate in finite if dead[rate] <= bound]
        tolerated = [rate for rate in finite if bound < dead[rate] <= collapse.threshold]
        if not preferred and not tolerated:  # all diverged or collapsed: the smallest rate
            return [min(costs)], costs, dead

        def by_cost(rates):
            return sorted(rates, key=lambda rate: (costs[rate], -rate))

        return by_cost(preferred) + by_cost(tolerated), costs, dead


def checked(
    candidates,
    examples,
    epochs,
    eligible_dead_fraction,
    names=("candidates", "examples", "epochs", "eligible_dead_fraction"),
):
    """The selection's fields, validated under ``names`` (the old keyword names allowed)."""
    if isinstance(candidates, (str, bytes, numbers.Number)) or not hasattr(candidates, "__iter__"):
        raise ValueError(
            f"`{names[0]}` must be a sequence of learning rates; got {names[0]}={candidates!r}."
        )
    candidates = tuple(check_positive(f"{names[0]}[{i}]", v) for i, v in enumerate(candidates))
    if not candidates:
        raise ValueError(f"`{names[0]}` must not be empty; got ().")
    return {
        "candidates": candidates,
        "examples": check_int(names[1], examples, 1),
        "epochs": check_int(names[2], epochs, 1),
        "eligible_dead_fraction": check_rate(names[3], eligible_dead_fraction, allow_one=True),
    }


@dataclasses.dataclass
class Attempt:
    """One full training of a layer's autoencoder at one learning rate."""

    dae: object
    result: object  # fit's History
    dead: float
    learning_rate: float

    @property
    def score(self):
        """The dead fraction, or ``inf`` if the reconstruction cost diverged."""
        finite = all(math.isfinite(v) for v in self.result.history["reconstruction"])
        return self.dead if finite else math.inf


def train_first_eligible(train, ranked, bound, layer, verbose=0):
    """Trains with each rate of ``ranked`` in turn until one leaves at most ``bound`` dead.

    A full epoch can kill units that the short trial left alive: the selection
    then goes on to the next-best candidate.

    Args:
        train: ``train(learning_rate)`` returns the layer's :class:`Attempt`.
        ranked: learning rates, best first.
        bound: the dead fraction up to which an attempt is accepted.
        layer: 1-based number of the layer (for the verbose lines).
        verbose: print a line for each rejected rate.

    Returns:
        ``(attempt, {rejected rate: its dead fraction})``: the first accepted
        attempt or, when none is, the one that left the fewest dead units.
    """
    kept, rejected = None, {}
    for learning_rate in ranked:
        attempt = train(learning_rate)
        if kept is None or attempt.score < kept.score:
            kept = attempt
        if len(ranked) == 1 or attempt.score <= bound:
            break
        rejected[float(learning_rate)] = attempt.score
        if verbose:
            print(
                f"Hidden layer {layer}: learning rate {learning_rate:g} left "
                f"{100 * attempt.dead:.1f}% of the units dead in full training (more than "
                f"{100 * bound:g}%); trying the next-best candidate."
            )
    rejected.pop(float(kept.learning_rate), None)
    return kept, rejected


def selection_line(layer, ranked, costs, dead, threshold, preferred=None):
    """The chosen rate and every candidate's trial cost, naming those that were not eligible.

    ``preferred`` (default: ``threshold``) is the dead fraction up to which a
    candidate is preferred; those between it and ``threshold`` are marked as
    tried after the others.

    >>> line = selection_line(1, [0.01], {0.1: math.inf, 0.01: 2.5}, {0.1: 1.0, 0.01: 0.0}, 0.5)
    >>> line.endswith("alive (0.1: inf (diverged), 0.01: 2.5).")
    True
    """
    preferred = threshold if preferred is None else preferred
    parts, any_eligible = [], False
    for rate, cost in costs.items():
        text = f"{rate:g}: {cost:.4g}"
        if not math.isfinite(cost):
            text += " (diverged)"
        elif dead[rate] > threshold:
            text += f" ({100 * dead[rate]:.0f}% of the units dead: not eligible)"
        elif dead[rate] > preferred:
            text += f" ({100 * dead[rate]:.0f}% of the units dead: tried last)"
            any_eligible = True
        else:
            any_eligible = True
        parts.append(text)
    verdict = (
        "has the lowest held-out reconstruction cost of the candidates that leave the layer alive"
        if any_eligible
        else "is the smallest candidate (none left the layer alive)"
    )
    costs_text = ", ".join(parts)
    return (
        f"Hidden layer {layer}: pretraining learning rate {ranked[0]:g} {verdict} ({costs_text})."
    )
