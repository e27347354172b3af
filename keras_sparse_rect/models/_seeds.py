"""Seeds derived from one user seed, for the several random draws of a model."""

#: Seeds are taken modulo this (the range ``_validation.check_seed`` accepts, plus one).
SEED_MODULUS = 2**32


def offset_seed(seed, offset):
    """``seed + offset`` within the accepted range, or ``None`` for ``seed=None``.

    Each draw of a model (a layer's weights, a sign pattern, a noise layer) gets
    its own seed from the one the user gave; the sum wraps around so that every
    valid seed gives valid derived seeds.

    >>> offset_seed(3, 2), offset_seed(2**32 - 1, 2), offset_seed(None, 2)
    (5, 1, None)
    """
    return None if seed is None else (seed + offset) % SEED_MODULUS
