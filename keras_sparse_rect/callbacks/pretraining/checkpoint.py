"""Resumable pretraining: each finished layer's weights and the records, in ``checkpoint_dir``.

After hidden layer ``k`` is pretrained, its weights go to ``layer_<k>.npz`` and
the progress (layers done, their shapes, the history, dead fractions and
collapsed layers) to ``state.json``, each written to a temporary file and then
renamed, so that a crash or a full disk leaves the last complete checkpoint.
An interrupted pretraining resumes from its last finished layer.

>>> load("no_pretraining_here", pairs=[]) is None  # nothing saved there
True
"""

import dataclasses
import json
import os

import numpy as np

from keras_sparse_rect._arrays import to_numpy
from keras_sparse_rect.callbacks.pretraining.autoencoders import signs_of
from keras_sparse_rect.layers import SignFlippedRectifier

STATE_FILE = "state.json"


# Folders ------------------------------------------------------------------------


def check_directory(name, path):
    """``path`` as a string if a directory is there or can be made there; creates nothing.

    Raises:
        ValueError: naming ``name`` and ``path``, if ``path`` or a parent of it
            is a file, or the nearest existing parent is not writable.
    """
    if path is None:
        return None
    try:
        path = os.fspath(path)
    except TypeError:
        raise ValueError(f"`{name}` must be None or a path; got {name}={path!r}.") from None
    probe = os.path.abspath(path)
    while not os.path.lexists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        where = "it is" if probe == os.path.abspath(path) else f"{probe!r} is"
        raise ValueError(
            f"`{name}` must be a directory or a path where one can be made; got "
            f"{name}={path!r}, but {where} a file."
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(
            f"`{name}` must be a directory this process can write; got {name}={path!r}, but "
            f"{probe!r} is not writable."
        )
    return path


def make_directory(name, path):
    """Makes ``path`` and its missing parents; returns the folders made, outermost first.

    Raises:
        ValueError: naming ``name`` and ``path``, if the folder cannot be made
            (e.g. under ``/proc``).
    """
    missing, probe = [], os.path.abspath(path)
    while not os.path.isdir(probe) and os.path.dirname(probe) != probe:
        missing.append(probe)
        probe = os.path.dirname(probe)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"`{name}` must be a directory or a path where one can be made; got "
            f"{name}={path!r}, which cannot be made ({error.strerror or error})."
        ) from None
    return missing[::-1]


def remove_empty(folders):
    """Removes the folders of :func:`make_directory` that are still empty, innermost first."""
    for folder in reversed(folders):
        try:
            os.rmdir(folder)
        except OSError:
            return


# Saving and loading -------------------------------------------------------------


@dataclasses.dataclass
class Checkpoint:
    """What ``state.json`` records (the weights are in ``layer_<k>.npz``)."""

    completed_layers: int
    history: dict
    dead_fractions: dict
    collapsed_layers: list


def _shapes(pairs):
    return [list(dense.kernel.shape) for dense, _ in pairs]


def save(checkpoint_dir, pairs, checkpoint):
    """Saves the weights of layer ``checkpoint.completed_layers`` and the state, atomically.

    Raises:
        OSError: with the ``errno`` of the failure (e.g. ``ENOSPC``, a full
            disk) and one line naming the folder and the checkpoint kept; no
            temporary or half-written file is left.
    """
    layer = checkpoint.completed_layers
    dense, activation_layer = pairs[layer - 1]
    arrays = {"kernel": to_numpy(dense.kernel), "bias": to_numpy(dense.bias)}
    signs = signs_of(activation_layer)
    if signs is not None:
        arrays["signs"] = signs
    state = {
        "completed_layers": layer,
        "shapes": _shapes(pairs),
        "history": checkpoint.history,
        "collapsed_layers": checkpoint.collapsed_layers,
        "dead_fractions": {str(k): v for k, v in checkpoint.dead_fractions.items()},
    }
    weights = os.path.join(checkpoint_dir, f"layer_{layer}.npz")
    written = []
    try:
        _replace(weights, "wb", lambda f: np.savez(f, **arrays), written)
        _replace(
            os.path.join(checkpoint_dir, STATE_FILE),
            "w",
            lambda f: json.dump(state, f, indent=1),
            written,
        )
    except OSError as error:
        for path in written:  # the state still names the previous layer: it stays complete
            _remove(path)
        kept = (
            f"the checkpoint of hidden layers 1-{layer - 1} is kept and pretraining resumes from it"
            if layer > 1
            else "no layer was checkpointed yet"
        )
        raise OSError(
            error.errno,
            f"GreedyLayerwisePretraining could not save hidden layer {layer} to "
            f"checkpoint_dir={checkpoint_dir!r} ({error.strerror or error}); {kept}.",
        ) from error


def _replace(path, mode, write, written):
    """Writes ``path`` through ``path.tmp`` and a rename; records what it wrote."""
    written.append(path + ".tmp")
    with open(path + ".tmp", mode) as f:
        write(f)
    if os.path.basename(path) != STATE_FILE:
        written.append(path)  # layer_<k>.npz is complete only once the state names it
    os.replace(path + ".tmp", path)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def load(checkpoint_dir, pairs, *, weights=True):
    """The :class:`Checkpoint` of ``checkpoint_dir``, or ``None`` if it has none.

    Args:
        checkpoint_dir: the folder.
        pairs: the network's ``(Dense, activation layer)`` pairs.
        weights: also load the finished layers' weights into ``pairs``. Without
            weights (a resumed fine-tuning that only reports its pretraining), an
            unreadable state or one of other shapes is ignored.

    Raises:
        ValueError: with ``weights``, if the folder holds the pretraining of
            layers of other shapes, or an unreadable ``state.json``.
    """
    path = os.path.join(checkpoint_dir, STATE_FILE)
    try:
        with open(path) as f:
            state = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        if not weights:
            return None
        raise ValueError(
            f"`checkpoint_dir`={checkpoint_dir!r} holds an unreadable {STATE_FILE} ({error}); "
            "delete it to pretrain from the start."
        ) from None
    shapes = _shapes(pairs)
    if state.get("shapes") != shapes:
        if not weights:
            return None
        raise ValueError(
            f"`checkpoint_dir`={checkpoint_dir!r} holds pretraining of hidden "
            f"layers of shapes {state.get('shapes')}; this model's are {shapes}."
        )
    completed = int(state["completed_layers"])
    for index in range(completed if weights else 0):
        dense, activation_layer = pairs[index]
        with np.load(os.path.join(checkpoint_dir, f"layer_{index + 1}.npz")) as arrays:
            dense.kernel.assign(arrays["kernel"])
            dense.bias.assign(arrays["bias"])
            if "signs" in arrays and isinstance(activation_layer, SignFlippedRectifier):
                activation_layer.signs.assign(arrays["signs"])
    return Checkpoint(
        completed_layers=completed,
        history=state.get("history", {}),
        dead_fractions={int(k): float(v) for k, v in state.get("dead_fractions", {}).items()},
        collapsed_layers=[int(k) for k in state.get("collapsed_layers", [])],
    )
