"""A pure function over many inputs in CPU processes: for numpy work in many small calls
(bootstrap resamples of hundreds of detection rows), which holds the GIL, so threads do not
help. Forked on Linux: a fork starts in milliseconds and, unlike a spawned process, does not
re-run the caller's script (a researcher's unguarded script or notebook keeps working); the
children run numpy and scipy only, never torch, whose thread pools a fork leaves unusable.
Spawned elsewhere (macOS and Windows do not fork safely)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def pmap(fn: Callable, items: Sequence, *, workers: int | None = None, cost: Callable | None = None) -> list:
    """[fn(x) for x in items], in `workers` processes (default: the usable cores). `fn` must be
    picklable (a module-level function or a partial of one). `cost(x)` orders the work largest
    first, so one large item does not finish alone at the end. One worker, or fewer than two
    items: in this process."""
    items = list(items)
    workers = min(workers or usable_cores(), len(items))
    if workers < 2:
        return [fn(x) for x in items]
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if sys.platform == "linux" else "spawn"

    order = sorted(range(len(items)), key=lambda i: -cost(items[i])) if cost else list(range(len(items)))
    out: list = [None] * len(items)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), initializer=one_thread) as pool:
        for i, result in zip(order, pool.map(fn, [items[i] for i in order], chunksize=4), strict=True):
            out[i] = result
    return out


_LIMITS = []


def one_thread() -> None:
    """A worker's BLAS and OpenMP pools at one thread: the processes are the parallelism. Two workers
    of two OpenBLAS threads each on two cores scored a leaderboard's runs 2.2x slower (10.8 s against
    4.9 s for 200 runs). The environment covers libraries the worker loads later (a fork of a process
    that has not imported numpy yet), threadpoolctl those already loaded."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    from threadpoolctl import threadpool_limits

    _LIMITS.append(threadpool_limits(1))  # kept: the limits hold for the worker's life


def call(job: Callable):
    """job(): what `pmap` maps over prepared calls (functools.partial of a module-level function)."""
    return job()
