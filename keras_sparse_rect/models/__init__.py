"""Models of the paper: the deep classifier and one layer of a stacked denoising autoencoder.

- :func:`build_deep_network`: the classifier of section 4 (hidden layers, softmax
  output), trained from random initialisation or after
  :class:`~keras_sparse_rect.callbacks.GreedyLayerwisePretraining`.
- :class:`DenoisingAutoencoder`: one layer of the stack (section 3.2), and
  :class:`SparseInputDenoisingAutoencoder` for sparse binary input (section 4.2);
  both share :mod:`~keras_sparse_rect.models._autoencoder`.
- :func:`compile_for_paper` (in :mod:`~keras_sparse_rect.models.training`): SGD at
  a constant learning rate, fast at batch 10 (section 4.1).
"""

from keras_sparse_rect.models.deep_network import (
    HiddenLayerSpec,
    build_deep_network,
    copy_hidden_weights,
    hidden_layer_names,
    hidden_layer_specs,
    hidden_layers,
    hidden_weights,
)
from keras_sparse_rect.models.denoising_autoencoder import (
    RECONSTRUCTIONS,
    DenoisingAutoencoder,
)
from keras_sparse_rect.models.sparse_autoencoder import SparseInputDenoisingAutoencoder
from keras_sparse_rect.models.training import (
    PAPER_LEARNING_RATES,
    STEPS_PER_EXECUTION,
    compile_for_paper,
    resolve_jit_compile,
    steps_per_execution_for,
)

__all__ = [
    "PAPER_LEARNING_RATES",
    "RECONSTRUCTIONS",
    "STEPS_PER_EXECUTION",
    "DenoisingAutoencoder",
    "HiddenLayerSpec",
    "SparseInputDenoisingAutoencoder",
    "build_deep_network",
    "compile_for_paper",
    "copy_hidden_weights",
    "hidden_layer_names",
    "hidden_layer_specs",
    "hidden_layers",
    "hidden_weights",
    "resolve_jit_compile",
    "steps_per_execution_for",
]
