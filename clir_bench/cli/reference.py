"""Commands that train or run models: run, diagnose, train, protocols, encode."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from clir_bench.cli.app import app
from clir_bench.cli.common import (
    DEFAULT_ENCODER,
    Bootstrap,
    DeviceOpt,
    EncoderOpt,
    FoldsOpt,
    SeedOpt,
    TrackName,
    err,
    fold_list,
    inputs,
    out,
    user_errors,
    write_stdout,
)
from clir_bench.cli.tables import detector_table, diagnosis_table, separation, systems_table, training_summary
from clir_bench.core.errors import ClirBenchError


@app.command()
@user_errors
def run(
    track: TrackName = "noise-0.3",
    systems: Annotated[str | None, typer.Option(help="Comma-separated systems (default: all reference systems).")]
    = None,
    device: DeviceOpt = "auto",
    encoder: EncoderOpt = DEFAULT_ENCODER,
    mt_model: Annotated[str | None, typer.Option("--mt-model", help="Seq2seq MT model (name or folder).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Runs and reports (default build/run/TRACK).")]
    = None,
    submissions: Annotated[Path, typer.Option(help="Where reference submissions are recorded.")] = Path("submissions"),
    record: Annotated[bool, typer.Option(help="Record each run as a reference submission.")] = True,
    resamples: Bootstrap = 10_000,
    seed: SeedOpt = 0,
    folds: FoldsOpt = None,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per trained system (from --seed on); reports give the "
                                                   "seed SD.")] = 1,
    diagnose: Annotated[bool, typer.Option("--diagnose", help="Then read each trained system's signals on its "
                                                              "training pairs against the noise manifest (as "
                                                              "`clir-bench diagnose`), and record it.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="CPU processes that train the students not yet cached, "
                                                     "each on cores/workers threads (1: in turn, in this process).")]
    = 1,
    protocol: Annotated[str, typer.Option(help="How the reference students train: quick (the CPU demo's budget), "
                                               "standard or fixed (see `clir-bench protocols`).")] = "quick",
) -> None:
    """Train and run the reference systems on a track; score each; print MAP per language and the gap."""
    from clir_bench.core.cache import cache_dir
    from clir_bench.models.encoder import check_device
    from clir_bench.models.protocol import DEFAULT, get_protocol
    from clir_bench.pipeline import parse_systems, run_track
    from clir_bench.systems import Context
    from clir_bench.tracks.track import get_track

    t = get_track(track)
    names = parse_systems(systems)
    get_protocol(protocol)
    device = check_device(device)
    ctx = Context(device=device, encoder=encoder, mt_model=mt_model, cache=cache_dir(), seed=seed, protocol=protocol,
                  progress=sys.stderr.isatty(), log=lambda msg: err.print(msg, highlight=False, markup=False))
    default_out = Path("build") / "run" / (t.name if protocol == DEFAULT else f"{t.name}-{protocol}")
    results = run_track(t, systems=names, ctx=ctx, out=out_dir or default_out,
                        submissions=submissions if record else None, resamples=resamples,
                        folds=fold_list(folds), seeds=seeds, diagnose=diagnose,
                        workers=workers)
    out.print(systems_table(results, t))
    spread = {n: r.seeds for n, r in results.systems.items() if r.seeds}
    for name, rows in spread.items():
        out.print(f"{name}: {len(rows['seeds'])} seeds, " + "; ".join(
            f"{k} {rows[k]['mean']:.3f} (seed SD {rows[k]['sd']:.4f})" for k in ("low", "high", "gap") if k in rows),
            highlight=False)
    diagnosis = results.diagnostics
    if diagnosis:
        if diagnosis["status"] != "ok" or not diagnosis["applicable"]:
            out.print(f"noise diagnosis: {diagnosis.get('reason') or diagnosis['status']}", highlight=False)
        for row in diagnosis.get("best", []):
            out.print(separation(row), highlight=False)


@app.command()
@user_errors
def diagnose(
    track: TrackName = "noise-0.3",
    systems: Annotated[str | None, typer.Option(help="Comma-separated systems (default: every reference system "
                                                        "that scores its training pairs).")] = None,
    device: DeviceOpt = "auto",
    encoder: EncoderOpt = DEFAULT_ENCODER,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the JSON report here.")] = None,
    resamples: Bootstrap = 1000,
    seed: SeedOpt = 0,
    record: Annotated[bool, typer.Option(help="Record the report in the submissions store (the leaderboard's noise "
                                              "page reads it).")] = False,
    folds: FoldsOpt = None,
    submissions: Annotated[Path, typer.Option(help="Where the report is recorded.")] = Path("submissions"),
    workers: Annotated[int, typer.Option(min=1, help="CPU processes that score the students without stored "
                                                     "signals (1: in turn, in this process).")] = 1,
) -> None:
    """Does each OT technique see which bitext pairs are corrupted? AUC and AP of every per-pair signal
    (mass, OT cost, loss...) against the noise manifest, trained and at step 0 (students from the cache)."""
    from clir_bench.core.cache import cache_dir
    from clir_bench.core.files import write_text_atomic
    from clir_bench.models.encoder import check_device
    from clir_bench.noise_diagnosis import best_separators, check_systems, diagnose_track, record_diagnosis
    from clir_bench.pipeline import parse_systems
    from clir_bench.systems import Context
    from clir_bench.tracks.track import get_track

    t = get_track(track)
    names = check_systems(parse_systems(systems))
    device = check_device(device)
    ctx = Context(device=device, encoder=encoder, cache=cache_dir(), seed=seed,
                  progress=sys.stderr.isatty(), log=lambda msg: err.print(msg))
    report = diagnose_track(t, systems=names, ctx=ctx, resamples=resamples, folds=fold_list(folds),
                            workers=workers)
    if report.smoke:
        err.print(report.smoke, highlight=False, markup=False)
    text = json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n"
    if output:
        write_text_atomic(output, text, protect=inputs(track))
    if record:
        err.print(record_diagnosis(report, root=submissions, track=t), highlight=False, markup=False)
    if as_json:
        write_stdout(text)
        return
    if not report.applicable:
        out.print(f"{t.name}: {report.reason}")
        return
    out.print(diagnosis_table(report.to_dict()))
    for row in best_separators(report):
        out.print(separation(row), highlight=False)
    if report.comparisons:
        out.print(detector_table(report.comparisons))


@app.command()
@user_errors
def train(
    track: TrackName,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the student, train.json, checkpoints.")],
    recipe: Annotated[str, typer.Option(help="plain, centred, centred+anchor, reference, no-ot, mass-weighted.")]
    = "reference",
    solver: Annotated[str, typer.Option(help="OT solver: sinkhorn, emd, unbalanced, partial.")] = "sinkhorn",
    encoder: EncoderOpt = DEFAULT_ENCODER,
    device: DeviceOpt = "auto",
    protocol: Annotated[str, typer.Option(help="Training protocol whose settings are the defaults below "
                                               "(see `clir-bench protocols`).")] = "quick",
    max_steps: Annotated[int | None, typer.Option(min=1, help="Steps (default: the protocol's).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Global batch, over processes and accumulation.")] = 16,
    grad_accum: Annotated[int, typer.Option(min=1)] = 1,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: the protocol's).")] = None,
    seed: SeedOpt = 0,
    dev: Annotated[bool, typer.Option(help="Early stopping on the dev split's MAP.")] = True,
    checkpoint_every: Annotated[int, typer.Option(min=0, help="Save a checkpoint every N steps (0: never).")] = 0,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoint.pt.")] = False,
    fold: Annotated[int, typer.Option(help="Which fold's bitext and dev, for a cross-validated track.")] = 0,
) -> None:
    """Distil an OPTICAL student on a track's noisy bitext (also under `torchrun -m clir_bench train`)."""
    from clir_bench.core.registry import did_you_mean
    from clir_bench.models.encoder import check_device
    from clir_bench.models.optical import train_on_track
    from clir_bench.models.ot import SOLVERS
    from clir_bench.models.protocol import get_protocol
    from clir_bench.tracks.track import get_track

    if solver not in SOLVERS:
        raise ClirBenchError(f"unknown solver {solver!r}.{did_you_mean(solver, SOLVERS)} Known: {', '.join(SOLVERS)}")
    chosen = get_protocol(protocol)
    device = check_device(device)
    parts = {part.fold: part for part in get_track(track).fold_tracks()}
    if len(parts) > 1 and fold not in parts:
        raise ClirBenchError(f"--fold {fold}: track {track} has folds {', '.join(map(str, parts))}")
    part = parts.get(fold) or next(iter(parts.values()))
    bitext, _ = part.noisy_bitext()
    settings = {**chosen.settings(sum(len(bitext[lang]) for lang in part.languages)), "batch_size": batch_size,
                **({"max_steps": max_steps} if max_steps is not None else {}), **({"lr": lr} if lr is not None else {})}
    result = train_on_track(part, recipe_name=recipe, encoder=encoder, out=out_dir, device=device,
                            use_dev=dev, resume=resume, checkpoint_every=checkpoint_every, solver=solver,
                            grad_accum=grad_accum, seed=seed, progress=sys.stderr.isatty(), protocol=protocol,
                            **settings)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, one process reports
        return
    out.print(f"{training_summary(result)}; student in {out_dir / 'student'}", highlight=False)


@app.command()
@user_errors
def protocols() -> None:
    """The training protocols of the reference students: budget, learning rate, schedule, stopping."""
    from rich.table import Table

    from clir_bench.models.protocol import DEFAULT, PROTOCOLS

    table = Table("protocol", "settings", "what it is for", box=None)
    for name, p in PROTOCOLS.items():
        table.add_row(name + (" (default)" if name == DEFAULT else ""), p.summary(), p.description)
    out.print(table)


@app.command()
@user_errors
def encode(
    track: TrackName,
    encoder: EncoderOpt = DEFAULT_ENCODER,
    device: DeviceOpt = "auto",
    split: Annotated[str, typer.Option(help="test or dev.")] = "test",
) -> None:
    """Encode a track's documents into the cache, resumably (also under `torchrun -m clir_bench encode`)."""
    from clir_bench.core.cache import cache_dir
    from clir_bench.core.progress import counting
    from clir_bench.models.encoder import Encoder, check_device, distributed_rank, resolve
    from clir_bench.models.retrieval import encode_docs
    from clir_bench.tracks.track import get_track

    t = get_track(track)
    device = check_device(device)
    rank, world = distributed_rank()
    if device == "cuda" and world > 1:
        device = f"cuda:{os.environ.get('LOCAL_RANK', rank)}"
    enc = Encoder(resolve(encoder), device=device)
    for lang, pair in t.data(split).items():
        if not hasattr(pair.docs, "fingerprint"):
            if rank == 0:
                out.print(f"{lang}: documents are held in memory (embedded collection); nothing to cache")
            continue
        with counting(f"encoding {lang}", enabled=sys.stderr.isatty() and rank == 0) as progress:
            index = encode_docs(enc, pair.docs, cache=cache_dir(), distributed=True, progress=progress)
        if rank == 0:
            out.print(f"{lang}: {len(index.ids):,} documents in {len(index.shards)} shard(s) over {world} process(es), "
                      f"cached in {cache_dir() / 'embeddings'}", highlight=False)

