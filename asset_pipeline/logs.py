"""The rotating log file, safe for several processes writing at once (concurrent-log-handler)."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

ENV = "ASSET_PIPELINE_LOG_DIR"
_configured = False


def log_dir() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    from platformdirs import user_log_dir

    return Path(user_log_dir("asset-pipeline"))


def log_file() -> Path:
    return log_dir() / "asset-pipeline.log"


class _Deferred(logging.Handler):
    """Stands in for the file handler until a record comes: importing concurrent-log-handler
    (with portalocker, ~80 ms) is then paid by a process that has something to log, or by
    `open_soon`'s thread, not by every worker at start-up."""

    def emit(self, record: logging.LogRecord) -> None:
        real = _open()
        if real is not None:
            real.handle(record)


_lock = threading.Lock()
_real: logging.Handler | None = None
_failed = False
_opener: threading.Thread | None = None


def _open() -> logging.Handler | None:
    """The rotating file handler, made on first need; None if the log folder cannot be written."""
    global _real, _failed
    with _lock:
        if _real is None and not _failed:
            from concurrent_log_handler import ConcurrentRotatingFileHandler

            path = log_file()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handler = ConcurrentRotatingFileHandler(str(path), maxBytes=2_000_000, backupCount=3, encoding="utf-8")
            except OSError:
                _failed = True  # an unwritable log folder must not stop a build
                return None
            handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
            _real = handler
        return _real


def setup_logging(level: int = logging.INFO, *, deferred: bool = False) -> Path | None:
    """Attach the shared rotating file handler once per process; its path, or None if it cannot
    be opened. `deferred`: the file is opened at the first record (see `_Deferred`); None."""
    global _configured
    if not _configured:
        logger = logging.getLogger("asset_pipeline")
        logger.addHandler(_Deferred())
        logger.setLevel(level)
        logger.propagate = False
        _configured = True
    if deferred:
        return None  # not even the path: finding the user's log folder imports platformdirs
    return log_file() if _open() is not None else None


def open_soon() -> None:
    """Open the log file on a thread (the main one goes on): for a process whose workers have
    just been forked and are busy, so the import overlaps their work. `settle` waits for it."""
    global _opener
    setup_logging(deferred=True)
    if _real is None and _opener is None:
        _opener = threading.Thread(target=_open, name="open-log", daemon=True)
        _opener.start()


def settle() -> None:
    """Wait for `open_soon`'s thread: call before forking, so no child inherits an import or a
    lock that thread holds half-way."""
    global _opener
    if _opener is not None:
        _opener.join()
        _opener = None


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # a lock held by the parent's opener thread would never be released here


os.register_at_fork(after_in_child=_after_fork_in_child)
