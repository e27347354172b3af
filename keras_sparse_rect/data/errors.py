"""The one exception a data loader raises when a data set is not available (section 4)."""


class DatasetNotFoundError(ValueError):
    """A data set is neither on disk nor obtainable now; the message says how to get it.

    Its message is one line that names the data set and how to obtain it, so
    that an app can print it and exit with status 2. It subclasses
    ``ValueError``, so ``except ValueError`` also catches it; a file that is
    present but truncated or corrupt raises a plain ``ValueError`` naming the
    file instead.

    Example:

    >>> from keras_sparse_rect.data import DatasetNotFoundError, load_image_dataset
    >>> try:
    ...     data = load_image_dataset("norb", data_dir="/nonexistent")
    ... except DatasetNotFoundError as error:
    ...     print(str(error).split(":")[0])  # the data set, then how to get it
    norb
    """
