"""Give freed memory back to the OS (glibc keeps it for reuse otherwise)."""

from __future__ import annotations

import ctypes


def trim() -> None:
    """`malloc_trim(0)` on every arena: a process's resident size is then what it holds now.

    Worker processes call it after each task, else one task's high-water mark stays resident
    for all that follow.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
