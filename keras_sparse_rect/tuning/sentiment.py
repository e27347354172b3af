"""The search of section 4.2 on reviews as a ``keras_tuner.HyperModel``: Table 2's networks."""

import dataclasses
import numbers

from keras_sparse_rect._validation import check_int
from keras_sparse_rect.experiments import sentiment
from keras_sparse_rect.experiments.configs import MODELS, SentimentConfig
from keras_sparse_rect.metrics import ExpectedRatingRMSE
from keras_sparse_rect.models import copy_hidden_weights
from keras_sparse_rect.sparse import is_scipy_sparse, sparse_batches
from keras_sparse_rect.tuning import _compat
from keras_sparse_rect.tuning.hypermodel import SpaceHyperModel
from keras_sparse_rect.tuning.space import SEARCH_SPACE, SearchSpace
from keras_sparse_rect.tuning.trial import trial_callbacks, trial_metrics

#: Hyper-parameters that the sentiment experiment sets per layer; a sentiment
#: search sets every layer to the trial's value when it tunes them, and keeps
#: the base configuration's per-layer values when it does not.
PER_LAYER = ("pretrain_learning_rate", "l1", "noise")

#: Default choices of a sentiment search: Table 2's networks (see SentimentHyperModel).
SENTIMENT_SEARCH_SPACE = {**SEARCH_SPACE, "activation": ("rectifier",), "hidden_layers": (1, 3)}


class SentimentHyperModel(SpaceHyperModel):
    """The search of section 4.2 on reviews: each trial is one network of Table 2.

    A trial builds, pretrains and fine-tunes its network exactly as the
    sentiment experiment does for one fold
    (:mod:`keras_sparse_rect.experiments.sentiment`): a sparse bag of words into
    :func:`~keras_sparse_rect.experiments.sentiment.build_sentiment_network`, the
    first layer pretrained as a ``SparseInputDenoisingAutoencoder`` (salt-and-pepper
    noise ``config.pepper_rate``/``config.salt_rate``, reconstruction sampling),
    the layers above with masking noise on the cached representation
    (:func:`~keras_sparse_rect.experiments.sentiment.pretrain_stack`), then plain
    SGD on sparse mini-batches. The hyper-parameters and stages are those of the
    image search (:class:`~keras_sparse_rect.tuning.space.SearchSpace`), mapped
    onto the experiment's settings (:meth:`trial_config`):

    - ``l1``, ``pretrain_learning_rate``: every hidden layer's value, when tuned;
    - ``noise``: the masking noise of layers 2 and 3, when tuned (section 4.2
      chose it "based on the classification performance"); not tuned by default
      when every network searched has one hidden layer;
    - not tuned, these keep ``config``'s per-layer values (Glorot's: L1 1e-4/0/0,
      pretraining rates 0.005/0.001/0.001, masking 0.5/0.3) and are not
      hyper-parameters of the trials;
    - ``learning_rate``, ``hidden_units``: ``config``'s values when not tuned
      (``config.hidden_units`` then the same for every layer);
    - ``activation`` x ``hidden_layers`` must name networks of Table 2
      (``rectifier_1``, ``rectifier_3``, ``tanh_3``); ``network`` gives them when
      not tuned.

    Trials report ``val_rmse`` too: the RMSE of the expected rating on the
    validation reviews (Table 2's measure).

    Args:
        num_terms: width of the bag of words.
        rating_values: the rating of each class, low to high (``reviews.scale.values``).
        config: a :class:`~keras_sparse_rect.experiments.configs.SentimentConfig`:
            the settings not tuned (default: the paper's).
        network: the Table 2 network searched when ``activation`` and
            ``hidden_layers`` are not tuned.
        stage, tune, search_space: as in ``DeepSparseHyperModel``;
            ``search_space`` defaults to :data:`SENTIMENT_SEARCH_SPACE`.
        unlabeled: the reviews to pretrain on (CSR; default: ``fit``'s ``x``);
            section 4.2 pretrains on labeled and unlabeled reviews.
        name: the hypermodel's name.

    Example:

    >>> from keras_sparse_rect.experiments.sentiment import SentimentConfig
    >>> from keras_sparse_rect.tuning import SentimentHyperModel, make_tuner, run_search
    >>> hypermodel = SentimentHyperModel(
    ...     5000, (1.0, 2.0, 3.0, 4.0, 5.0), config=SentimentConfig(hidden_units=1000),
    ...     stage="finetune", network="rectifier_1")
    >>> tuner = make_tuner("random", hypermodel, max_trials=8, project_name="reviews")
    >>> run_search(tuner, x, y, validation_data=(x_val, y_val), epochs=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        num_terms,
        rating_values,
        *,
        config=None,
        network="rectifier_3",
        stage="joint",
        tune=None,
        search_space=None,
        unlabeled=None,
        name="sentiment",
    ):
        super().__init__(name=name, tunable=True)
        config = dataclasses.replace(config or SentimentConfig()).validate()
        values = tuple(rating_values) if hasattr(rating_values, "__iter__") else ()
        if len(values) < 2 or not all(isinstance(v, numbers.Real) for v in values):
            raise ValueError(
                "`rating_values` must be the ratings of the classes (2 or more numbers); got "
                f"rating_values={rating_values!r}."
            )
        if network not in MODELS or not MODELS[network][2]:
            names = [n for n, (_, _, layers) in MODELS.items() if layers]
            raise ValueError(f"`network` must be one of {names}; got network={network!r}.")
        _, activation, hidden_layers = MODELS[network]
        units = config.hidden_units  # one per layer 1, 2, 3 once validated
        self.num_terms = check_int("num_terms", num_terms, 1)
        self.num_classes = len(values)
        self.config = config
        self.rating_values = tuple(float(v) for v in values)
        self.network = network
        self.unlabeled = unlabeled
        self.pretrain_epochs = config.pretrain_epochs if config.pretrain else 0
        if stage == "pretrain" and self.pretrain_epochs == 0:
            raise ValueError(
                "stage='pretrain' selects by reconstruction error and needs pretraining; got "
                f"pretrain={config.pretrain}, pretrain_epochs={config.pretrain_epochs}."
            )
        space = SearchSpace(
            stage,
            tune,
            search_space,
            fixed={
                "learning_rate": config.learning_rate,
                "activation": activation,
                "hidden_layers": hidden_layers,
                "hidden_units": units[0],
            },
            pretraining=self.pretrain_epochs > 0,
            choices=SENTIMENT_SEARCH_SPACE,
        )
        if tune is None and max(space.values_of("hidden_layers")) == 1:
            # The noise is that of layers 2 and 3: a 1-layer network has none to tune.
            space = space.without("noise")
        if "hidden_units" not in space.tune and len(set(units)) > 1:
            raise ValueError(
                "`config.hidden_units` must give every hidden layer the same number of units "
                f"for a search (one hyper-parameter, hidden_units); got {list(units)}."
            )
        #: The search: stage, tuned names, choices and fixed values.
        self.space = space
        networks = {
            f"{a}_{n}"
            for a in space.values_of("activation")
            for n in space.values_of("hidden_layers")
        }
        unknown = sorted(networks - set(MODELS))
        if unknown:
            raise ValueError(
                "`search_space` must pair activation and hidden_layers into networks of "
                f"Table 2 ({[n for n in MODELS if n != 'no_hidden']}); it makes "
                f"{unknown}."
            )

    def declare_hyperparameters(self, hp):
        """Declares the tuned hyper-parameters and the fixed architecture; returns the values.

        Per-layer settings that are not tuned (:data:`PER_LAYER`) are not declared.
        """
        return self.space.declare(hp, skip=PER_LAYER)

    def trial_config(self, values):
        """The :class:`SentimentConfig` of a trial's hyper-parameter ``values``.

        It holds every setting of the trial (tuned or not), so that the
        sentiment experiment run with it trains exactly the trial's network.
        """
        config = dataclasses.replace(
            self.config,
            models=(f"{values['activation']}_{values['hidden_layers']}",),
            learning_rate=values["learning_rate"],
            hidden_units=values["hidden_units"],
        )
        if "l1" in values:
            config.l1 = (values["l1"],) * 3
        if "pretrain_learning_rate" in values:
            config.pretrain_learning_rates = (values["pretrain_learning_rate"],) * 3
        if "noise" in values:
            config.masking_noise = (values["noise"],) * 2
        return config.validate()

    def build(self, hp):
        values = self.declare_hyperparameters(hp)
        config = self.trial_config(values)
        model = sentiment.build_sentiment_network(
            self.num_terms,
            self.num_classes,
            values["hidden_layers"],
            config.hidden_units,
            values["activation"],
            config.l1,
            seed=config.seed,
        )
        sentiment.compile_sentiment_network(
            model,
            config.learning_rate,
            metrics=["accuracy", ExpectedRatingRMSE(self.rating_values)],
        )
        return model

    def fit(self, hp, model, x=None, y=None, *, validation_data=None, callbacks=None, **kwargs):
        """Pretrains as the sentiment experiment does, fine-tunes on sparse batches.

        ``x`` and the validation inputs are scipy.sparse matrices (rows: reviews).
        Returns the trial's metrics for KerasTuner.
        """
        values = dict(hp.values)
        config = self.trial_config(values)
        if self.stage != "pretrain" and validation_data is None:
            raise ValueError(
                f"stage={self.stage!r} selects by validation error: pass `validation_data`; "
                "got validation_data=None."
            )
        for argument, data in (("x", x), ("validation_data", (validation_data or [None])[0])):
            if data is not None and not is_scipy_sparse(data):
                raise ValueError(
                    f"`{argument}` must hold a scipy.sparse bag of words; got {type(data)!r}."
                )
        pretrain_history, layers = None, ()
        if self.pretrain_epochs > 0 and _compat.CONTINUED_FROM not in values:
            weights, pretrain_history = sentiment.pretrain_stack(
                config,
                x if self.unlabeled is None else self.unlabeled,
                values["activation"],
                values["hidden_layers"],
                self.num_classes,
                verbose=kwargs.get("verbose", 0),
            )
            copy_hidden_weights(weights, model)
            layers = tuple(range(1, len(weights) + 1))
        batch_size = kwargs.pop("batch_size", config.batch_size)
        kwargs["shuffle"] = False  # sparse_batches shuffles (Keras cannot shuffle a Dataset)
        validation = None
        if validation_data is not None:
            validation = sparse_batches(*validation_data[:2], batch_size=256)
        history = model.fit(
            sparse_batches(x, y, batch_size=batch_size, shuffle=True, seed=config.seed),
            validation_data=validation,
            callbacks=trial_callbacks(extra=callbacks),
            **kwargs,
        )
        return trial_metrics(
            history.history,
            self.objective.name,
            pretrain_history=pretrain_history,
            layers=layers,
            rates={
                "pretrain_learning_rate": config.pretrain_learning_rates,
                "learning_rate": config.learning_rate,
            },
        )
