"""A search's trials as a dict, a Markdown table, the lines an app prints, and files."""

import json
import os

from keras_sparse_rect import results
from keras_sparse_rect.tuning import _compat
from keras_sparse_rect.tuning.tuners import RAN_BY_FILE, search_role


def _ran_by(tuner, trial_id):
    path = os.path.join(tuner.project_dir, f"trial_{trial_id}", RAN_BY_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("tuner_id")
    except (OSError, ValueError):
        return None


def _trial_record(tuner, trial):
    status = trial.status if trial.status in ("COMPLETED", "RUNNING") else "FAILED"
    metrics = {}
    for name in trial.metrics.metrics:
        value = trial.metrics.get_last_value(name)
        metrics[name] = None if value is None else float(value)
    return {
        "trial_id": trial.trial_id,
        "tuner_id": _ran_by(tuner, trial.trial_id),
        "status": status,
        "score": None if trial.score is None else float(trial.score),
        "hyperparameters": dict(trial.hyperparameters.values),
        "metrics": metrics,
        "error": _compat.exception_line(trial.message) if status == "FAILED" else None,
        "message": trial.message if status == "FAILED" else None,
    }


def summarize(tuner):
    """Every trial of the search in ``tuner``'s folder, failures and the best trial, as a dict.

    On a worker of a distributed search only the trials that this worker ran
    are known (the chief holds the others).

    Returns:
        ``{"role", "tuner_id", "project_dir", "objective": {"name", "direction"},
        "stage", "tuned", "trials": [...], "completed", "failed", "first_error",
        "all_failed", "best"}``; each trial has ``trial_id``, ``tuner_id`` (who
        ran it, when known), ``status`` (``COMPLETED`` or ``FAILED``), ``score``,
        ``hyperparameters``, ``metrics``, ``error`` (the exception's last line)
        and ``message`` (the traceback). ``best`` is the best completed trial,
        or ``None``.
    """
    role = search_role()
    objective = tuner.oracle.objective
    if role == "worker":
        trials = [dict(record) for record in tuner.trials_run]
        best = None
    else:
        oracle_trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
        trials = [_trial_record(tuner, t) for t in oracle_trials]
        completed = [t for t in trials if t["status"] == "COMPLETED" and t["score"] is not None]
        reverse = objective.direction == "max"
        best = sorted(completed, key=lambda t: t["score"], reverse=reverse)[:1]
        best = best[0] if best else None
    failed = [t for t in trials if t["status"] == "FAILED"]
    hypermodel = tuner.hypermodel
    return {
        "role": role,
        "tuner_id": tuner.tuner_id,
        "project_dir": os.fspath(tuner.project_dir),
        "objective": {"name": objective.name, "direction": objective.direction},
        "stage": getattr(hypermodel, "stage", None),
        "tuned": list(getattr(hypermodel, "tune", ())),
        "trials": trials,
        "completed": sum(t["status"] == "COMPLETED" for t in trials),
        "failed": len(failed),
        "first_error": (
            {"trial_id": failed[0]["trial_id"], "error": failed[0]["error"]} if failed else None
        ),
        "all_failed": bool(trials) and len(failed) == len(trials),
        "best": best,
    }


def _format(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def trials_markdown(summary):
    """A Markdown table of every trial: status, objective, metrics, tuned values, error."""
    objective = summary["objective"]["name"]
    tuned = summary["tuned"]
    reported = [m for m in ("val_error", "val_rmse", "pretrain/reconstruction") if m != objective]
    extra = [m for m in reported if any(m in t.get("metrics", {}) for t in summary["trials"])]
    ran_by = summary["role"] == "chief"  # one tuner otherwise
    header = ["trial"] + (["ran by"] if ran_by else []) + ["status"]
    header += [f"{objective} ({summary['objective']['direction']})"] + extra + tuned + ["error"]
    best_id = summary["best"]["trial_id"] if summary["best"] else None
    lines = [
        f"Search in `{summary['project_dir']}` (stage {summary['stage']}): "
        f"{len(summary['trials'])} trials, {summary['completed']} completed, "
        f"{summary['failed']} failed. **Bold**: the best trial.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for trial in summary["trials"]:
        metrics = trial.get("metrics", {})
        score = trial.get("score")
        if score is None:
            score = metrics.get(objective)
        cells = [trial["trial_id"]] + ([trial.get("tuner_id") or ""] if ran_by else [])
        cells += [trial["status"], _format(score)]
        cells += [_format(metrics.get(m)) for m in extra]
        cells += [_format(trial["hyperparameters"].get(n)) for n in tuned]
        cells.append((trial.get("error") or "").replace("|", "\\|"))
        if trial["trial_id"] == best_id:
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_search_results(summary, folder=None, best_flags=None):
    """Writes ``trials.json``, ``trials.md`` and (when given and a trial completed) ``best.flags``.

    The library knows no app: the caller gives the text of ``best.flags`` (e.g.
    a flagfile of the app that runs the best configuration), or a function
    ``best_flags(summary, path)`` that returns it. Every file is written
    atomically.

    Args:
        summary: ``run_search``'s or :func:`summarize`'s dict.
        folder: where to write (default: the search's project folder).
        best_flags: the text of ``best.flags``, a callable returning it, or
            ``None`` (no ``best.flags``).

    Returns:
        ``{"trials_json": path, "trials_md": path, "best_flags": path or None}``.
    """
    folder = os.fspath(folder or summary["project_dir"])
    files = {
        "trials_json": os.path.join(folder, "trials.json"),
        "trials_md": os.path.join(folder, "trials.md"),
        "best_flags": None,
    }
    if summary["best"] is not None and best_flags is not None:
        files["best_flags"] = os.path.join(folder, "best.flags")
        text = best_flags(summary, files["best_flags"]) if callable(best_flags) else best_flags
        results.write_text_atomic(files["best_flags"], text)
    results.write_json_atomic(files["trials_json"], {**summary, "files": files})
    results.write_text_atomic(files["trials_md"], trials_markdown(summary))
    return files


def _tuned_values(summary):
    """``name=value, ...`` of the best trial's tuned hyper-parameters, by name."""
    values = summary["best"]["hyperparameters"]
    tuned = sorted(n for n in summary["tuned"] if n in values)
    return ", ".join(f"{name}={values[name]}" for name in tuned)


def summary_text(summary):
    """The lines an app prints after a search: counts, failures, the best trial."""
    objective = summary["objective"]["name"]
    trials = summary["trials"]
    if summary["role"] == "worker":
        lines = [
            f"Worker {summary['tuner_id']} ran {len(trials)} trial(s): "
            f"{summary['completed']} completed, {summary['failed']} failed."
        ]
    else:
        lines = [
            f"Search in {summary['project_dir']}: {len(trials)} trial(s), "
            f"{summary['completed']} completed, {summary['failed']} failed."
        ]
    if summary.get("stopped_early"):
        lines.append(f"KerasTuner stopped the search: {summary['stopped_early']}")
    if summary["failed"]:
        first = summary["first_error"]
        everything = "All" if summary["all_failed"] else f"{summary['failed']} of"
        lines.append(
            f"{everything} {len(trials)} trial(s) FAILED; first error (trial "
            f"{first['trial_id']}): {first['error']}"
        )
    best = summary["best"]
    if best is not None:
        values = _tuned_values(summary)
        chief = summary["role"] == "chief" and best.get("tuner_id")
        ran_by = f", run by {best['tuner_id']}" if chief else ""
        lines.append(
            f"Best trial {best['trial_id']}{ran_by}: {objective} {best['score']:.4f}"
            + (f" ({values})" if values else "")
        )
    return "\n".join(lines)
