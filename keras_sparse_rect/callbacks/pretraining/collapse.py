"""Dead units after pretraining, and what to do when a layer collapses (section 3.1).

A rectifier unit whose output is exactly 0 for every example is *dead*: it gets
no gradient and stays dead (section 3.1, "Potential problems"). Pretraining
that kills most of a layer's units, or whose reconstruction cost diverges,
hands fine-tuning a crippled network; :class:`CollapsePolicy` says how many dead
units are too many and what to do then.

>>> policy = CollapsePolicy(threshold=0.4, action="raise")
>>> CollapsePolicy.from_config(policy.get_config()) == policy
True
"""

import dataclasses
import math
import warnings

import keras
import numpy as np

from keras_sparse_rect._validation import check_choice, check_int, check_rate
from keras_sparse_rect.api import register
from keras_sparse_rect.callbacks.pretraining.representation import CACHE_BATCH, rows_of

#: What ``GreedyLayerwisePretraining`` does when a layer collapses.
ON_COLLAPSE = ("warn", "raise", "ignore")
#: Examples of the unlabeled data on which dead units are counted (all, if fewer).
DEAD_UNIT_SAMPLE = 10_000


class PretrainingCollapseError(RuntimeError):
    """A pretrained layer diverged, or lost most of its units under ``action="raise"``.

    Attributes:
        layer: 1-based number of the hidden layer.
        learning_rate: the pretraining learning rate the layer was trained with.
        diverged: ``True`` if its reconstruction cost became NaN or infinite,
            ``False`` if it lost more than the threshold's fraction of its units.
        dead_fraction: the fraction of its units that are dead (section 3.1).

    Example:

    >>> error = PretrainingCollapseError("...", layer=2, learning_rate=0.01, diverged=True)
    >>> error.layer, error.learning_rate, error.diverged
    (2, 0.01, True)
    """

    def __init__(
        self, message, *, layer=None, learning_rate=None, diverged=False, dead_fraction=None
    ):
        super().__init__(message)
        self.layer = layer
        self.learning_rate = learning_rate
        self.diverged = diverged
        self.dead_fraction = dead_fraction

    def __reduce__(self):  # keeps the fields through pickling (e.g. to a worker process)
        fields = {
            "layer": self.layer,
            "learning_rate": self.learning_rate,
            "diverged": self.diverged,
            "dead_fraction": self.dead_fraction,
        }
        return (_rebuild_error, (self.args[0], fields))


def _rebuild_error(message, fields):
    return PretrainingCollapseError(message, **fields)


@register
@dataclasses.dataclass(frozen=True)
class CollapsePolicy:
    """When a pretrained layer counts as collapsed, and what happens then (section 3.1).

    After each layer is pretrained, the fraction of its units that are dead
    (exactly 0 on every one of ``sample`` unlabeled examples) is measured. A
    layer past ``threshold``, or whose reconstruction cost became NaN, is
    collapsed: ``action="warn"`` names it in one warning line, ``"raise"``
    stops with :class:`PretrainingCollapseError`, ``"ignore"`` only records it.
    A layer that diverged stops pretraining unless ``action="ignore"``:
    fine-tuning NaN weights could only fail, and blame its own learning rate.

    Passed to ``GreedyLayerwisePretraining(collapse=...)`` as an object or as
    its ``get_config()`` dict, the way Keras passes a learning-rate schedule.

    Args:
        threshold: largest fraction of dead units, in [0, 1], that a layer may
            have without counting as collapsed.
        action: ``"warn"``, ``"raise"`` or ``"ignore"``.
        sample: unlabeled examples on which dead units are counted, >= 1.

    Raises:
        ValueError: naming the argument and its value.

    Example:

    >>> CollapsePolicy(threshold=0.3)
    CollapsePolicy(threshold=0.3, action='warn', sample=10000)
    """

    threshold: float = 0.5
    action: str = "warn"
    sample: int = DEAD_UNIT_SAMPLE

    def __post_init__(self):
        _set(self, checked(self.threshold, self.action, self.sample))

    def get_config(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def check(self, layer, units, dead, costs, learning_rate):
        """Applies the policy to a pretrained layer; returns whether it collapsed.

        Args:
            layer: 1-based number of the hidden layer.
            units: its number of units.
            dead: the fraction of them that are dead.
            costs: its reconstruction cost per pretraining epoch.
            learning_rate: the rate it was pretrained with.

        Raises:
            PretrainingCollapseError: if it diverged (unless ``action="ignore"``),
                or collapsed with ``action="raise"``.
        """
        diverged = not all(math.isfinite(v) for v in costs)
        if not diverged and dead <= self.threshold:
            return False
        if diverged:
            message = (
                f"GreedyLayerwisePretraining: hidden layer {layer}'s reconstruction cost became "
                f"{costs[-1]} (diverged) at pretraining learning_rate={learning_rate:g}; lower it."
            )
        else:
            message = (
                f"GreedyLayerwisePretraining: hidden layer {layer} collapsed: "
                f"{round(dead * units)} of its {units} units ({100 * dead:.1f}%) are dead after "
                f"pretraining (threshold {100 * self.threshold:g}%); try a lower "
                f"pretraining learning_rate (it was {learning_rate:g}) or a smaller l1."
            )
        # A diverged layer would hand NaN to fine-tuning, whose learning rate would then
        # be blamed: it stops here unless the collapse is to be ignored.
        if self.action == "raise" or (diverged and self.action == "warn"):
            raise PretrainingCollapseError(
                message,
                layer=layer,
                learning_rate=float(learning_rate),
                diverged=diverged,
                dead_fraction=float(dead),
            )
        if self.action == "warn":
            warnings.warn(message, stacklevel=4)
        return True


def checked(threshold, action, sample, names=("threshold", "action", "sample")):
    """The policy's fields, validated under ``names`` (the old keyword names allowed)."""
    return {
        "threshold": check_rate(names[0], threshold, allow_one=True),
        "action": check_choice(names[1], action, ON_COLLAPSE),
        "sample": check_int(names[2], sample, 1),
    }


def _set(instance, values):
    for name, value in values.items():
        object.__setattr__(instance, name, value)


def dead_fraction(dae, data, sample, seed):
    """Fraction of ``dae``'s units that are 0 on every row of ``data`` (or a sample of it).

    The encoder computes the network layer's own activations (its weights are
    copied there), so this is the layer's dead fraction on the unlabeled data.
    """
    rows = data.shape[0]
    if rows > sample:  # sorted, so a memory-mapped cache is read in order
        chosen = np.sort(np.random.default_rng(seed).choice(rows, sample, replace=False))
    else:
        chosen = np.arange(rows)
    alive = np.zeros(dae.units, dtype=bool)
    for start in range(0, chosen.size, CACHE_BATCH):
        batch = rows_of(data, chosen[start : start + CACHE_BATCH])
        if hasattr(batch, "toarray"):  # scipy.sparse: the encoder takes it dense
            batch = np.asarray(batch.toarray(), dtype="float32")
        code = np.asarray(keras.ops.convert_to_numpy(dae.encode(batch)))
        alive |= np.any(code != 0, axis=0)
    return float(1.0 - alive.mean())
