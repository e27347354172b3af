"""Argument checks shared by the public objects: one message format everywhere."""

import math
import numbers


def check_rate(name, value, *, allow_one=False):
    """Returns ``value`` as a float in [0, 1) (or [0, 1] with ``allow_one``)."""
    upper_ok = (lambda v: v <= 1.0) if allow_one else (lambda v: v < 1.0)
    interval = "[0, 1]" if allow_one else "[0, 1)"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isnan(value)
        or not (value >= 0.0 and upper_ok(value))
    ):
        raise ValueError(f"`{name}` must be a number in {interval}; got {name}={value!r}.")
    return float(value)


def check_non_negative(name, value):
    """Returns ``value`` as a finite float >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"`{name}` must be a finite number >= 0; got {name}={value!r}.")
    return float(value)


def check_positive(name, value):
    """Returns ``value`` as a finite float > 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"`{name}` must be a finite number > 0; got {name}={value!r}.")
    return float(value)


def check_seed(name, value):
    """Returns ``value`` if it is None or a non-negative int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be None or an int >= 0; got {name}={value!r}.")
    return int(value)


def check_min_rank(layer_name, input_shape, min_rank):
    """Raises if ``input_shape`` has fewer than ``min_rank`` dimensions."""
    rank = len(input_shape)
    if rank < min_rank:
        raise ValueError(
            f"{layer_name} expects inputs of rank >= {min_rank} (batch, ..., units); "
            f"got an input of rank {rank} with shape {tuple(input_shape)}."
        )


def check_int(name, value, minimum):
    """Returns ``value`` as an int >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; got {name}={value!r}.")
    return int(value)
