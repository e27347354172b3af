"""The names this library accepts, written once and shared by the library and its flags.

This module imports nothing (neither Keras nor TensorFlow), so that the
experiments' configurations (:mod:`keras_sparse_rect.experiments.configs`) and
the command-line apps can check a name before a backend is loaded, and the
library (:mod:`keras_sparse_rect.activations`, :mod:`keras_sparse_rect.distribute`,
:mod:`keras_sparse_rect.data`, ...) checks against the same tuples.

Example:

>>> from keras_sparse_rect import names
>>> names.ACTIVATIONS
('rectifier', 'softplus', 'tanh')
>>> names.is_image_dataset("idx:/data/mnist"), names.is_image_dataset("imagenet")
(True, False)
"""

#: Neuron types (section 2: rectifier, softplus, hyperbolic tangent).
ACTIVATIONS = ("rectifier", "softplus", "tanh")

#: Distribution strategies (:func:`keras_sparse_rect.distribute.get_strategy`).
STRATEGIES = ("default", "one_device", "mirrored", "multi_worker_mirrored", "tpu")

#: Image data sets by name (section 4.1; :data:`keras_sparse_rect.data.IMAGE_DATASETS`).
IMAGE_DATASETS = ("mnist_subset", "mnist", "cifar10", "nistp", "norb", "smallnorb")

#: Prefixes of image data sets read from files: ``idx:DIR`` and ``npz:FILE``.
IMAGE_DATASET_PREFIXES = ("idx:", "npz:")

#: How an image experiment chooses learning rates and epochs: the given ones
#: (``fixed``) or section 4.1's model selection (``paper``).
PROTOCOLS = ("fixed", "paper")

#: Reconstruction strategies of a denoising autoencoder (sections 3.2 and 4.1).
RECONSTRUCTIONS = (
    "softplus_quadratic",
    "scaled_sigmoid_cross_entropy",
    "sigmoid_cross_entropy",
)

#: Pretraining noise kinds (section 4.1: masking; section 4.2: salt and pepper).
NOISE_KINDS = ("masking", "salt_and_pepper")

#: The constant learning rates section 4.1 selects from.
PAPER_LEARNING_RATES = (0.1, 0.01, 0.001, 0.0001)

#: The networks of Table 2 (section 4.2): name -> (column title, activation, hidden layers).
TABLE2_NETWORKS = {
    "no_hidden": ("No hidden layer", None, 0),
    "rectifier_1": ("Rectifier (1-layer)", "rectifier", 1),
    "rectifier_3": ("Rectifier (3-layers)", "rectifier", 3),
    "tanh_3": ("Tanh (3-layers)", "tanh", 3),
}


def is_image_dataset(name):
    """Whether ``name`` names an image data set: a registered name, ``idx:DIR`` or ``npz:FILE``.

    >>> is_image_dataset("mnist"), is_image_dataset("npz:digits.npz"), is_image_dataset(3)
    (True, True, False)
    """
    return isinstance(name, str) and (
        name in IMAGE_DATASETS or name.startswith(IMAGE_DATASET_PREFIXES)
    )


def image_dataset_choices():
    """The image data sets as a message lists them.

    >>> image_dataset_choices()
    'mnist_subset, mnist, cifar10, nistp, norb, smallnorb, idx:DIR, npz:FILE'
    """
    return ", ".join([*IMAGE_DATASETS, "idx:DIR", "npz:FILE"])
