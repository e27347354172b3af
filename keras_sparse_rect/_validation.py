"""Argument checks shared by the public objects: one message format everywhere."""

import math
import numbers
import os


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


#: The largest seed every backend accepts: NumPy's and Keras' seeds are 32-bit
#: unsigned integers (``keras.utils.set_random_seed`` seeds NumPy with it).
MAX_SEED = 2**32 - 1


def check_seed(name, value):
    """Returns ``value`` if it is None or an int in [0, :data:`MAX_SEED`].

    >>> check_seed("seed", 2**40)
    Traceback (most recent call last):
    ...
    ValueError: `seed` must be None or an int in [0, 4294967295]; got seed=1099511627776.
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 0 <= value <= MAX_SEED
    ):
        raise ValueError(
            f"`{name}` must be None or an int in [0, {MAX_SEED}]; got {name}={value!r}."
        )
    return int(value)


def check_min_rank(layer_name, input_shape, min_rank):
    """Raises if ``input_shape`` has fewer than ``min_rank`` dimensions."""
    rank = len(input_shape)
    if rank < min_rank:
        raise ValueError(
            f"{layer_name} expects inputs of rank >= {min_rank} (batch, ..., units); "
            f"got an input of rank {rank} with shape {tuple(input_shape)}."
        )


def check_int(name, value, minimum, maximum=None):
    """Returns ``value`` as an int >= ``minimum`` (and <= ``maximum``; bools refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"`{name}` must be an int {bound}; got {name}={value!r}.")
    return int(value)


def check_bool(name, value):
    """Returns ``value`` if it is a bool (``0``/``1`` and strings refused)."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be a bool; got {name}={value!r}.")
    return value


def check_choice(name, value, choices):
    """Returns ``value`` if it is one of ``choices`` (strings compared exactly)."""
    choices = tuple(choices)
    if isinstance(value, bool) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {name}={value!r}.")
    return value


def check_int_sequence(name, values, *, minimum=1, count=None, maximum=None):
    """Returns ``values`` (an int or a sequence of ints) as a non-empty tuple of ints.

    Args:
        name: the argument's name, used in the message.
        values: one int, or a list/tuple of ints.
        minimum: the smallest value allowed.
        count: if given, the number of values required (one value is also accepted
            and repeated, as by :func:`per_layer`).
        maximum: if given, the largest value allowed (e.g. what can be allocated).
    """
    given = values
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = (values,)
    try:
        values = tuple(values) if not isinstance(values, (str, bytes)) else None
    except TypeError:
        values = None

    def bad(v):
        return (
            isinstance(v, bool)
            or not isinstance(v, numbers.Integral)
            or v < minimum
            or (maximum is not None and v > maximum)
        )

    if (
        not values
        or any(bad(v) for v in values)
        or (count is not None and len(values) not in (1, count))
    ):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        many = "one or more ints" if count is None else f"one int or {count} ints"
        # What the caller wrote ([] stays [], 0 stays 0); anything else iterable as a list.
        plain = isinstance(given, (list, tuple, str, bytes, numbers.Number)) or values is None
        got = given if plain else list(values)
        raise ValueError(f"`{name}` must be {many} {bound}; got {name}={got!r}.")
    values = tuple(int(v) for v in values)
    return values * count if count is not None and len(values) == 1 else values


def per_layer(name, value, num_layers, check=None):
    """The one per-layer rule: ``value`` for each of ``num_layers`` hidden layers.

    ``value`` is a single value (every layer), a one-item list/tuple (every layer)
    or a list/tuple of exactly one value per layer. Each value goes through
    ``check(name_i, v)`` when given. Returns a tuple of ``num_layers`` values.

    >>> per_layer("noise", [0.25], 3)
    (0.25, 0.25, 0.25)
    >>> per_layer("noise", (0.1, 0.2), 2)
    (0.1, 0.2)
    """
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = value[0]
        elif len(value) != num_layers:
            raise ValueError(
                f"`{name}` must be one value or one per hidden layer ({num_layers}); got "
                f"{name}={list(value)!r}."
            )
        else:
            if check is not None:
                return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(value))
            return tuple(value)
    if check is not None:
        value = check(name, value)
    return (value,) * num_layers


def check_inside(name, path, folder_name):
    """Returns ``path`` if it names a folder inside the folder ``folder_name`` it joins.

    An absolute path, a ``..`` that climbs out, or ``.`` (the folder itself) is
    refused, so that ``path`` stays inside the folder it is joined to.

    >>> check_inside("project_name", "stage1/a", "directory")
    'stage1/a'
    >>> check_inside("project_name", "../x", "directory")
    Traceback (most recent call last):
    ...
    ValueError: `project_name` must name a folder inside `directory`; got project_name='../x'.
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError(f"`{name}` must be a non-empty path; got {name}={path!r}.")
    text = os.fspath(path)
    first = os.path.normpath(text).split(os.sep)[0]
    if os.path.isabs(text) or first in (os.pardir, os.curdir, ""):
        raise ValueError(
            f"`{name}` must name a folder inside `{folder_name}`; got {name}={text!r}."
        )
    return text


def check_fraction(name, value):
    """Returns ``value`` as a float in (0, 1]: a share of a set that keeps something.

    >>> check_fraction("labeled_fraction", 0.5)
    0.5
    >>> check_fraction("labeled_fraction", 0)
    Traceback (most recent call last):
    ...
    ValueError: `labeled_fraction` must be a number in (0, 1]; got labeled_fraction=0.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isnan(value)
        or not 0.0 < value <= 1.0
    ):
        raise ValueError(f"`{name}` must be a number in (0, 1]; got {name}={value!r}.")
    return float(value)


def check_finite(name, value):
    """Returns ``value`` as a finite float (bools refused), of either sign."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number; got {name}={value!r}.")
    return float(value)
