"""The sentiment experiment (section 4.2, Table 2): the app end to end, and its library."""

import gzip
import json
import time

import numpy as np
import pytest

from tests.apps.conftest import error_lines, run_app, run_in_process
from tests.review_data import rotten_tomatoes_csv

APP = "apps.sentiment_experiment"
SMALL = ["--num_terms=300", "--hidden_units=16", "--folds=2", "--epochs=1", "--pretrain_epochs=1"]


@pytest.mark.slow
@pytest.mark.once("tensorflow")  # the app's plumbing; tests/experiments/ test its library on both
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
        ("cut.csv.gz", gzip.compress(b"text,rating\n" + b"good,5\n" * 500, mtime=0)[:40]),
    ],
    ids=["not_compressed", "truncated"],
)
def test_a_corrupt_compressed_file_is_one_line_naming_the_flag_and_file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    result = run_in_process(APP, f"--reviews={path}", f"--output_dir={tmp_path}/out")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and f"--reviews: {path}" in lines[0], lines
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_another_configuration_is_refused_until_restart(tmp_path):
    path = write_star_reviews(tmp_path / "r.jsonl", 30)
    flags = [f"--reviews={path}", "--text_column=body", "--rating_column=stars"]
    out = tmp_path / "out"
    first = run_in_process(APP, *flags, "--models=no_hidden", *SMALL, f"--output_dir={out}")
    assert first.returncode == 0, first.stderr[-2000:]
    finished = (out / "result.json").read_text()
    changed = [*SMALL[:-2], "--epochs=2", "--pretrain_epochs=1"]
    refused = run_in_process(APP, *flags, "--models=no_hidden", *changed, f"--output_dir={out}")
    assert refused.returncode == 2
    lines = error_lines(refused.stderr)
    assert len(lines) == 1 and f"--output_dir={out}" in lines[0] and "--restart" in lines[0]
    assert (out / "result.json").read_text() == finished  # the finished run is untouched
    again = run_in_process(
        APP, *flags, "--models=no_hidden", *changed, "--restart", f"--output_dir={out}"
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((out / "result.json").read_text())["config"]["epochs"] == 2


def test_a_full_disk_is_one_line(tmp_path, monkeypatch):
    from keras_sparse_rect.experiments import run_errors, sentiment

    def full(*args, **kwargs):
        raise run_errors.NoSpaceLeftError(str(tmp_path / "o"), "1 fold")

    monkeypatch.setattr(sentiment, "run_sentiment_experiment", full)
    path = write_star_reviews(tmp_path / "r.jsonl", 30)
    flags = [f"--reviews={path}", "--text_column=body", "--rating_column=stars"]
    result = run_in_process(APP, *flags, "--models=no_hidden", *SMALL, f"--output_dir={tmp_path}/o")
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "no space left" in lines[0]
