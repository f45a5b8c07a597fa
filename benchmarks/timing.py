"""What the benchmarks share: one wall-clock measurement of a call."""

from __future__ import annotations

import time


def timed(fn):
    """(seconds, result) of fn()."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out
