"""What a network of a given shape needs in memory, checked before anything is allocated.

Keras-free, so that the experiments' configurations (and the apps' flags) refuse
a network that cannot fit (``hidden_units=10000000``) in one message naming the
setting, instead of an out-of-memory error from the backend minutes later.

>>> network_weights(784, (1000, 1000, 1000), 10) * 4 / 2**20  # MiB of float32 weights
10.6...
"""

import os

#: The fewest inputs of a registered image data set (MNIST's 28 x 28), a lower
#: bound for :func:`check_network_fits` before the data is loaded.
SMALLEST_IMAGE = 28 * 28


def memory_bytes():
    """This machine's physical memory in bytes (``None`` where it cannot be read)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def network_weights(input_size, hidden_units, num_classes):
    """The number of weights (and biases) of a fully connected network of this shape.

    >>> network_weights(784, (1000,), 10)
    795010
    """
    sizes = (int(input_size), *(int(u) for u in hidden_units), int(num_classes))
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:], strict=False))


def training_bytes(input_size, hidden_units, num_classes):
    """A lower bound on the memory that training a network of this shape takes.

    The float32 weights of the network and their gradients, and those of the
    largest layer's denoising autoencoder (encoder and decoder, section 3.2)
    while it is pretrained. Activations and data come on top.

    >>> training_bytes(784, (1000, 1000, 1000), 10) / 2**20  # MiB
    36.6...
    """
    sizes = (int(input_size), *(int(u) for u in hidden_units), int(num_classes))
    weights = network_weights(input_size, hidden_units, num_classes)
    autoencoder = max(
        (2 * a * b + a + b for a, b in zip(sizes[:-2], sizes[1:-1], strict=True)),
        default=0,
    )
    return 4 * 2 * (weights + autoencoder)


def check_network_fits(name, hidden_units, input_size, num_classes, available=None):
    """Raises ValueError naming ``name`` if training needs more memory than this machine has.

    Checked before anything is allocated, so that a typing slip
    (``hidden_units=10000000``) is one message, not an out-of-memory error.
    ``available`` defaults to :func:`memory_bytes`.

    >>> check_network_fits("hidden_units", (10**7,), 784, 10, available=2**37)
    Traceback (most recent call last):
    ...
    ValueError: `hidden_units` (10000000) needs at least 176.1 GiB to train ...
    """
    available = memory_bytes() if available is None else available
    needed = training_bytes(input_size, hidden_units, num_classes)
    if available is not None and needed > available:
        units = ",".join(str(u) for u in hidden_units)
        raise ValueError(
            f"`{name}` ({units}) needs at least {needed / 2**30:.1f} GiB to train "
            f"(float32 weights and gradients with {input_size} inputs); this machine has "
            f"{available / 2**30:.1f} GiB."
        )
