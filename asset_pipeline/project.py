"""Discover a source project: the convention layout of SPEC section 2, overridden by assets.toml."""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import re
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import languages as lang_tags
from .cache import FileHashes
from .config import parse_color
from .errors import ConfigError
from .records import FITS, SourceFile

HIDDEN = {"thumbs.db", "desktop.ini"}


def natural_key(text: str) -> list[Any]:
    """'img2' sorts before 'img10'."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def is_hidden(path: Path) -> bool:
    return path.name.startswith(".") or path.name.lower() in HIDDEN


_memo: FileHashes | None = None  # set by a build that has a cache (use_file_hashes)


@contextlib.contextmanager
def use_file_hashes(memo: FileHashes) -> Iterator[None]:
    """Within this block `hash_file` trusts unchanged stat stamps (and saves new ones after)."""
    global _memo
    _memo = memo
    try:
        yield
    finally:
        _memo = None
        memo.save()


_early: dict[Path, tuple[int, int, str, int]] = {}  # resolved path -> (mtime_ns, size, sha256, bytes read)


def _prefetch(root: Path, meanwhile: Callable[[], object] | None = None) -> None:
    """Hash the convention layout's sources before `discover` asks for them one by one.

    hashlib releases the GIL, so a cold build of a large project hashes on threads at the speed
    of the disk and the cores rather than of one core (250 MB of masters: 0.3 s of a 4 s build).
    With `meanwhile` (the imports a build's workers share), the hashing goes to a forked child
    instead, on the other core, while this process runs `meanwhile`: beside imports, which hold
    the GIL, threads were starved of it. Only regular files inside the project that the stat
    memo does not know are read; `hash_file` still checks each result against the file's stat
    stamp when it uses it, and hashes for itself whatever a failed child did not send.
    """
    real = root.resolve()
    paths = [p for p in root.glob("icon.*")]
    for sub in ("icons", "thumbnails/*"):
        paths += [p for p in root.glob(f"{sub}/*")]
    todo = []
    for p in paths:
        try:
            r = p.resolve()
            if is_hidden(p) or not r.is_relative_to(real) or not r.is_file():
                continue
            st = r.stat()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
            continue
        if _memo is None or _memo.lookup(r, st) is None:
            todo.append((r, st))
    if meanwhile is not None and todo and _can_fork():
        _hash_in_child(todo, meanwhile)
        return
    if len(todo) < 2:
        return

    def one(item: tuple[Path, Any]) -> None:
        r, st = item
        try:
            digest, size = _hash_bytes(r)
        except OSError:
            return  # discover's own read reports it
        _early[r] = (st.st_mtime_ns, st.st_size, digest, size)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, todo))


def _can_fork() -> bool:
    import multiprocessing
    import threading

    # with other threads running, a forked child could inherit a lock one of them holds
    return hasattr(os, "fork") and multiprocessing.get_start_method() == "fork" and threading.active_count() == 1


def _hash_in_child(todo: list[tuple[Path, Any]], meanwhile: Callable[[], object]) -> None:
    """Hash `todo` in a forked child, which sends one "index digest size" line per file it read,
    while this process runs `meanwhile`."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: hash, report, and leave without running any of the parent's exit code
        code = 1
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "w") as out:
                for i, (r, _st) in enumerate(todo):
                    try:
                        digest, size = _hash_bytes(r)
                    except OSError:
                        continue  # discover's own read reports it
                    out.write(f"{i} {digest} {size}\n")
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    lines: list[str] = []
    try:
        with os.fdopen(read_fd, "r") as results:
            meanwhile()
            lines = results.readlines()
    except BaseException:
        os.kill(pid, signal.SIGKILL)  # interrupted: nobody will read what the child sends
        raise
    finally:
        os.waitpid(pid, 0)
    for line in lines:
        parts = line.split()
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 64 or not parts[2].isdigit() or int(parts[0]) >= len(todo):
            continue  # a line cut short by a child that died: hash_file reads that file itself
        r, st = todo[int(parts[0])]
        _early[r] = (st.st_mtime_ns, st.st_size, parts[1], int(parts[2]))


def hash_file(path: Path) -> tuple[str, int]:
    """sha256 and size of a file's bytes."""
    early = _early.pop(path.resolve(), None)
    if early is not None:
        st = path.resolve().stat()
        mtime, size, digest, read = early
        if (st.st_mtime_ns, st.st_size) == (mtime, size) and read == size:
            if _memo is not None:
                _memo.remember(path.resolve(), st, digest)
            return digest, read
    memo = _memo
    if memo is not None:
        st = path.resolve().stat()
        known = memo.lookup(path.resolve(), st)
        if known is not None:
            return known, st.st_size
        digest, size = _hash_bytes(path)
        if size == st.st_size:
            memo.remember(path.resolve(), st, digest)
        return digest, size
    return _hash_bytes(path)


def _hash_bytes(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    # one small buffer, refilled: reading 1 MB chunks left a few MB in each hashing thread's
    # malloc arena, which every forked worker then carried
    buf = bytearray(1 << 18)
    view = memoryview(buf)
    with path.open("rb") as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


@dataclass(frozen=True, slots=True, kw_only=True)
class FitSettings:
    fit: str = "cover"
    background: tuple[int, int, int] = (255, 255, 255)


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """Everything a build needs to know about the source project, before any pixel is read."""

    root: Path
    preset: str | None
    platform: str | None
    icon: FitSettings
    thumbnail: FitSettings
    icons: dict[str, SourceFile]  # language -> icon source ("en" always)
    thumbnails: dict[str, tuple[SourceFile, ...]]  # language -> candidates in order
    languages: tuple[str, ...]  # "en" first, then sorted
    fits: dict[str, str] = field(default_factory=dict)  # per-source fit overrides
    not_duplicates: frozenset[frozenset[str]] = frozenset()
    listing: dict[str, Any] | None = None
    problems: tuple[tuple[str, str], ...] = ()  # (path, reason) for sources refused at discovery
    refused: tuple[tuple[str, str, str], ...] = ()  # (language, path, reason): the thumbnail candidates among them


def _read_assets_toml(root: Path) -> dict[str, Any]:
    from .config import _read_toml

    path = root / "assets.toml"
    return _read_toml(path) if path.is_file() else {}


KNOWN_KEYS = {"preset", "platform", "icon", "icons", "thumbnail", "thumbnails", "dedupe", "listing", "fit"}


def _source(root: Path, path: Path, problems: list[tuple[str, str]]) -> SourceFile | None:
    rel = _rel(root, path)
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 (an old archive's Latin-1 name, say)
        # the manifest and the report are UTF-8 and name every source: such a name cannot go in
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        problems.append((shown, "the file name is not valid UTF-8; rename it"))
        return None
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(root.resolve()):
            problems.append((rel, "symlink leads outside the project; refused"))
            return None
        if resolved.exists() and not resolved.is_file():  # a FIFO would block the hashing below forever
            problems.append((rel, "not a regular file (a pipe, socket or device); refused"))
            return None
        digest, size = hash_file(path)
    except PermissionError:
        problems.append((rel, "permission denied"))
        return None
    except OSError as exc:
        loop = exc.errno == errno.ELOOP  # Python 3.13's pathlib: ELOOP for a symlink loop
        problems.append((rel, "cannot read: a symlink loop" if loop else f"cannot read: {exc.strerror or exc}"))
        return None
    except RuntimeError:  # the same loop before Python 3.13
        problems.append((rel, "cannot read: a symlink loop"))
        return None
    return SourceFile(path=path, rel=rel, sha256=digest, size=size)


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _expand(root: Path, patterns: list[str] | str, where: str) -> list[Path]:
    if isinstance(patterns, str):
        patterns = [patterns]
    out: list[Path] = []
    for pat in patterns:
        if not isinstance(pat, str):
            msg = f"{where}: expected a path or glob string, got {pat!r}"
            raise ConfigError(msg)
        if Path(pat).is_absolute() or ".." in Path(pat).parts:
            msg = f"{where}: {pat!r} must be a path inside the project"
            raise ConfigError(msg)
        matches = sorted(glob.glob(str(root / pat), recursive=True), key=natural_key)
        files = [Path(m) for m in matches if Path(m).is_file() or not Path(m).exists()]
        if not matches:
            msg = f"{where}: {pat!r} matches no file"
            raise ConfigError(msg)
        if not files:
            msg = f"{where}: {pat!r} matches only folders, no image file (for a folder's images: '{pat.rstrip('/')}/*')"
            raise ConfigError(msg)
        out.extend(p for p in files if not is_hidden(p) and p not in out)
    return out


def _expand_one(root: Path, pattern: list[str] | str, where: str) -> Path:
    """The one file an icon setting names (a glob must match exactly one)."""
    paths = _expand(root, pattern, where)
    if len(paths) != 1:
        names = ", ".join(_rel(root, p) for p in paths[:4]) + (", ..." if len(paths) > 4 else "")
        msg = f"{where}: an icon is one file, but this matches {len(paths)}: {names}" if paths else f"{where}: matches no file"
        raise ConfigError(msg)
    return paths[0]


def _check_lang(tag: str, where: str) -> str:
    if not isinstance(tag, str) or not lang_tags.is_well_formed(tag):
        msg = f"{where}: {tag!r} is not a language tag (BCP 47, like en, ja, pt-BR, zh-Hant)"
        raise ConfigError(msg)
    return lang_tags.canonical(tag)


def _fit_settings(data: Any, where: str, default_bg: tuple[int, int, int]) -> tuple[FitSettings, str | None]:
    if data is None:
        return FitSettings(background=default_bg), None
    if not isinstance(data, dict):
        msg = f"{where}: expected a table"
        raise ConfigError(msg)
    unknown = set(data) - {"source", "fit", "background"}
    if unknown:
        msg = f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected source, fit, background"
        raise ConfigError(msg)
    fit = data.get("fit", "cover")
    if fit not in FITS:
        msg = f"{where}: expected one of {', '.join(FITS)} for 'fit' but received {fit!r}"
        raise ConfigError(msg)
    bg = parse_color(data["background"], f"{where}.background") if "background" in data else default_bg
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        msg = f"{where}.source: expected a path string"
        raise ConfigError(msg)
    return FitSettings(fit=fit, background=bg), source


def discover(root: Path, *, meanwhile: Callable[[], object] | None = None) -> Project:
    """Read the project at `root` (no pixels are decoded here, only bytes hashed).

    `meanwhile`: work to do while the sources are hashed, if any need hashing (see `_prefetch`).
    """
    if not root.exists():
        msg = f"{root}: project folder not found"
        raise ConfigError(msg)
    if not root.is_dir():
        msg = f"{root}: not a folder"
        raise ConfigError(msg)
    cfg = _read_assets_toml(root)
    where = str(root / "assets.toml")
    unknown = set(cfg) - KNOWN_KEYS
    if unknown:
        msg = f"{where}: unknown key(s) {', '.join(sorted(unknown))}"
        raise ConfigError(msg)
    problems: list[tuple[str, str]] = []
    _prefetch(root, meanwhile)
    try:
        return _discover(root, cfg, where, problems)
    finally:
        _early.clear()


def _discover(root: Path, cfg: dict[str, Any], where: str, problems: list[tuple[str, str]]) -> Project:
    icon_fit, icon_src = _fit_settings(cfg.get("icon"), f"{where} [icon]", (255, 255, 255))
    thumb_fit, _ = _fit_settings(cfg.get("thumbnail"), f"{where} [thumbnail]", icon_fit.background)

    # icon (en)
    if icon_src:
        icon_paths = [_expand_one(root, icon_src, f"{where} [icon].source")]
    else:
        icon_paths = sorted((p for p in root.glob("icon.*") if p.is_file() and not is_hidden(p)), key=lambda p: natural_key(p.name))
        if not icon_paths:
            msg = f"{root}: no icon source (expected icon.<ext> in the project folder, or [icon] source in assets.toml)"
            raise ConfigError(msg)
        if len(icon_paths) > 1:
            names = ", ".join(p.name for p in icon_paths)
            msg = f"{root}: several icon sources ({names}); choose one with [icon] source in assets.toml"
            raise ConfigError(msg)
    icons: dict[str, SourceFile] = {}
    first = _source(root, icon_paths[0], problems)
    if first is not None:
        icons["en"] = first

    # per-language icons: icons/<lang>.<ext>, then [icons]
    icons_dir = root / "icons"
    if icons_dir.is_dir():
        for p in sorted(icons_dir.iterdir(), key=lambda p: natural_key(p.name)):
            if p.is_file() and not is_hidden(p):
                tag = _check_lang(p.stem, f"{_rel(root, p)}")
                if tag in icons and tag != "en":
                    msg = f"{_rel(root, p)}: a second icon for language {tag!r}"
                    raise ConfigError(msg)
                src = _source(root, p, problems)
                if src is not None and tag != "en":
                    icons[tag] = src
    icons_cfg = cfg.get("icons", {})
    if not isinstance(icons_cfg, dict):
        msg = f"{where} [icons]: expected a table of language = path"
        raise ConfigError(msg)
    keys: dict[str, str] = {}
    for key, value in icons_cfg.items():
        tag = _check_lang(key, f"{where} [icons]")
        if tag in keys:  # language tags ignore case
            msg = f"{where} [icons]: {keys[tag]!r} and {key!r} are the same language ({tag}); give it one icon"
            raise ConfigError(msg)
        keys[tag] = key
        src = _source(root, _expand_one(root, value, f"{where} [icons].{key}"), problems)
        if src is not None:
            icons[tag] = src

    # thumbnails: [thumbnails] lists, else thumbnails/<lang>/*
    thumbs: dict[str, tuple[SourceFile, ...]] = {}
    refused: list[tuple[str, str, str]] = []

    def candidates(tag: str, files: Iterable[Path]) -> tuple[SourceFile, ...]:
        found = []
        for path in files:
            before = len(problems)
            src = _source(root, path, problems)
            if src is not None:
                found.append(src)
            elif len(problems) > before:  # recorded in `dropped` too, as an unreadable candidate
                refused.append((tag, *problems[-1]))
        return tuple(found)

    thumbs_cfg = cfg.get("thumbnails")
    if thumbs_cfg is not None:
        if not isinstance(thumbs_cfg, dict):
            msg = f"{where} [thumbnails]: expected a table of language = [paths or globs]"
            raise ConfigError(msg)
        named: dict[str, str] = {}
        for key, value in thumbs_cfg.items():
            tag = _check_lang(key, f"{where} [thumbnails]")
            if tag in named:  # language tags ignore case: "EN" and "en" are one language
                msg = f"{where} [thumbnails]: {named[tag]!r} and {key!r} are the same language ({tag}); list its thumbnails once"
                raise ConfigError(msg)
            named[tag] = key
            files = _expand(root, value, f"{where} [thumbnails].{key}")
            thumbs[tag] = candidates(tag, files)
    else:
        tdir = root / "thumbnails"
        if tdir.is_dir():
            folders: dict[str, str] = {}
            for d in sorted(tdir.iterdir(), key=lambda p: p.name):
                if is_hidden(d) or not d.is_dir():
                    continue
                tag = _check_lang(d.name, _rel(root, d))
                if tag in folders:  # the second folder's art would have replaced the first's, unseen
                    msg = (f"{_rel(root, d)}: thumbnails/{folders[tag]} and thumbnails/{d.name} are the same "
                           f"language ({tag}); put its thumbnails in one folder")
                    raise ConfigError(msg)
                folders[tag] = d.name
                files = sorted((p for p in d.iterdir() if not is_hidden(p) and not p.is_dir()), key=lambda p: natural_key(p.name))
                found = candidates(tag, files)
                if found:
                    thumbs[tag] = found

    # listing languages (urls per language) also declare languages
    listing = cfg.get("listing")
    listing_langs: set[str] = set()
    if isinstance(listing, dict) and isinstance(listing.get("urls"), dict):
        listing_langs = {_check_lang(k, f"{where} [listing.urls]") for k in listing["urls"]}
    langs = {"en"} | set(thumbs) | set(icons) | listing_langs
    languages = ("en",) + tuple(sorted(langs - {"en"}))

    # per-source fit overrides and the not-duplicates allow-list
    fits_cfg = cfg.get("fit", {})
    fits: dict[str, str] = {}
    if not isinstance(fits_cfg, dict):
        msg = f"{where} [fit]: expected a table of path = fit"
        raise ConfigError(msg)
    for key, value in fits_cfg.items():
        if value not in FITS:
            msg = f"{where} [fit]: expected one of {', '.join(FITS)} for {key!r} but received {value!r}"
            raise ConfigError(msg)
        fits[Path(key).as_posix()] = value
    dedupe_cfg = cfg.get("dedupe", {})
    if not isinstance(dedupe_cfg, dict):
        msg = f"{where} [dedupe]: expected a table with not_duplicates"
        raise ConfigError(msg)
    unknown = set(dedupe_cfg) - {"not_duplicates"}
    if unknown:  # a threshold here would otherwise be ignored without a word
        msg = (f"{where} [dedupe]: unknown key(s) {', '.join(sorted(unknown))}; expected not_duplicates "
               "(near-duplicate thresholds belong in a preset's [dedupe] table)")
        raise ConfigError(msg)
    listed = dedupe_cfg.get("not_duplicates", [])
    if not isinstance(listed, list):
        msg = f"{where} [dedupe].not_duplicates: expected a list of path pairs"
        raise ConfigError(msg)
    pairs: set[frozenset[str]] = set()
    for pair in listed:
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            msg = f"{where} [dedupe].not_duplicates: each entry must be a pair of paths, got {pair!r}"
            raise ConfigError(msg)
        pairs.add(frozenset(Path(p).as_posix() for p in pair))

    preset = cfg.get("preset")
    platform = cfg.get("platform")
    for key, val in (("preset", preset), ("platform", platform)):
        if val is not None and not isinstance(val, str):
            msg = f"{where}: expected a string for {key!r}"
            raise ConfigError(msg)
    if isinstance(preset, str) and preset.endswith(".toml") and not Path(preset).is_absolute():
        preset = str(root / preset)
    if isinstance(platform, str) and platform.endswith(".toml") and not Path(platform).is_absolute():
        platform = str(root / platform)
    if "en" not in icons and not problems:
        msg = f"{root}: no readable icon source"
        raise ConfigError(msg)
    return Project(
        root=root, preset=preset, platform=platform, icon=icon_fit, thumbnail=thumb_fit,
        icons=icons, thumbnails=thumbs, languages=languages, fits=fits,
        not_duplicates=frozenset(pairs), listing=listing if isinstance(listing, dict) else None,
        problems=tuple(problems), refused=tuple(refused),
    )


def collect_files(paths: list[Path]) -> list[Path]:
    """Image files under `paths` (folders recursively, hidden files skipped), in natural order."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = (f for f in p.rglob("*") if f.is_file() and not any(is_hidden(Path(x)) for x in f.relative_to(p).parts))
            files.extend(sorted(found, key=lambda f: natural_key(str(f))))
        elif p.is_file():
            files.append(p)
        else:
            msg = f"{p}: no such file or folder"
            raise ConfigError(msg)
    return files
