"""The sentiment experiment (section 4.2, Table 2): the app end to end, and its library."""

import gzip
import json
import time

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
from tests.apps.conftest import error_lines, run_app, run_in_process
from tests.review_data import rotten_tomatoes_csv

APP = "apps.sentiment_experiment"
SMALL = ["--num_terms=300", "--hidden_units=16", "--folds=2", "--epochs=1", "--pretrain_epochs=1"]


@pytest.mark.slow
def test_app_runs_end_to_end_on_the_default_data(tmp_path):
    rotten_tomatoes_csv()  # the cached default corpus (skips if it cannot be fetched)
    started = time.perf_counter()
    result = run_app(
        APP, "--max_reviews=300", "--models=no_hidden,rectifier_3", *SMALL,
        f"--output_dir={tmp_path}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert time.perf_counter() - started < 120
    table = (tmp_path / "table2.md").read_text()
    assert "| Network | No hidden layer | Rectifier (3-layers) |" in table
    assert "Rotten Tomatoes" in table and "300 labeled reviews" in table
    assert table.splitlines()[-2].startswith("| RMSE | 0.")
    assert table in result.stdout  # the printed summary is the table
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["complete"] and data["data"]["scale"] == ["rotten", "fresh"]
    rectifier = data["models"]["rectifier_3"]
    assert rectifier["pretrained"] and len(rectifier["folds"]) == 2
    assert sum(f["test_examples"] for f in rectifier["folds"]) == 300
    assert set(rectifier["pretraining_history"]) >= {
        "pretrain/layer_1/reconstruction",
        "pretrain/layer_3/reconstruction",
    }
    assert 0.0 < rectifier["sparsity_mean"] < 1.0
    assert data["models"]["no_hidden"]["sparsity_mean"] > 0.9  # the input's own sparsity
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def write_star_reviews(path, rows, with_bad_row=False):
    rng = np.random.default_rng(0)
    words = {1: "awful cold rude", 3: "fine okay average", 5: "superb delicious friendly"}
    with open(path, "w", encoding="utf-8") as f:
        for i in range(rows):
            stars = [1, 3, 5][i % 3]
            text = " ".join(rng.choice(words[stars].split(), 2)) + f" table{i % 7} dinner"
            f.write(json.dumps({"body": text, "stars": stars}) + "\n")
        if with_bad_row:
            f.write(json.dumps({"body": "", "stars": 4}) + "\n")
    return path


def test_bad_row_stops_the_app_with_file_and_line(tmp_path):
    path = write_star_reviews(tmp_path / "r.jsonl", 30, with_bad_row=True)
    flags = [f"--reviews={path}", "--text_column=body", "--rating_column=stars"]
    result = run_in_process(
        APP, *flags, "--models=no_hidden", *SMALL, f"--output_dir={tmp_path}/out"
    )
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and f"{path}, line 31: empty text" in lines[0]
    skipped = run_in_process(
        APP, *flags, "--skip_bad_rows", "--models=no_hidden", *SMALL, f"--output_dir={tmp_path}/o"
    )
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    assert "Skipped 1 bad row(s) (first:" in skipped.stdout and "line 31" in skipped.stdout
    assert json.loads((tmp_path / "o" / "result.json").read_text())["data"]["bad_rows_skipped"] == 1


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--folds=1", "--folds must be an int >= 2"),
        ("--models=no_hidden,deep", "--models must be distinct names"),
        ("--hidden_units=10,20", "--hidden_units must be one int or 3 ints >= 1"),
        ("--l1=1e-4,0", "--l1 must be one value or one per hidden layer (3)"),
        ("--rating_scale=5", "describes a --reviews file"),
        ("--reviews=REVIEWS --rating_scale=1", "scale"),
        (
            "--reviews=REVIEWS --text_column=body --rating_column=stars --folds=100",
            "--folds=100 is more than the 10 labeled reviews",
        ),
        ("--reviews=DIR", "is a directory"),
        ("--output_dir=FILE", "is a file, not a folder"),
    ],
)
def test_bad_flags_print_one_line_and_exit_2(tmp_path, flag, message):
    reviews = write_star_reviews(tmp_path / "r.jsonl", 10)
    (tmp_path / "a_file").write_text("")
    flags = (
        flag.replace("REVIEWS", str(reviews))
        .replace("DIR", str(tmp_path))
        .replace("FILE", str(tmp_path / "a_file"))
        .split()
    )
    if not any(f.startswith("--output_dir") for f in flags):
        flags.append(f"--output_dir={tmp_path}/out")
    result = run_in_process(APP, *flags)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and message in lines[0], lines


@pytest.mark.parametrize(
    "name, data",
    [
        ("fake.csv.gz", b"text,rating\ngood,5\n"),  # not compressed at all
        ("cut.csv.gz", gzip.compress(b"text,rating\n" + b"good,5\n" * 500)[:40]),  # truncated
    ],
)
def test_a_corrupt_compressed_file_is_one_line_naming_the_flag_and_file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    result = run_in_process(APP, f"--reviews={path}", f"--output_dir={tmp_path}/out")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and f"--reviews: {path}" in lines[0], lines
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("models", ("no_hidden", "huge")),
        ("folds", 1),
        ("epochs", 0),
        ("learning_rate", 0.0),
        ("l1", (1e-4, 0.0)),
        ("pretrain_learning_rates", (0.1, -1, 0.1)),
        ("pepper_rate", 1.5),
        ("masking_noise", (0.5, 0.3, 0.1)),
        ("hidden_units", (10, 20)),
        ("sampled_zeros", 0),
    ],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SentimentConfig(**{field: value}).validate()


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
