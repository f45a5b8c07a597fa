"""Train the students a `clir-bench run` needs, and score their training pairs for
`clir-bench diagnose`, in parallel CPU processes (`--workers N`; the default, 1, trains them
in turn in one process).

A training step takes ~1.6x as long on one thread as on two (2 cores, benchmarks/train_speed.py
--threads 1), so on 2 cores two one-thread workers gain little: from an empty cache, 23 min 32 s
(noise-0.0) with two workers against 24 min 58 s (noise-0.3) in turn, at 5.7 GB summed PSS
against 3.5 GB. Where one process cannot use many cores well (small batches), more workers of
fewer threads each may pay; that is not measured here.

Each worker loads the encoder once, shares a fold's teacher token states and step-0 dev MAP
between its students, and writes each student (and its signals) into the cache, where the
system's own `run` or `diagnose` then finds it: what a worker computes is what the serial path
computes, up to the float rounding that thread counts change anyway. A job that fails in a
worker is left to the serial path, which reports it as it always does. On CUDA, under torchrun,
or with one worker, nothing here runs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

from clir_bench.systems import Context, get_system


@dataclass(frozen=True)
class Job:
    system: str
    part: int  # index into track.fold_tracks()
    seed: int
    task: str = "train"  # or "signals": train if need be, then score every training pair (diagnose)


def plan(track, parts, *, systems: list[str], ctx: Context, seeds: int = 1, signals: bool = False) -> list[Job]:
    """What `run` would train (every seed of every system with a student, not yet cached) and, with
    `signals`, what `diagnose` would score (the first seed's students without stored signals)."""
    index = {p.name: i for i, p in enumerate(track.fold_tracks())}
    jobs = []
    for name in systems:
        system = get_system(name)
        if not hasattr(system, "prepare"):
            continue
        for seed in [ctx.seed + k for k in range(seeds if getattr(system, "seeded", False) else 1)]:
            for part in parts:
                at = replace(ctx, seed=seed)
                if signals and seed == ctx.seed and not system.signals_stored(part, at):
                    jobs.append(Job(name, index[part.name], seed, "signals"))
                elif not system.cached(part, at):
                    jobs.append(Job(name, index[part.name], seed))
    return sorted(jobs, key=lambda j: (j.part, j.seed, j.system))  # a worker's jobs share folds' teacher states


def train_parallel(track, jobs: list[Job], *, ctx: Context, workers: int) -> dict[Job, str]:
    """Run `jobs` in `workers` spawned processes of cores // workers threads each; per job "ok" or
    why it failed (the serial path retries it). Nothing is done for fewer than two jobs or workers."""
    if workers < 2 or len(jobs) < 2 or ctx.device != "cpu" or "WORLD_SIZE" in os.environ:
        return {}  # torchrun already runs one process per device
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from clir_bench.core.progress import bar
    from clir_bench.models.encoder import resolve

    resolve(ctx.encoder)  # converts or locates the model once, here, not racing in every worker
    _release()  # what a conversion held: the main process idles while the workers train
    workers = min(workers, len(jobs))
    threads = max(1, (os.cpu_count() or 1) // workers)
    fields = {"device": ctx.device, "encoder": ctx.encoder, "cache": ctx.cache, "protocol": ctx.protocol,
              "train": ctx.train}
    scoring = sum(j.task == "signals" for j in jobs)
    ctx.log(f"in {workers} processes of {threads} thread(s): training {len(jobs) - scoring} students"
            + (f", scoring the training pairs of {scoring} (training them first if need be)" if scoring else ""))
    done: dict[Job, str] = {}
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                               initargs=(track, fields, threads, os.getpid()))
    try:
        with bar("training students", total=len(jobs), enabled=ctx.progress) as advance:
            futures = {pool.submit(_train, job): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    seconds = future.result()
                    done[job] = "ok"
                    ctx.log(f"  [{job.system}] {track.fold_tracks()[job.part].name} seed {job.seed} "
                            f"{'trained' if job.task == 'train' else 'scored'} in {seconds:.0f} s")
                except Exception as e:  # noqa: BLE001 - the serial path reruns it and reports it properly
                    done[job] = f"{type(e).__name__}: {e}"
                    ctx.log(f"  [{job.system}] training in a worker failed ({done[job]}); it will run in turn")
                advance()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done


_WORKER: dict = {}


def _start(track, fields: dict, threads: int, parent: int) -> None:
    import torch

    watch_parent(parent)
    torch.set_num_threads(threads)
    _WORKER.update(track=track, ctx=Context(**fields, log=lambda *a: None))


def watch_parent(parent: int, every: float = 2.0) -> None:
    """End this worker when the process that started it is gone: one killed (rather than interrupted,
    which reaches the whole process group) would leave its workers training for nobody, holding
    their memory and cores and writing students to the cache."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def _release() -> None:
    """Return freed memory to the system: glibc keeps a process's freed heap (with the earlier folds'
    teacher states, a worker grew by ~0.23 GB a fold without this)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _train(job: Job) -> float:
    start = time.perf_counter()
    part = _WORKER["track"].fold_tracks()[job.part]  # one object per fold: the worker's memo keys hold
    memo = _WORKER["ctx"]._memo  # a fold's teacher states and step-0 signals serve that fold's jobs only
    for key in [k for k in memo if k[0] in ("teacher", "step-0 states") and k[-1] != part.bitext_sha256()]:
        del memo[key]
    _release()
    system, ctx = get_system(job.system), replace(_WORKER["ctx"], seed=job.seed)
    if job.task == "signals":
        system.diagnose(part, ctx)  # kept beside the student
    else:
        system.prepare(part, ctx)
    return time.perf_counter() - start
