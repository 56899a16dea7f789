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

    Worker processes call it after each task, else one task's high-water mark stays resident
    for all that follow. Within a task glibc's own (dynamic) thresholds are left alone: fixing
    the mmap threshold low made every large block fresh pages, and the page faults cost 25-30 %
    of a build's time (benchmarks/RESULTS.md, issue 8).
    """
    libc = _libc()
    if libc is not None:
        try:
            libc.malloc_trim(0)
        except AttributeError:
            pass
