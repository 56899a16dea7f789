"""Give freed memory back to the OS (glibc keeps it for reuse otherwise)."""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to do
        return None


def trim() -> None:
    """`malloc_trim(0)` on every arena: a process's resident size is then what it holds now.

    Every `prepare` ends with it (else one task's high-water mark stays resident for all that
    follow); see `trim_between` for the stages within a task. Within a task glibc's own (dynamic) thresholds are left alone: fixing
    the mmap threshold low made every large block fresh pages, and the page faults cost 25-30 %
    of a build's time (benchmarks/RESULTS.md, issue 8).
    """
    libc = _libc()
    if libc is not None:
        try:
            libc.malloc_trim(0)
        except AttributeError:
            pass


_in_worker = False


def in_worker() -> None:
    """This process is a pool worker: `trim_between` leaves its memory to the allocator."""
    global _in_worker
    _in_worker = True


def trim_between() -> None:
    """`trim` between the stages of a task, where they run in the build's own process (one job).

    That process keeps every result and runs every task, so what a stage freed and left
    resident sits under all that follows (balanced, one job: 90 -> 85 MiB peak on the
    benchmark corpus). A worker gives its memory back after each task; between stages it
    would only fault the same pages in again (fast, two jobs: +36k faults, ~3 % of the time).
    """
    if not _in_worker:
        trim()

