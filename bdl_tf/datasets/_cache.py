"""Where downloaded data sets live, and the one function that downloads."""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path

CACHE_ENV_VAR = "BDL_TF_CACHE"


def default_cache_dir(name: str) -> Path:
    """``$BDL_TF_CACHE/<name>`` if that variable is set, else ``~/.cache/bdl_tf/<name>``."""
    if not isinstance(name, str) or not name or any(sep in name for sep in "/\\"):
        raise ValueError(f"name must be a non-empty folder name, got {name!r}")
    root = os.environ.get(CACHE_ENV_VAR)
    return (Path(root) if root else Path.home() / ".cache" / "bdl_tf") / name


def fetch_url(url: str) -> bytes:
    """Download ``url`` and return its bytes (the default ``fetch`` of the loaders)."""
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - fixed https URLs
        return response.read()
