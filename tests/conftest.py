"""Shared test set-up: a fresh seed for every test (quick mode and quiet TF: ../conftest.py)."""
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seed, so a failure reproduces."""
    from bdl_tf import set_seed

    set_seed(0)
    yield
