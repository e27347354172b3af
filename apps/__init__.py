"""absl apps that reproduce the paper's experiments; each calls the library."""

import os

# Quieter TensorFlow start-up for command-line users (set before TF is imported).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
