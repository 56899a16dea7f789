"""Content-addressed cache of encoded assets and probes: key = hash of everything that decides the output.

Deleting the folder only costs time. Entries are written whole (temp file, then rename) so a
killed build never leaves a half entry that a later build would trust.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import __version__

ENV = "ASSET_PIPELINE_CACHE_DIR"


def default_cache_dir() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("asset-pipeline"))


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the package's own source: any code change (not only a release) misses the cache."""
    h = hashlib.sha256(__version__.encode())
    pkg = Path(__file__).resolve().parent
    for path in sorted(pkg.rglob("*.py")):
        h.update(path.relative_to(pkg).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def make_key(kind: str, **parts: Any) -> str:
    """A stable key from JSON-able parts (the package version and code always included)."""
    payload = json.dumps({"kind": kind, "version": __version__, "code": code_fingerprint(), **parts},
                         sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _check(meta: dict[str, Any]) -> str:
    """sha256 of an entry's fields: with `_sha256` of its data, what makes a damaged entry a miss."""
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()


class Cache:
    """A folder of `<key>.json` (+ `<key>.bin`) entries, sharded by the key's first two hex digits."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def _path(self, key: str, suffix: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}{suffix}"

    def get(self, key: str) -> tuple[dict[str, Any], bytes | None] | None:
        if self.root is None:
            return None
        try:
            meta = json.loads(self._path(key, ".json").read_text("utf-8"))
            if not isinstance(meta, dict) or meta.pop("_check", None) != _check(meta):
                return None  # damaged or edited: every reader may take the fields as written
            data = None
            if meta.get("_has_data"):
                data = self._path(key, ".bin").read_bytes()
                if hashlib.sha256(data).hexdigest() != meta.get("_sha256"):
                    return None  # a damaged entry is a miss, never a wrong output
            return meta, data
        except (OSError, ValueError):
            return None

    def put(self, key: str, meta: dict[str, Any], data: bytes | None = None) -> None:
        if self.root is None:
            return
        try:
            folder = self._path(key, "").parent
            folder.mkdir(parents=True, exist_ok=True)
            meta = dict(meta)
            if data is not None:
                meta["_has_data"] = True
                meta["_sha256"] = hashlib.sha256(data).hexdigest()
                self._write(self._path(key, ".bin"), data)
            meta["_check"] = _check(meta)
            self._write(self._path(key, ".json"), json.dumps(meta, sort_keys=True).encode())
        except OSError:
            pass  # a read-only or full cache folder costs speed, never the build

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class FileHashes:
    """sha256 of source files remembered by (size, mtime, ctime, inode), as make and black do.

    A no-change rebuild then reads no source bytes at all. Any change to a file's size, times or
    inode means it is hashed again; deleting the cache folder only costs time.
    """

    NAME = "file-hashes.json"

    def __init__(self, root: Path | None) -> None:
        self.path = root / self.NAME if root is not None else None
        self.known: dict[str, list[Any]] = {}
        self.changed = False
        if self.path is not None:
            try:
                loaded = json.loads(self.path.read_text("utf-8"))
                if isinstance(loaded, dict):
                    self.known = loaded
            except (OSError, ValueError):
                pass

    @staticmethod
    def _stamp(st: os.stat_result) -> list[int]:
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]

    def lookup(self, path: Path, st: os.stat_result) -> str | None:
        entry = self.known.get(str(path))
        if entry and entry[:4] == self._stamp(st):
            return str(entry[4])
        return None

    def remember(self, path: Path, st: os.stat_result, sha256: str) -> None:
        if self.path is None:
            return
        self.known[str(path)] = [*self._stamp(st), sha256]
        self.changed = True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            Cache._write(self.path, json.dumps(self.known, sort_keys=True).encode())
        except OSError:
            pass
