"""Small hypermodels and one-epoch searches: what is searched is what matters here."""

from keras_sparse_rect import tuning

# Tiny networks so that a trial takes seconds.
SMALL = {"hidden_layers": 1, "hidden_units": 16}

# XLA compiles each trial's network anew: for these tiny networks the compilation takes
# longer than the training (a trial on TensorFlow: 4 s with XLA, 2 s without).
FAST = {"jit_compile": False}


def small_model(stage="finetune", **kwargs):
    kwargs.setdefault("fixed", SMALL)
    kwargs = {**FAST, **kwargs}
    return tuning.DeepSparseHyperModel((784,), 10, stage=stage, batch_size=20, **kwargs)


def search(tuner, digits, **kwargs):
    return tuning.run_search(
        tuner,
        digits["x_train"],
        digits["y_train"],
        validation_data=(digits["x_val"], digits["y_val"]),
        epochs=1,
        verbose=0,
        **kwargs,
    )


def small_sentiment_model(**kwargs):
    from keras_sparse_rect.experiments.sentiment import SentimentConfig

    config = SentimentConfig(
        hidden_units=16, pretrain_epochs=1, epochs=1, reconstruction_sampling=False
    )
    return tuning.SentimentHyperModel(300, (0.0, 1.0), config=config, **kwargs)


def sentiment_search(tuner, reviews):
    x, y = reviews.x, reviews.y
    return tuning.run_search(
        tuner, x[:240], y[:240], validation_data=(x[240:], y[240:]), epochs=1, verbose=0
    )


class FailsAt(tuning.DeepSparseHyperModel):
    """Fails every trial whose learning rate is in ``failing``."""

    def __init__(self, failing, **kwargs):
        kwargs = {**FAST, **kwargs}
        super().__init__((784,), 10, stage="finetune", batch_size=20, fixed=SMALL, **kwargs)
        self.failing = failing

    def fit(self, hp, model, *args, **kwargs):
        if hp.get("learning_rate") in self.failing:
            raise RuntimeError(f"boom at learning_rate={hp.get('learning_rate')}")
        return super().fit(hp, model, *args, **kwargs)
