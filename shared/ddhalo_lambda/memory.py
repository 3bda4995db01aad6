"""The C allocator setting that keeps a warm container's memory from creeping job after job."""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc serving every block above ``threshold`` with its own mmap, given back on free.

    By default glibc raises that threshold to the largest such block freed (up to 32 MB). After one
    sync's 35 MB Dicker Data answer, a warm container's large buffers come from the heap instead,
    and the heap cannot shrink under the small objects that outlive them: the next plan job at
    5,000 customers peaked 60 MB higher than a cold one, and each job ended holding it. Answers
    whether the setting took (False off glibc, where this does not apply).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))
