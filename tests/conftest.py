"""Shared test set-up: a fresh seed for every test (quick mode and quiet TF: ../conftest.py).

The benchmarks' own modules (``benchmarks/uci_protocol.py``) are importable by name, as they are
for the scripts that sit beside them.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seed, so a failure reproduces."""
    from bdl_tf import set_seed

    set_seed(0)
    yield
