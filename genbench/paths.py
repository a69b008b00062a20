"""Where genbench keeps weights and caches: $GENBENCH_HOME (default ~/.cache/genbench)."""
from __future__ import annotations

import os
from pathlib import Path


def genbench_home() -> Path:
    return Path(os.environ.get("GENBENCH_HOME", Path.home() / ".cache" / "genbench")).expanduser()


def default_cache_dir() -> Path:
    return genbench_home() / "cache"
