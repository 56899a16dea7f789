"""The rotating log file, safe for several processes writing at once (concurrent-log-handler)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

ENV = "ASSET_PIPELINE_LOG_DIR"
_configured: Path | None = None


def log_dir() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    from platformdirs import user_log_dir

    return Path(user_log_dir("asset-pipeline"))


def log_file() -> Path:
    return log_dir() / "asset-pipeline.log"


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Attach the shared rotating file handler once per process; None if it cannot be opened."""
    global _configured
    if _configured is not None:
        return _configured
    from concurrent_log_handler import ConcurrentRotatingFileHandler

    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = ConcurrentRotatingFileHandler(str(path), maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None  # an unwritable log folder must not stop a build
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("asset_pipeline")
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    _configured = path
    return path
