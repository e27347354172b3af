"""KerasTuner searches over the paper's hyper-parameters (keras_sparse_rect.tuning)."""

import os

import keras
import keras_tuner
import numpy as np
import pytest

from keras_sparse_rect import tuning

# Tiny networks so that a trial takes seconds: what is searched is what matters here.
SMALL = {"hidden_layers": 1, "hidden_units": 16}


@pytest.fixture(scope="module")
def digits(tiny_mnist):
    """Training and validation images of the tiny_mnist fixture (real digits), flattened."""
    with np.load(tiny_mnist.removeprefix("npz:")) as data:
        return {
            name: data[name].reshape(len(data[name]), -1) if name.startswith("x") else data[name]
            for name in ("x_train", "y_train", "x_val", "y_val")
        }


def small_model(stage="finetune", **kwargs):
    kwargs.setdefault("fixed", SMALL)
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


def test_small_search_returns_a_best_model_that_predicts(digits, tmp_path):
    hypermodel = small_model(
        "joint",
        search_space={
            "learning_rate": [0.1, 0.01],
            "pretrain_learning_rate": [0.001],
            "noise": [0.25],
            "l1": [0.001],
            "activation": ["rectifier"],
            "hidden_layers": [1],
            "hidden_units": [16],
        },
    )
    tuner = tuning.make_tuner("random", hypermodel, max_trials=2, directory=tmp_path)
    summary = search(tuner, digits, tensorboard_dir=tmp_path / "logs")

    assert (summary["completed"], summary["failed"], summary["all_failed"]) == (2, 0, False)
    scores = [t["score"] for t in summary["trials"]]
    assert summary["best"]["score"] == min(scores)
    assert summary["objective"] == {"name": "val_error", "direction": "min"}
    trial = summary["trials"][0]
    assert trial["metrics"]["val_error"] == pytest.approx(1 - trial["metrics"]["val_accuracy"])
    assert "pretrain/layer_1/reconstruction" in trial["metrics"]  # pretrained in each trial

    model = tuner.get_best_models()[0]
    probabilities = model.predict(digits["x_val"], verbose=0)
    assert probabilities.shape == (100, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # The model is the checkpoint of the best trial's scored epoch.
    error = np.mean(probabilities.argmax(axis=1) != digits["y_val"])
    assert error == pytest.approx(summary["best"]["score"], abs=1e-6)

    files = tuning.write_search_results(summary, base_flags={"dataset": "mnist_subset"})
    best = summary["best"]["hyperparameters"]
    text = open(files["best_flags"]).read()
    assert f"--learning_rate={best['learning_rate']}\n" in text
    assert "--hidden_units=16\n--l1=0.001\n" in text and "--dataset=mnist_subset" in text
    assert "| **" + summary["best"]["trial_id"] + "** |" in open(files["trials_md"]).read()
    if keras.backend.backend() == "tensorflow":  # KerasTuner's HParams logs, one folder per trial
        assert {p.name for p in (tmp_path / "logs").iterdir()} == {"0", "1"}


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


def test_a_stopped_search_resumes_where_it_stopped(digits, tmp_path):
    hypermodel = small_model(search_space={"learning_rate": [0.1, 0.01, 0.001], "noise": [0.25]})
    first = tuning.make_tuner("grid", hypermodel, max_trials=1, directory=tmp_path)
    search(first, digits)
    checkpoint = tmp_path / "deep_sparse" / "trial_0" / "checkpoint.weights.h5"
    stamp = checkpoint.stat().st_mtime_ns

    again = tuning.make_tuner("grid", hypermodel, max_trials=2, directory=tmp_path)
    summary = search(again, digits)
    assert [t["trial_id"] for t in again.trials_run] == ["1"]  # only the new trial ran
    assert [t["trial_id"] for t in summary["trials"]] == ["0", "1"]
    # The grid goes on with the next combination (keras-team/keras-tuner#1055 is worked around).
    assert [t["hyperparameters"]["learning_rate"] for t in summary["trials"]] == [0.1, 0.01]
    assert summary["completed"] == 2
    assert checkpoint.stat().st_mtime_ns == stamp


def test_kerastuner_state_is_written_atomically(digits, tmp_path, monkeypatch):
    """A search killed mid-write must not leave a truncated oracle.json or trial.json."""
    from keras_sparse_rect import results

    written = []
    write = results.write_text_atomic
    monkeypatch.setattr(results, "write_text_atomic", lambda p, t: written.append(p) or write(p, t))
    from keras_tuner.src import utils as kerastuner_utils

    original = kerastuner_utils.save_json
    hypermodel = small_model(search_space={"learning_rate": [0.1], "noise": [0.25]})
    search(tuning.make_tuner("grid", hypermodel, max_trials=1, directory=tmp_path), digits)
    names = {os.path.relpath(p, tmp_path / "deep_sparse") for p in written}
    assert {"oracle.json", os.path.join("trial_0", "trial.json")} <= names
    assert kerastuner_utils.save_json is original  # restored after the search
    assert not list((tmp_path / "deep_sparse").rglob(".*"))  # no temporary file left


class _FailsAt(tuning.DeepSparseHyperModel):
    """Fails every trial whose learning rate is in ``failing``."""

    def __init__(self, failing, **kwargs):
        super().__init__((784,), 10, stage="finetune", batch_size=20, fixed=SMALL, **kwargs)
        self.failing = failing

    def fit(self, hp, model, *args, **kwargs):
        if hp.get("learning_rate") in self.failing:
            raise RuntimeError(f"boom at learning_rate={hp.get('learning_rate')}")
        return super().fit(hp, model, *args, **kwargs)


def test_failing_trials_are_counted_and_the_first_error_shown(digits, tmp_path):
    space = {"learning_rate": [0.1, 0.01], "noise": [0.25]}
    tuner = tuning.make_tuner(
        "grid", _FailsAt({0.1}, search_space=space), max_trials=2, directory=tmp_path
    )
    summary = search(tuner, digits)
    assert (summary["completed"], summary["failed"], summary["all_failed"]) == (1, 1, False)
    assert summary["first_error"] == {
        "trial_id": "0",
        "error": "RuntimeError: boom at learning_rate=0.1",
    }
    assert "Traceback" in summary["trials"][0]["message"]
    assert summary["best"]["hyperparameters"]["learning_rate"] == 0.01
    text = tuning.summary_text(summary)
    assert "1 of 2 trial(s) FAILED; first error (trial 0): RuntimeError: boom" in text
    files = tuning.write_search_results(summary)
    assert "RuntimeError: boom at learning_rate=0.1" in open(files["trials_md"]).read()


def test_a_search_whose_trials_all_fail_says_so(digits, tmp_path):
    space = {"learning_rate": [0.1, 0.01, 0.001, 0.0001], "noise": [0.25]}
    hypermodel = _FailsAt(set(tuning.LEARNING_RATES), search_space=space)
    tuner = tuning.make_tuner("grid", hypermodel, max_trials=4, directory=tmp_path)
    summary = search(tuner, digits)  # KerasTuner stops after 3 failures in a row; no exception
    assert summary["failed"] == tuning.MAX_CONSECUTIVE_FAILURES == len(summary["trials"])
    assert summary["all_failed"] and summary["best"] is None
    assert "consecutive failures" in summary["stopped_early"]
    assert "All 3 trial(s) FAILED" in tuning.summary_text(summary)
    files = tuning.write_search_results(summary)
    assert files["best_flags"] is None and os.path.exists(files["trials_json"])


def test_a_diverged_trial_fails_with_advice():
    hypermodel = small_model()
    values = {"learning_rate": 0.1, "pretrain_learning_rate": 0.01}
    nan = float("nan")
    with pytest.raises(
        keras_tuner.errors.FailedTrialError, match=r"lower learning_rate \(it is 0.1\)"
    ):
        hypermodel._trial_metrics({"loss": [1.0, nan]}, None, values)

    class Pretrained:  # what GreedyLayerwisePretraining logs
        history = {"pretrain/layer_1/reconstruction": [3.0, nan]}

    with pytest.raises(keras_tuner.errors.FailedTrialError, match="pretraining diverged"):
        hypermodel._trial_metrics({"loss": [1.0]}, Pretrained(), values)


def test_hyperband_continues_trials_without_pretraining_them_again(digits, tmp_path):
    space = {"learning_rate": [0.1, 0.01, 0.001], "noise": [0.0, 0.25]}
    hypermodel = small_model(search_space=space)
    tuner = tuning.make_tuner(
        "hyperband", hypermodel, max_trials=4, max_epochs=3, directory=tmp_path
    )
    summary = tuning.run_search(
        tuner,
        digits["x_train"],
        digits["y_train"],
        validation_data=(digits["x_val"], digits["y_val"]),
        verbose=0,
    )
    assert summary["completed"] == len(summary["trials"]) >= 2
    continued = [t for t in summary["trials"] if "tuner/trial_id" in t["hyperparameters"]]
    assert continued and all("pretrain/reconstruction" not in t["metrics"] for t in continued)
    assert "tuner/epochs" not in tuning.hyperparameter_flags(continued[0]["hyperparameters"])


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
    values = small_model("finetune").declare(hp)
    assert values["pretrain_learning_rate"] == 0.001 and values["l1"] == 0.001  # section 4.1
    assert values["learning_rate"] == 0.1  # the first choice
    model = small_model("finetune").build(hp)
    assert [layer.name for layer in model.layers if layer.name.startswith("hidden")] == [
        "hidden_1_dense",
        "hidden_1",
    ]


@pytest.mark.tensorflow_only  # sparse input on JAX recompiles per batch (FACTS.md): slow
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
        ({"search_space": {"learning_rate": [0.1, 0.0]}}, "learning_rate=0.0"),
        ({"search_space": {"learning_rate": []}}, "search_space['learning_rate']"),
        ({"search_space": {"activation": ["relu6"]}}, "activation='relu6'"),
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


def test_bad_tuner_arguments_name_the_argument(tmp_path):
    hypermodel = small_model()
    for kwargs, needle in [
        ({"name": "annealing"}, "name='annealing'"),
        ({"name": "random", "max_trials": 0}, "max_trials=0"),
        ({"name": "hyperband"}, "max_epochs=None"),
        ({"name": "grid", "max_trials": 1.5}, "max_trials=1.5"),
    ]:
        with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
            tuning.make_tuner(hypermodel=hypermodel, directory=tmp_path, **kwargs)
    with pytest.raises(ValueError, match="name='hyperband'"):
        tuning.make_tuner("hyperband", small_model("pretrain"), max_epochs=2, directory=tmp_path)


def test_search_space_from_strings():
    assert tuning.parse_search_space(["hidden_units=500,1000", "activation=tanh"]) == {
        "hidden_units": (500, 1000),
        "activation": ("tanh",),
    }
    for text, needle in [
        ("momentum=0.9", "NAME=V1,V2"),
        ("learning_rate=fast", "must be floats"),
        ("learning_rate=0.1,", "NAME=V1,V2"),
        ("noise=1.5", "noise=1.5"),
    ]:
        with pytest.raises(ValueError, match=needle):
            tuning.parse_search_space([text])


def test_flagfile_for_the_image_app():
    flags = tuning.hyperparameter_flags(
        {"learning_rate": 0.01, "hidden_layers": 3, "hidden_units": 1000, "tuner/epochs": 4}
    )
    assert flags == {"learning_rate": 0.01, "hidden_units": [1000, 1000, 1000]}
    text = tuning.flagfile_text({**flags, "pretrain": False, "data_dir": None}, ["a comment"])
    assert (
        text == "# a comment\n--hidden_units=1000,1000,1000\n--learning_rate=0.01\n--nopretrain\n"
    )


def test_search_role_from_kerastuner_variables(monkeypatch):
    for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        monkeypatch.delenv(name, raising=False)
    assert tuning.search_role() == "single"
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_PORT"):
        tuning.search_role()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert tuning.search_role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner1")
    assert tuning.search_role() == "worker"


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """300 real Rotten Tomatoes snippets as a bag of 300 terms (skips without the corpus)."""
    from keras_sparse_rect.data import load_reviews
    from tests.review_data import write_sample

    path = write_sample(tmp_path_factory.mktemp("reviews") / "rt.csv", rows=300)
    return load_reviews(
        path, "text", "category", "rotten,fresh", ignore_ratings=("plot",), num_terms=300
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
    flags = hypermodel.experiment_flags(summary["best"]["hyperparameters"])
    assert flags["models"] in (["rectifier_1"], ["rectifier_3"])
    assert flags["masking_noise"] == [0.3, 0.3] and flags["l1"] == [1e-4, 0.0, 0.0]
    assert flags["hidden_units"] == 16 and flags["learning_rate"] == 0.1
    assert "| val_rmse |" in tuning.trials_markdown(summary)
    files = tuning.write_search_results(summary, hypermodel=hypermodel)
    text = open(files["best_flags"]).read()
    assert "python -m apps.sentiment_experiment --flagfile=" in text
    assert "--masking_noise=0.3,0.3" in text and "--noreconstruction_sampling" in text


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
