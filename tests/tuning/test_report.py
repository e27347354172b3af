"""A search's summary as text, Markdown and files (keras_sparse_rect.tuning.report)."""

import json

from keras_sparse_rect import tuning


def fake_summary(tmp_path, role="single", failed=False):
    """A summary as summarize() returns it: two trials, the second the best."""
    trials = [
        {
            "trial_id": "0",
            "tuner_id": "tuner0",
            "status": "FAILED" if failed else "COMPLETED",
            "score": None if failed else 0.3,
            "hyperparameters": {"learning_rate": 0.1, "noise": 0.25, "hidden_units": 16},
            "metrics": {} if failed else {"val_error": 0.3, "pretrain/reconstruction": 40.0},
            "error": "RuntimeError: a | b" if failed else None,
            "message": "Traceback ...\nRuntimeError: a | b" if failed else None,
        },
        {
            "trial_id": "1",
            "tuner_id": "tuner1",
            "status": "COMPLETED",
            "score": 0.2,
            "hyperparameters": {"learning_rate": 0.01, "noise": 0.25, "hidden_units": 16},
            "metrics": {"val_error": 0.2, "pretrain/reconstruction": 42.0},
            "error": None,
            "message": None,
        },
    ]
    return {
        "role": role,
        "tuner_id": "chief" if role == "chief" else "tuner0",
        "project_dir": str(tmp_path),
        "objective": {"name": "val_error", "direction": "min"},
        "stage": "finetune",
        "tuned": ["learning_rate", "noise"],
        "trials": trials,
        "completed": 1 if failed else 2,
        "failed": int(failed),
        "first_error": {"trial_id": "0", "error": trials[0]["error"]} if failed else None,
        "all_failed": False,
        "best": trials[1],
        "stopped_early": None,
    }


def test_markdown_has_one_row_per_trial_the_best_in_bold(tmp_path):
    text = tuning.trials_markdown(fake_summary(tmp_path, failed=True))
    lines = text.splitlines()
    assert lines[0].startswith(f"Search in `{tmp_path}` (stage finetune): 2 trials, 1 completed")
    assert lines[2] == (
        "| trial | status | val_error (min) | pretrain/reconstruction | learning_rate | noise "
        "| error |"
    )
    assert lines[4] == "| 0 | FAILED |  |  | 0.1 | 0.25 | RuntimeError: a \\| b |"
    assert lines[5] == "| **1** | **COMPLETED** | **0.2** | **42** | **0.01** | **0.25** |  |"


def test_markdown_of_a_distributed_search_says_who_ran_each_trial(tmp_path):
    text = tuning.trials_markdown(fake_summary(tmp_path, role="chief"))
    assert "| trial | ran by | status |" in text and "| 0 | tuner0 | COMPLETED |" in text


def test_summary_text_names_the_tuned_values_of_the_best_trial(tmp_path):
    text = tuning.summary_text(fake_summary(tmp_path, failed=True))
    assert text.splitlines() == [
        f"Search in {tmp_path}: 2 trial(s), 1 completed, 1 failed.",
        "1 of 2 trial(s) FAILED; first error (trial 0): RuntimeError: a | b",
        "Best trial 1: val_error 0.2000 (learning_rate=0.01, noise=0.25)",
    ]
    chief = tuning.summary_text(fake_summary(tmp_path, role="chief"))
    assert "Best trial 1, run by tuner1: val_error 0.2000" in chief


def test_the_caller_gives_best_flags_as_text_or_a_function(tmp_path):
    summary = fake_summary(tmp_path)
    files = tuning.write_search_results(summary)  # no text: no best.flags
    assert files["best_flags"] is None and not (tmp_path / "best.flags").exists()
    saved = json.loads((tmp_path / "trials.json").read_text())
    assert saved["best"]["trial_id"] == "1" and saved["files"] == files
    assert (tmp_path / "trials.md").read_text() == tuning.trials_markdown(summary)

    files = tuning.write_search_results(summary, best_flags="--learning_rate=0.01\n")
    assert (tmp_path / "best.flags").read_text() == "--learning_rate=0.01\n"

    calls = []

    def best_flags(summary, path):
        calls.append(path)
        return f"# {summary['best']['trial_id']}\n"

    out = tmp_path / "elsewhere"
    out.mkdir()
    files = tuning.write_search_results(summary, folder=out, best_flags=best_flags)
    assert calls == [str(out / "best.flags")] == [files["best_flags"]]
    assert (out / "best.flags").read_text() == "# 1\n"
    no_best = {**summary, "best": None}
    assert (
        tuning.write_search_results(no_best, folder=out, best_flags=best_flags)["best_flags"]
        is None
    )
