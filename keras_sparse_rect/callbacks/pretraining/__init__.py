"""Greedy layer-wise pretraining as stacked denoising autoencoders (sections 3.2 and 4.1).

One module per part of the idea:

- :mod:`.callback`: :class:`GreedyLayerwisePretraining`, the Keras callback;
- :mod:`.settings`: the per-layer settings (one value, or one per hidden layer);
- :mod:`.representation`: the checks of the unlabeled data and the cached input
  of the layer being pretrained;
- :mod:`.autoencoders`: building each layer's denoising autoencoder;
- :mod:`.selection`: :class:`RateSelection`, choosing each layer's learning rate
  (section 4.1) and trying the next one when units die;
- :mod:`.collapse`: :class:`CollapsePolicy` and :class:`PretrainingCollapseError`,
  dead units after pretraining (section 3.1);
- :mod:`.checkpoint`: resumable progress in ``checkpoint_dir``;
- :mod:`.records`: the history entries and TensorBoard scalars.

>>> from keras_sparse_rect.callbacks.pretraining import CollapsePolicy, RateSelection
>>> RateSelection(candidates=[0.01, 0.001]).get_config()["candidates"]
[0.01, 0.001]
"""

from keras_sparse_rect.callbacks.pretraining.callback import GreedyLayerwisePretraining
from keras_sparse_rect.callbacks.pretraining.collapse import (
    DEAD_UNIT_SAMPLE,
    ON_COLLAPSE,
    CollapsePolicy,
    PretrainingCollapseError,
)
from keras_sparse_rect.callbacks.pretraining.selection import RateSelection

__all__ = [
    "DEAD_UNIT_SAMPLE",
    "ON_COLLAPSE",
    "CollapsePolicy",
    "GreedyLayerwisePretraining",
    "PretrainingCollapseError",
    "RateSelection",
]
