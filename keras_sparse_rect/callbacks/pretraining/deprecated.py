"""The settings objects from their arguments, and from the keywords they replace (one release).

``GreedyLayerwisePretraining`` takes the rate selection as one
:class:`~.selection.RateSelection` and the collapse policy as one
:class:`~.collapse.CollapsePolicy`. The seven keywords they replace still work,
with a ``DeprecationWarning`` and the same behaviour, until the next release.

>>> resolve(None, {"threshold": 0.2}, {})
(None, CollapsePolicy(threshold=0.2, action='warn', sample=10000))
"""

import warnings

import keras

from keras_sparse_rect.callbacks.pretraining import collapse as _collapse
from keras_sparse_rect.callbacks.pretraining import selection as _selection
from keras_sparse_rect.callbacks.pretraining.collapse import CollapsePolicy
from keras_sparse_rect.callbacks.pretraining.selection import RateSelection
from keras_sparse_rect.names import PAPER_LEARNING_RATES

#: Deprecated keyword -> field of :class:`RateSelection`.
RATE_KEYWORDS = {
    "select_learning_rate": "candidates",
    "selection_examples": "examples",
    "selection_epochs": "epochs",
    "eligible_dead_fraction": "eligible_dead_fraction",
}
#: Deprecated keyword -> field of :class:`CollapsePolicy`.
COLLAPSE_KEYWORDS = {
    "collapse_threshold": "threshold",
    "on_collapse": "action",
    "dead_unit_sample": "sample",
}


def settings_object(name, value, cls):
    """``value`` as ``cls``: an instance, its ``get_config()`` dict or a serialized object.

    Raises:
        ValueError: naming ``name``, for any other value.
    """
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        if "class_name" in value:
            value = keras.saving.deserialize_keras_object(value)
            if isinstance(value, cls):
                return value
        else:
            try:
                return cls.from_config(value)
            except TypeError as error:
                raise ValueError(
                    f"`{name}` got a config {cls.__name__} refuses: {error}."
                ) from None
    raise ValueError(
        f"`{name}` must be None, a {cls.__name__} or its config dict; got {name}={value!r}."
    )


def resolve(rate_selection, collapse, deprecated, stacklevel=3):
    """``(RateSelection or None, CollapsePolicy)`` from the new arguments or the old keywords.

    Args:
        rate_selection: ``None``, a :class:`RateSelection` or its config.
        collapse: ``None`` (the defaults), a :class:`CollapsePolicy` or its config.
        deprecated: the other keyword arguments given to the callback.
        stacklevel: of the ``DeprecationWarning``.

    Raises:
        TypeError: for a keyword that is neither new nor deprecated.
        ValueError: for an invalid value (named as given), or a group given both ways.
    """
    unknown = sorted(set(deprecated) - set(RATE_KEYWORDS) - set(COLLAPSE_KEYWORDS))
    if unknown:
        raise TypeError(
            f"GreedyLayerwisePretraining() got an unexpected keyword argument {unknown[0]!r}"
        )
    old_rate = {k: deprecated[k] for k in RATE_KEYWORDS if k in deprecated}
    old_collapse = {k: deprecated[k] for k in COLLAPSE_KEYWORDS if k in deprecated}
    if old_rate or old_collapse:
        warnings.warn(
            f"GreedyLayerwisePretraining: {', '.join(sorted({**old_rate, **old_collapse}))} "
            "are deprecated and will be removed in the next release; pass "
            "rate_selection=RateSelection(candidates=..., examples=..., epochs=..., "
            "eligible_dead_fraction=...) and collapse=CollapsePolicy(threshold=..., "
            "action=..., sample=...) instead.",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
    for old, new, given in (
        (old_rate, "rate_selection", rate_selection),
        (old_collapse, "collapse", collapse),
    ):
        if old and given is not None:
            raise ValueError(
                f"give `{new}` or the deprecated {', '.join(f'`{k}`' for k in old)}, not both."
            )
    if old_collapse:
        values = {**CollapsePolicy().get_config()}
        values.update({COLLAPSE_KEYWORDS[k]: v for k, v in old_collapse.items()})
        collapse = CollapsePolicy(**_collapse.checked(**values, names=tuple(COLLAPSE_KEYWORDS)))
    if old_rate:
        values = {**RateSelection().get_config(), "candidates": None}
        values.update({RATE_KEYWORDS[k]: v for k, v in old_rate.items()})
        candidates = values.pop("candidates")
        checked = _selection.checked(
            PAPER_LEARNING_RATES if candidates is None else candidates,
            **values,
            names=tuple(RATE_KEYWORDS),
        )
        # Without candidates there is no selection (the other keywords are only checked).
        rate_selection = None if candidates is None else RateSelection(**checked)
    if rate_selection is not None:
        rate_selection = settings_object("rate_selection", rate_selection, RateSelection)
    collapse = CollapsePolicy() if collapse is None else collapse
    return rate_selection, settings_object("collapse", collapse, CollapsePolicy)
