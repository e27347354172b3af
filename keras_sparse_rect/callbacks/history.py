"""The pretraining history's keys: one function writes them, one reads them.

:class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining` records each hidden
layer's pretraining as ``pretrain/layer_<k>/<name>`` entries (k is 1-based), where
``name`` is ``reconstruction``, ``loss``, ``dead_fraction``, ``learning_rate``, or
``selection/<rate>`` and ``rejected/<rate>`` for the rate selection (section 4.1).

>>> key = pretraining_key(2, "learning_rate")
>>> key
'pretrain/layer_2/learning_rate'
>>> layer_values({key: [0.001]}, "learning_rate", num_layers=2)
[None, 0.001]
"""

import re

_PREFIX = "pretrain/layer_"
_KEY = re.compile(r"^pretrain/layer_(\d+)/(.+)$")


def pretraining_key(layer, name):
    """The history key of hidden layer ``layer`` (1-based) and entry ``name``."""
    return f"{_PREFIX}{int(layer)}/{name}"


def parse_pretraining_key(key):
    """``(layer, name)`` for a key written by :func:`pretraining_key`, else ``None``."""
    match = _KEY.match(key)
    return (int(match.group(1)), match.group(2)) if match else None


def layer_values(history, name, num_layers=None, *, last=True):
    """Entry ``name`` of each hidden layer, in layer order (``None`` where missing).

    Args:
        history: ``{key: [per epoch]}`` as recorded by the pretraining callback.
        name: the entry, e.g. ``"learning_rate"`` or ``"reconstruction"``.
        num_layers: how many layers to report; by default, up to the highest
            layer with a ``name`` entry.
        last: the last recorded value of each entry (``False``: the whole list).
    """
    found = {}
    for key, values in (history or {}).items():
        parsed = parse_pretraining_key(key)
        if parsed and parsed[1] == name:
            found[parsed[0]] = (values[-1] if values else None) if last else list(values)
    if num_layers is None:
        num_layers = max(found, default=0)
    return [found.get(k) for k in range(1, num_layers + 1)]


def layer_entries(history, num_layers):
    """The entries of ``history`` that belong to hidden layers 1..``num_layers``."""
    out = {}
    for key, values in (history or {}).items():
        parsed = parse_pretraining_key(key)
        if parsed and parsed[0] <= num_layers:
            out[key] = values
    return out
