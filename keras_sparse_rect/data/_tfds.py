"""tensorflow-datasets without its offline retry loop.

``tfds.load`` with no network retries for minutes before it fails
(measured: about 205 s). Here a data set is read when it is prepared in
``data_dir``; otherwise it is downloaded only when its download host answers a
HEAD request within 2 seconds; otherwise :class:`DatasetNotFoundError` is raised at
once with one line that says how to get it. tensorflow-datasets is imported
here only, inside the functions, so importing the package stays light.
"""

import http.client
import os
import ssl
import threading

import numpy as np

from keras_sparse_rect.data.errors import DatasetNotFoundError

# Where each builder downloads from (tensorflow-datasets 4.9), and its size.
DOWNLOADS = {
    "mnist": ("storage.googleapis.com", "11 MB"),
    "cifar10": ("www.cs.toronto.edu", "163 MB"),
    "emnist": ("biometrics.nist.gov", "536 MB"),
    "smallnorb": ("cs.nyu.edu", "250 MB"),
}
PROBE_TIMEOUT_S = 2.0
_CHUNK = 10_000  # examples per batch while reading a split into numpy


def default_data_dir():
    """``$TFDS_DATA_DIR``, else ``~/tensorflow_datasets`` (the tfds default)."""
    return os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")


def host_reachable(host, port=443, timeout=PROBE_TIMEOUT_S):
    """True if ``https://host:port/`` answers a HEAD request within ``timeout`` seconds.

    Any HTTP answer counts (the download itself verifies certificates); a
    refused or silent connection, a failed DNS lookup or a proxy that accepts
    connections but never answers counts as unreachable. Runs in a daemon
    thread so that nothing (a hanging DNS lookup included) holds the caller
    past ``timeout``.
    """
    result = []

    def probe():
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        try:
            connection.request("HEAD", "/")
            connection.getresponse()
            result.append(True)
        except (OSError, http.client.HTTPException):
            result.append(False)
        finally:
            connection.close()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _quietly(check):
    """Runs ``check()`` without tfds' absl warnings about missing folders."""
    from absl import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)
    try:
        return check()
    finally:
        logging.set_verbosity(verbosity)


def load_tfds_numpy(name, splits, *, data_dir=None, download=True, as_supervised=True):
    """Loads ``splits`` of the tfds data set ``name`` as numpy, failing fast offline.

    Returns one entry per split: an ``(images, labels)`` tuple with
    ``as_supervised``, else the feature dict.
    """
    data_dir = os.path.expanduser(os.fspath(data_dir or default_data_dir()))
    import tensorflow_datasets as tfds  # heavy: only when a tfds set is asked for

    builder = tfds.builder(name, data_dir=data_dir)
    if not _quietly(builder.is_prepared):
        host, size = DOWNLOADS.get(name.split("/")[0], ("storage.googleapis.com", "?"))
        how = (
            f"run once with network access to download it ({size}) into {data_dir}, "
            f"or copy a prepared tensorflow-datasets folder '{name.split('/')[0]}' "
            "there (pass data_dir= or set TFDS_DATA_DIR)"
        )
        if not download:
            raise DatasetNotFoundError(
                f"{name}: not prepared in {data_dir} and download=False; {how}"
            )
        if not host_reachable(host):
            raise DatasetNotFoundError(
                f"{name}: not prepared in {data_dir} and {host} is unreachable; {how}"
            )
        builder.download_and_prepare()
    return [
        _concatenate_batches(
            tfds.as_numpy(
                builder.as_dataset(split=split, as_supervised=as_supervised).batch(_CHUNK)
            ),
            f"{name} split {split!r}",
        )
        for split in splits
    ]


def _concatenate_batches(batches, what):
    """Joins numpy batches (tuples or dicts of arrays) along the first axis."""
    batches = list(batches)
    if not batches:
        raise ValueError(f"{what} is empty.")
    first = batches[0]
    if isinstance(first, dict):
        return {key: np.concatenate([b[key] for b in batches]) for key in first}
    return tuple(np.concatenate(parts) for parts in zip(*batches, strict=True))
