"""The sentiment experiment's output folder: one behaviour with the image experiment's."""

import pytest

from keras_sparse_rect.data import load_reviews
from keras_sparse_rect.experiments.run_folder import RunConflictError
from keras_sparse_rect.experiments.sentiment import SentimentConfig, run_sentiment_experiment
from tests.apps.test_sentiment_experiment import write_star_reviews


def star_reviews(path, rows=30):
    return write_star_reviews(path, rows)


def config(tmp_path, **fields):
    base = dict(models=("no_hidden",), folds=2, epochs=1, output_dir=str(tmp_path / "out"))
    return SentimentConfig(**{**base, **fields})


def test_a_finished_run_of_another_configuration_is_refused_not_overwritten(tmp_path):
    reviews = load_reviews(star_reviews(tmp_path / "r.jsonl"), "body", "stars", 5, num_terms=50)
    first = run_sentiment_experiment(config(tmp_path), reviews, data_name="stars", log=None)
    assert first["complete"]
    written = (tmp_path / "out" / "result.json").read_text()
    other = config(tmp_path, epochs=2)
    with pytest.raises(RunConflictError) as caught:
        run_sentiment_experiment(other, reviews, data_name="stars", log=None)
    assert caught.value.model_dir == str(tmp_path / "out")
    assert "epochs" in caught.value.what and "restart" in str(caught.value)
    assert (tmp_path / "out" / "result.json").read_text() == written  # untouched
    again = run_sentiment_experiment(other, reviews, data_name="stars", log=None, restart=True)
    assert again["complete"] and again["config"]["epochs"] == 2
    shown = run_sentiment_experiment(other, reviews, data_name="stars", log=None)
    assert shown["models"] == again["models"]  # finished: shown, not rerun
    assert not (tmp_path / "out" / "run.lock").exists()
    assert not (tmp_path / "out" / "progress.json").exists()


def test_a_run_that_fails_before_its_first_fold_leaves_nothing(tmp_path, monkeypatch):
    from keras_sparse_rect.experiments import sentiment

    reviews = load_reviews(star_reviews(tmp_path / "r.jsonl"), "body", "stars", 5, num_terms=50)

    def fails(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(sentiment, "run_fold", fails)
    with pytest.raises(RuntimeError):
        run_sentiment_experiment(config(tmp_path), reviews, data_name="stars", log=None)
    assert not (tmp_path / "out").exists()
