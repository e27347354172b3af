"""The two HyperModels: the image search and the search on reviews (Table 2)."""

import keras_tuner
import pytest

from apps import _tune_flags
from keras_sparse_rect import tuning
from tests.tuning.helpers import search, sentiment_search, small_model, small_sentiment_model


def test_both_hypermodels_are_kerastuner_hypermodels_built_around_a_search_space():
    for cls in (tuning.DeepSparseHyperModel, tuning.SentimentHyperModel):
        assert cls.__bases__ == (tuning.space.SpaceHyperModel,)
        assert issubclass(cls, keras_tuner.HyperModel)
    for hypermodel in (small_model("finetune"), small_sentiment_model(network="rectifier_1")):
        assert isinstance(hypermodel.space, tuning.SearchSpace)
        # stage, tuned names and objective are the space's own.
        assert hypermodel.stage == hypermodel.space.stage
        assert hypermodel.tune == hypermodel.space.tune
        assert hypermodel.objective.name == hypermodel.space.objective.name == "val_error"


def test_defaults_follow_the_paper():
    assert tuning.SEARCH_SPACE["learning_rate"] == (0.1, 0.01, 0.001, 0.0001)
    assert tuning.SEARCH_SPACE["pretrain_learning_rate"] == (0.1, 0.01, 0.001, 0.0001)
    assert small_model("pretrain").tune == ("pretrain_learning_rate", "l1")
    assert small_model("finetune").tune == ("learning_rate", "noise")
    assert small_model("joint").tune == tuple(tuning.SEARCH_SPACE)
    assert small_model("joint", pretrain_epochs=0).tune == (
        "l1",
        "learning_rate",
        "activation",
        "hidden_layers",
        "hidden_units",
    )
    hp = keras_tuner.HyperParameters()
    values = small_model("finetune").declare_hyperparameters(hp)
    assert values["pretrain_learning_rate"] == 0.001 and values["l1"] == 0.001  # section 4.1
    assert values["learning_rate"] == 0.1  # the first choice
    model = small_model("finetune").build(hp)
    assert [layer.name for layer in model.layers if layer.name.startswith("hidden")] == [
        "hidden_1_dense",
        "hidden_1",
    ]


def test_a_diverged_trial_fails_with_advice():
    hypermodel = small_model()
    values = {"learning_rate": 0.1, "pretrain_learning_rate": 0.01}
    nan = float("nan")
    with pytest.raises(
        keras_tuner.errors.FailedTrialError, match=r"lower learning_rate \(it is 0.1\)"
    ):
        hypermodel._trial_metrics({"loss": [1.0, nan]}, None, values)

    class Pretrained:  # what GreedyLayerwisePretraining logs, and the layers it pretrained
        history = {"pretrain/layer_1/reconstruction": [3.0, nan]}
        dead_fractions = {1: 0.0}

    with pytest.raises(keras_tuner.errors.FailedTrialError, match="pretraining diverged"):
        hypermodel._trial_metrics({"loss": [1.0]}, Pretrained(), values)


def test_trial_metrics_take_the_pretrained_layers_from_the_callback():
    class Pretrained:  # two layers pretrained; other logs of the callback are not metrics
        history = {
            "pretrain/layer_1/reconstruction": [5.0, 4.0],
            "pretrain/layer_2/reconstruction": [3.0, 2.0],
            "pretrain/layer_2/dead_fraction": [0.1],
        }
        dead_fractions = {1: 0.0, 2: 0.1}

    logs = {"loss": [2.0, 1.0], "val_error": [0.3, 0.4], "val_accuracy": [0.7, 0.6]}
    metrics = small_model()._trial_metrics(logs, Pretrained(), {"learning_rate": 0.1})
    assert metrics == {
        "loss": 2.0,  # the best epoch by val_error
        "val_error": 0.3,
        "val_accuracy": 0.7,
        "pretrain/layer_1/reconstruction": 4.0,
        "pretrain/layer_2/reconstruction": 2.0,
        "pretrain/reconstruction": 2.0,  # the top layer's
    }
    with pytest.raises(keras_tuner.errors.FailedTrialError, match=r"pretrain/layer_2/"):
        Pretrained.history["pretrain/layer_2/reconstruction"] = [3.0, float("inf")]
        small_model()._trial_metrics(logs, Pretrained(), {"pretrain_learning_rate": 0.1})


@pytest.mark.slow
def test_two_stages_reconstruction_then_validation_error(digits, tmp_path):
    # Stage 1: the pretraining learning rate by reconstruction error (section 4.1).
    stage1 = small_model(
        "pretrain",
        tune=["pretrain_learning_rate"],
        search_space={"pretrain_learning_rate": [0.01, 0.001]},
    )
    assert stage1.objective.name == "pretrain/reconstruction"
    tuner1 = tuning.make_tuner("grid", stage1, max_trials=2, directory=tmp_path, project_name="s1")
    summary1 = search(tuner1, digits)
    assert summary1["completed"] == 2
    for trial in summary1["trials"]:
        assert trial["score"] == trial["metrics"]["pretrain/reconstruction"]
        assert trial["score"] == trial["metrics"]["pretrain/layer_1/reconstruction"]
    assert summary1["best"]["score"] == min(t["score"] for t in summary1["trials"])
    best1 = tuner1.get_best_hyperparameters()[0].values
    assert best1 == summary1["best"]["hyperparameters"]

    # Stage 2: the fine-tuning learning rate by validation error, stage 1's best fixed.
    stage2 = small_model(
        "finetune", fixed=best1, search_space={"learning_rate": [0.1, 0.01], "noise": [0.25]}
    )
    tuner2 = tuning.make_tuner("grid", stage2, max_trials=2, directory=tmp_path, project_name="s2")
    summary2 = search(tuner2, digits)
    assert summary2["completed"] == 2
    assert {t["hyperparameters"]["learning_rate"] for t in summary2["trials"]} == {0.1, 0.01}
    for trial in summary2["trials"]:
        assert trial["hyperparameters"]["pretrain_learning_rate"] == best1["pretrain_learning_rate"]
    space = {hp.name: hp for hp in tuner2.oracle.get_space().space}
    assert type(space["pretrain_learning_rate"]).__name__ == "Fixed"
    assert type(space["learning_rate"]).__name__ == "Choice"


@pytest.mark.tensorflow_only  # sparse input on JAX recompiles per batch (docs/facts.md): slow
def test_binary_sparse_inputs_with_salt_and_pepper_noise(digits, tmp_path):
    import scipy.sparse

    binary = {k: (v > 0.5).astype("float32") for k, v in digits.items() if k.startswith("x")}
    hypermodel = small_model(
        sparse=True,
        noise_type="salt_and_pepper",
        fixed={"hidden_layers": 2, "hidden_units": 8},
        search_space={"learning_rate": [0.1], "noise": [0.1]},
    )
    tuner = tuning.make_tuner("grid", hypermodel, max_trials=1, directory=tmp_path)
    summary = search(
        tuner, {**digits, **{k: scipy.sparse.csr_matrix(v) for k, v in binary.items()}}
    )
    assert summary["completed"] == 1, summary["first_error"]
    assert "pretrain/layer_2/reconstruction" in summary["trials"][0]["metrics"]


def test_salt_and_pepper_noise_for_binary_inputs():
    hypermodel = small_model(
        noise_type="salt_and_pepper", fixed={"hidden_layers": 2, "hidden_units": 8}
    )
    noise = hypermodel._noise({"noise": 0.2, "hidden_layers": 2})
    assert type(noise[0]).__name__ == "SaltAndPepperNoise" and noise[1] == 0.2
    assert hypermodel._noise({"noise": 0.0, "hidden_layers": 2}) == 0.0


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"stage": "both"}, "stage='both'"),
        ({"tune": ["momentum"]}, "tune=['momentum']"),
        ({"search_space": {"momentum": [0.9]}}, "['momentum']"),
        ({"search_space": {"learning_rate": [0.1, 0.0]}}, "search_space[learning_rate]=0.0"),
        ({"search_space": {"learning_rate": []}}, "search_space[learning_rate]"),
        ({"search_space": {"activation": ["relu6"]}}, "search_space[activation]='relu6'"),
        ({"fixed": {"hidden_units": 0}}, "hidden_units=0"),
        ({"stage": "pretrain", "pretrain_epochs": 0}, "pretrain_epochs=0"),
        ({"noise_type": "gaussian"}, "noise_type='gaussian'"),
        ({"batch_size": 0}, "batch_size=0"),
    ],
)
def test_bad_hypermodel_arguments_name_the_argument(kwargs, needle):
    with pytest.raises(ValueError) as error:
        tuning.DeepSparseHyperModel((784,), 10, **kwargs)
    assert needle in str(error.value)


# The search on reviews -----------------------------------------------------------


@pytest.mark.slow
def test_sentiment_search_runs_table2_networks_and_writes_the_apps_flags(reviews, tmp_path):
    hypermodel = small_sentiment_model(
        stage="finetune",
        tune=["learning_rate", "noise", "hidden_layers"],
        search_space={"learning_rate": [0.1], "noise": [0.3], "hidden_layers": [1, 3]},
        unlabeled=reviews.pretraining_inputs(),
    )
    tuner = tuning.make_tuner("grid", hypermodel, max_trials=2, directory=tmp_path)
    summary = sentiment_search(tuner, reviews)
    assert summary["completed"] == 2, summary["first_error"]
    deep = next(t for t in summary["trials"] if t["hyperparameters"]["hidden_layers"] == 3)
    # Pretrained as the sentiment experiment does, then fine-tuned and scored like Table 2.
    assert {"pretrain/layer_1/reconstruction", "pretrain/layer_3/reconstruction"} <= set(
        deep["metrics"]
    )
    assert 0.0 <= deep["metrics"]["val_error"] <= 1.0
    assert 0.0 < deep["metrics"]["val_rmse"] <= 1.0  # expected rating in [0, 1]
    # Not tuned: the experiment's per-layer L1 stays, and is no hyper-parameter of the trials.
    assert "l1" not in deep["hyperparameters"]
    model = tuner.get_best_models()[0]
    assert model.layers[1].__class__.__name__ == "SparseDense"
    flags = _tune_flags.sentiment_flags(hypermodel, summary["best"]["hyperparameters"])
    assert flags["models"] in (["rectifier_1"], ["rectifier_3"])
    assert flags["masking_noise"] == [0.3, 0.3] and flags["l1"] == [1e-4, 0.0, 0.0]
    assert flags["hidden_units"] == [16, 16, 16] and flags["learning_rate"] == 0.1
    assert "| val_rmse |" in tuning.trials_markdown(summary)
    files = tuning.write_search_results(
        summary, best_flags=_tune_flags.best_flags("sentiment", hypermodel)
    )
    text = open(files["best_flags"]).read()
    assert "python -m apps.sentiment_experiment --flagfile=" in text
    assert "--masking_noise=0.3,0.3" in text and "--noreconstruction_sampling" in text


def test_sentiment_trial_config_sets_every_layer_of_a_tuned_per_layer_setting():
    hypermodel = small_sentiment_model(
        stage="finetune", tune=["l1", "noise"], network="rectifier_3"
    )
    hp = keras_tuner.HyperParameters()
    values = hypermodel.declare_hyperparameters(hp)
    config = hypermodel.trial_config({**values, "l1": 0.001, "noise": 0.1})
    assert config.models == ("rectifier_3",) and config.hidden_units == (16, 16, 16)
    assert config.l1 == (0.001,) * 3 and config.masking_noise == (0.1, 0.1)
    untuned = small_sentiment_model(stage="finetune", network="rectifier_3")
    values = untuned.declare_hyperparameters(keras_tuner.HyperParameters())
    assert "l1" not in values and "pretrain_learning_rate" not in values  # PER_LAYER
    assert untuned.trial_config(values).l1 == (1e-4, 0.0, 0.0)  # the experiment's


def test_sentiment_stages_skip_the_noise_of_layers_a_1_layer_network_lacks():
    assert small_sentiment_model(stage="finetune", network="rectifier_1").tune == ("learning_rate",)
    assert small_sentiment_model(stage="finetune", network="tanh_3").tune == (
        "learning_rate",
        "noise",
    )


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"network": "no_hidden"}, "`network`"),
        ({"network": "rectifier_2"}, "`network`"),
        ({"tune": ["activation"], "search_space": {"activation": ["tanh"]}}, "tanh_1"),
        ({"stage": "joint", "search_space": {"hidden_layers": [2]}}, "rectifier_2"),
        ({"rating_values": [1]}, "`rating_values`"),
    ],
)
def test_sentiment_hypermodel_accepts_table2_networks_only(kwargs, needle):
    rating_values = kwargs.pop("rating_values", (0.0, 1.0))
    kwargs.setdefault("network", "rectifier_1")
    with pytest.raises(ValueError, match=needle):
        tuning.SentimentHyperModel(300, rating_values, **kwargs)


def test_a_sentiment_search_needs_one_number_of_units_for_every_layer():
    from keras_sparse_rect.experiments.configs import SentimentConfig

    config = SentimentConfig(hidden_units=(16, 8, 8))
    with pytest.raises(ValueError, match=r"`config.hidden_units`.*\[16, 8, 8\]"):
        tuning.SentimentHyperModel(300, (0.0, 1.0), config=config, stage="finetune")
    tuned = tuning.SentimentHyperModel(
        300, (0.0, 1.0), config=config, stage="finetune", tune=["hidden_units"]
    )
    assert tuned.tune == ("hidden_units",)
