"""The paper's experiments as importable functions; the absl apps in ``apps/`` call them."""
