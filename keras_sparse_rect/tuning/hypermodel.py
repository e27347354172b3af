"""The HyperModel base of the library's searches: one :class:`~.space.SearchSpace` each.

Example:

>>> from keras_sparse_rect.tuning.hypermodel import SpaceHyperModel
>>> from keras_sparse_rect.tuning.space import SearchSpace
>>> class Constant(SpaceHyperModel):
...     space = SearchSpace("finetune")
>>> Constant().stage, Constant().objective.name
('finetune', 'val_error')
"""

import keras_tuner

from keras_sparse_rect.tuning.space import SearchSpace


class SpaceHyperModel(keras_tuner.HyperModel):
    """A ``keras_tuner.HyperModel`` whose search is one :class:`SearchSpace`, ``self.space``.

    It gives the space's ``stage``, ``tune`` and ``objective`` as its own, so
    that the apps and the tuners read them off any of the library's
    HyperModels (:class:`~.image.DeepSparseHyperModel`,
    :class:`~.sentiment.SentimentHyperModel`).
    """

    #: The search: stage, tuned names, choices and fixed values (set by subclasses).
    space: SearchSpace

    @property
    def stage(self):
        """The search's stage: ``"pretrain"``, ``"finetune"`` or ``"joint"``."""
        return self.space.stage

    @property
    def tune(self):
        """The names of the tuned hyper-parameters."""
        return self.space.tune

    @property
    def objective(self):
        """The stage's ``keras_tuner.Objective``."""
        return self.space.objective
