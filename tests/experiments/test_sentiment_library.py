"""The sentiment experiment's library (section 4.2, Table 2): runs, RMSE, networks, resuming.

The app's flags and exit codes are tested in ``tests/apps/test_sentiment_experiment.py``.
"""

import numpy as np
import pytest

from keras_sparse_rect.data import load_reviews
from keras_sparse_rect.experiments.sentiment import (
    MODELS,
    SentimentConfig,
    build_sentiment_network,
    rmse,
    run_sentiment_experiment,
    table2_markdown,
)
from tests.apps.test_sentiment_experiment import write_star_reviews


def test_library_run_with_unlabeled_reviews_and_stars(tmp_path):
    labeled = write_star_reviews(tmp_path / "labeled.jsonl", 60)
    unlabeled = write_star_reviews(tmp_path / "unlabeled.jsonl", 40)
    reviews = load_reviews(labeled, "body", "stars", 5, unlabeled_path=unlabeled, num_terms=100)
    config = SentimentConfig(
        models=("rectifier_1",), hidden_units=8, folds=3, epochs=2, learning_rate=0.1,
        output_dir=str(tmp_path / "out"), reconstruction_sampling=False,
    )  # fmt: skip
    lines = []
    result = run_sentiment_experiment(config, reviews, data_name="stars", log=lines.append)
    assert any("pretraining 1 rectifier layer(s) on 100 reviews" in line for line in lines)
    model = result["models"]["rectifier_1"]
    assert [f["fold"] for f in model["folds"]] == [0, 1, 2]
    assert sum(f["test_examples"] for f in model["folds"]) == 60
    # Predictions are expected stars in [1, 5]: the RMSE is at most 4.
    assert 0.0 < model["rmse_mean"] < 4.0
    assert result["data"]["unlabeled"] == 40 and result["data"]["rating_values"] == [1, 2, 3, 4, 5]
    table = table2_markdown(result)
    assert "| Network | Rectifier (1-layer) |" in table and "40 unlabeled" in table


def test_rmse_by_hand():
    assert rmse([3.2, 1.0, 4.5], [5, 1, 3]) == pytest.approx(np.sqrt((1.8**2 + 0 + 1.5**2) / 3))


@pytest.mark.parametrize("name", list(MODELS))
def test_networks_of_table2(name):
    _, activation, layers = MODELS[name]
    model = build_sentiment_network(50, 5, layers, 8, activation or "rectifier", (1e-4, 0, 0))
    assert model.inputs[0].sparse and model.output.shape == (None, 5)
    hidden = [layer.name for layer in model.layers if layer.name.startswith("hidden_")]
    assert len(hidden) == 2 * layers


@pytest.mark.slow
def test_a_killed_run_resumes_per_network_and_fold(tmp_path, monkeypatch):
    """A run killed after some folds keeps them; table2.md says it is unfinished."""
    from keras_sparse_rect.experiments import sentiment

    labeled = write_star_reviews(tmp_path / "labeled.jsonl", 60)
    reviews = load_reviews(labeled, "body", "stars", 5, num_terms=100)
    config = SentimentConfig(
        models=("no_hidden", "rectifier_1"), hidden_units=8, folds=3, epochs=1,
        pretrain_epochs=1, output_dir=str(tmp_path / "out"), reconstruction_sampling=False,
    )  # fmt: skip
    calls = []
    run_fold = sentiment.run_fold

    def killed_at_the_fifth_fold(*args, **kwargs):
        calls.append(args[1:2] + args[6:7])  # (network, fold)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")
        return run_fold(*args, **kwargs)

    monkeypatch.setattr(sentiment, "run_fold", killed_at_the_fifth_fold)
    with pytest.raises(KeyboardInterrupt):
        run_sentiment_experiment(config, reviews, data_name="stars", log=None)
    table = (tmp_path / "out" / "table2.md").read_text()
    assert "**Unfinished run**" in table and "Rectifier (1-layer) 1 of 3 folds" in table
    assert (tmp_path / "out" / "pretrained_rectifier.npz").exists()

    calls.clear()
    result = run_sentiment_experiment(config, reviews, data_name="stars", log=None)
    assert calls == [("rectifier_1", 1), ("rectifier_1", 2)]  # only the folds left
    assert result["complete"] and len(result["models"]["rectifier_1"]["folds"]) == 3
    assert "Unfinished" not in (tmp_path / "out" / "table2.md").read_text()
    calls.clear()
    again = run_sentiment_experiment(config, reviews, data_name="stars", log=None)
    assert calls == [] and again["models"] == result["models"]  # finished: shown, not rerun
