"""The project's shared test fixtures on disk (``../shared/data`` beside the clone, as in CI)."""
import os
from pathlib import Path

import pytest

YACHT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "uci" / "yacht"

# Outside CI a checkout without shared/ skips these tests; in CI (CI=true) a missing fixture must fail.
requires_yacht = pytest.mark.skipif(
    not YACHT.is_dir() and not os.environ.get("CI"),
    reason=f"the shared Yacht fixture is absent (expected at {YACHT})",
)
