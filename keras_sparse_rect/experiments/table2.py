"""Table 2 of the paper (section 4.2) from a sentiment result: Markdown, files, summary.

Example:

>>> result = {
...     "models": {"no_hidden": {"title": "No hidden layer", "hidden_layers": 0, "folds": [],
...                              "rmse_mean": 0.9, "rmse_std": 0.01, "sparsity_mean": 0.99}},
...     "data": {"name": "stars", "labeled": 60, "unlabeled": 0, "terms": 100, "density": 0.05,
...              "scale": [1, 2, 3, 4, 5]},
...     "config": {"folds": 3, "models": ["no_hidden"]}, "complete": True}
>>> print(table2_markdown(result).splitlines()[4])
| RMSE | 0.900 ± 0.010 |
"""

import os

from keras_sparse_rect import results
from keras_sparse_rect.experiments.configs import MODELS


def table2_markdown(result):
    """Table 2 in the paper's layout: one column per network, rows RMSE and sparsity."""
    models = result["models"]
    names = [n for n in MODELS if n in models]
    data = result["data"]
    config = result["config"]
    lines = [
        f"Table 2: RMSE and sparsity by {config['folds']}-fold cross-validation on "
        f"{data['name']} ({data['labeled']} labeled reviews"
        + (f", {data['unlabeled']} unlabeled" if data["unlabeled"] else "")
        + f", {data['terms']} terms, {100 * data['density']:.2f}% non-zeros; ratings "
        f"{' < '.join(str(s) for s in data['scale'])}). Mean ± standard deviation over folds.",
        "",
        "| Network | " + " | ".join(models[n]["title"] for n in names) + " |",
        "| --- |" + " --- |" * len(names),
        "| RMSE | "
        + " | ".join(f"{models[n]['rmse_mean']:.3f} ± {models[n]['rmse_std']:.3f}" for n in names)
        + " |",
        "| Sparsity | "
        + " | ".join(
            f"{100 * models[n]['sparsity_mean']:.1f}%"
            if not models[n]["hidden_layers"]
            else f"{100 * models[n]['sparsity_mean']:.1f}% ± {100 * models[n]['sparsity_std']:.1f}"
            for n in names
        )
        + " |",
    ]
    if not result.get("complete"):
        done = {n: len(models[n]["folds"]) for n in names}
        pending = [n for n in MODELS if n in config["models"] and n not in models]
        lines += [
            "",
            "**Unfinished run**: "
            + ", ".join(f"{models[n]['title']} {done[n]} of {config['folds']} folds" for n in names)
            + (f"; not started: {', '.join(pending)}" if pending else "")
            + ". Start the same command again to resume.",
        ]
    return "\n".join(lines) + "\n"


def write_results(result, output_dir):
    """Writes ``table2.md`` and ``result.json`` into ``output_dir``, atomically."""
    os.makedirs(output_dir, exist_ok=True)
    results.write_json_atomic(os.path.join(output_dir, "result.json"), result)
    if result["models"]:
        results.write_text_atomic(os.path.join(output_dir, "table2.md"), table2_markdown(result))


def summary(result):
    """The printed summary: Table 2 and where the files are."""
    config = result["config"]
    return (
        table2_markdown(result)
        + f"\nWritten to {os.path.join(config['output_dir'], 'table2.md')} and result.json"
        + (f" in {result['seconds']:.0f} s." if "seconds" in result else ".")
    )
