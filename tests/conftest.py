"""Shared test set-up: quick mode on, TensorFlow quiet, and a fresh seed for every test."""
import os

os.environ.setdefault("BDL_TF_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seed, so a failure reproduces."""
    from bdl_tf import set_seed

    set_seed(0)
    yield
