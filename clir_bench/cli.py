"""The `clir-bench` command line: a thin Typer layer over keyword-only functions.

Imports here stay light (no torch, no transformers, no ir_datasets) so that `score` and
`validate` start fast; each command imports what it needs.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError

app = typer.Typer(
    name="clir-bench",
    help="Cross-lingual retrieval on low-resource languages under noisy training bitext.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
tracks_app = typer.Typer(help="List tracks, or show one with its checksums.", invoke_without_command=True)
data_app = typer.Typer(help="Export a track's data for participants.", no_args_is_help=True)
board_app = typer.Typer(help="Build the static HTML leaderboard from submissions/, or serve it.", no_args_is_help=True)
app.add_typer(tracks_app, name="tracks")
app.add_typer(data_app, name="data")
app.add_typer(board_app, name="leaderboard")
cache_app = typer.Typer(help="Show or clear the cache of models, students and embeddings.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

# Piped output keeps whole tables (rich assumes 80 columns when it cannot ask a terminal). Markup,
# emoji codes and highlighting are off: run lines, paths and names are printed as they are (a `[/]`
# or `:x:` in them is text); the harness's own styling goes through `_say`.
out = Console(width=None if sys.stdout.isatty() else 160, markup=False, emoji=False, highlight=False)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, markup=False, emoji=False, highlight=False)


def _say(console: Console, label: str, style: str, message: str) -> None:
    """`label` styled, then `message` exactly as it is."""
    from rich.text import Text

    console.print(Text.assemble((label, style), " ", message), soft_wrap=True)


def _write_stdout(text: str) -> None:
    """Write to standard output; a full disk or a closed pipe is a clear error, not a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as e:
        with contextlib.suppress(OSError):  # so that the interpreter's last flush fails no more
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        raise ClirBenchError(f"cannot write to standard output: {e.strerror or e}") from None

TrackOpt = Annotated[Optional[str], typer.Option("--track", "-t", help="Track name or TOML file.")]
QrelsOpt = Annotated[Optional[Path], typer.Option("--qrels", help="Score against a TREC qrels file instead.")]
RunArg = Annotated[Path, typer.Argument(help="TREC run file (plain or .gz).", metavar="RUN", show_default=False)]


def user_errors(fn):
    """Print a ClirBenchError as one clear message and exit 1; never a traceback for it."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ClirBenchError as e:
            from clir_bench.evaluation.scoring import InvalidRun

            if isinstance(e, InvalidRun):
                _print_problems(e.path, e.scan)
            else:
                _say(err, "error:", "bold red", str(e))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"clir-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Cross-lingual retrieval on low-resource languages under noisy training bitext."""


@tracks_app.callback()
@user_errors
def tracks(ctx: typer.Context) -> None:
    """List the built-in tracks."""
    if ctx.invoked_subcommand:
        return
    from rich.table import Table

    from clir_bench.tracks.track import builtin

    table = Table(title="clir-bench tracks")
    for col in ("track", "version", "collection", "low", "high", "noise", "metrics"):
        table.add_column(col)
    for name, t in builtin().items():
        table.add_row(name, str(t.version), t.collection.name, " ".join(t.of_class("low")),
                      " ".join(t.of_class("high")), t.noise.describe(), ", ".join(m.name for m in t.metrics))
    out.print(table)
    out.print("Show one with `clir-bench tracks show NAME`; any track TOML file works where a name does.")


@tracks_app.command("show")
@user_errors
def tracks_show(name: Annotated[str, typer.Argument(help="Track name or TOML file.")]) -> None:
    """Print a track's definition, its data sizes and sha256 checksums."""
    from clir_bench.sources.export import checksums
    from clir_bench.tracks.track import get_track

    t = get_track(name)
    _say(out, t.name, "bold", f"(version {t.version}) from {t.path}")
    if t.description:
        out.print(t.description, soft_wrap=True)
    out.print(f"collection: {t.collection.describe()}")
    low, high = " ".join(t.of_class("low")) or "(none)", " ".join(t.of_class("high")) or "(none)"
    out.print(f"languages:  low {low}; high {high}" + ("" if t.of_class("low") and t.of_class("high")
                                                       else " (one class: no gap)"))
    if t.collection.name == "udhr":
        from clir_bench.core.languages import pretraining
        from clir_bench.sources.udhr import fallbacks

        for cls in ("low", "high"):
            out.print(f"  {cls}: " + "; ".join(f"{lang} ({pretraining(lang)})" for lang in t.of_class(cls)),
                      highlight=False)

        units = fallbacks(list(t.languages))
        detail = "; ".join(f"{lang} {', '.join(map(str, u))}" for lang, u in units.items()) or "none"
        out.print(f"alignment:  paragraph-level; article-level fallback (paragraph counts differ) in units: {detail}")
    for part in t.fold_tracks():
        label = f"fold {part.fold} " if t.cross_validated else ""
        for split in ("test", "dev"):
            if not part.collection.has_split(split):
                out.print(f"{label}{split} queries: none (the collection has no {split} split)")
                continue
            data = part.data(split)
            docs = {len(p.docs) for p in data.values()}
            sizes = ", ".join(f"{lang} {len(p.queries)}" for lang, p in data.items())
            out.print(f"{label}{split} queries: {sizes}" + (f"; {docs.pop():,} documents" if len(docs) == 1 else ""))
        bitext, manifest = part.noisy_bitext()
        out.print(f"{label}bitext: " + "; ".join(src.describe() for src in part.bitext_sources))
        out.print(f"{label}        " + ", ".join(f"{lang} {len(p)}" for lang, p in bitext.items()) + " pairs")
        out.print(f"{label}noise:  {t.noise.describe()}, seed {t.seed}: {len(manifest)} pairs corrupted")
    out.print(f"metrics:    {', '.join(m.name for m in t.metrics)} (primary {t.primary.name})")
    out.print(f"max docs:   {t.max_docs_per_query} per query")
    for part, digest in checksums(t).items():
        out.print(f"sha256 {part + ':':7} {digest}")


@data_app.command("export")
@user_errors
def data_export(
    track: Annotated[str, typer.Option("--track", "-t", help="Track name or TOML file.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (must be empty or absent).")],
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty --out folder.")] = False,
) -> None:
    """Write queries, documents, qrels and the noisy bitext of a track, with a manifest."""
    from clir_bench.sources.export import export
    from clir_bench.tracks.track import get_track

    manifest = export(get_track(track), out_dir, force=force)
    out.print(f"wrote {len(manifest['files']) + 1} files to {out_dir} (checksums in manifest.json)")


def _judgments(run: Path, track: str | None, qrels: Path | None):
    from clir_bench.api import judgments

    if track and qrels:
        raise ClirBenchError("pass --track or --qrels, not both")
    found, note = judgments(run=run, track=track, qrels=qrels)
    if note:
        err.print(note.replace("pass a track", "pass --track"), highlight=False)
    return found


def _print_problems(path: Path, scan) -> None:
    for line in scan.errors.lines(str(path)):
        _say(err, "error:", "red", line)
    for line in scan.warnings.lines(str(path)):
        _say(err, "warning:", "yellow", line)
    if scan.errors.total:
        _say(err, f"{path}: {scan.errors.total:,} error(s),", "bold red",
             f"{scan.warnings.total:,} warning(s); fix the lines above and run again")


@app.command()
@user_errors
def validate(run: RunArg, track: TrackOpt = None, qrels: QrelsOpt = None) -> None:
    """Check a TREC run file strictly; list every problem with file:line."""
    from clir_bench.evaluation.validation import scan_run

    judgments = _judgments(run, track, qrels)
    scan = scan_run(run, judgments.spec)
    for found, expected in judgments.absent(set(scan.qids)):
        scan.warnings.add(0, found, expected)
    _print_problems(run, scan)
    if scan.errors.total:
        raise typer.Exit(1)
    out.print(f"{run}: valid: {scan.records:,} lines, {len(scan.qids):,} queries, "
              f"{scan.warnings.total} warning(s), against {judgments.source}", highlight=False)


@app.command()
@user_errors
def score(
    run: RunArg,
    track: TrackOpt = None,
    qrels: QrelsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write the JSON report here.")] = None,
    resamples: Annotated[int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes for large runs (default: cores).")] = None,
) -> None:
    """Validate a run, then score it with pytrec_eval: per-language metrics, high/low means, gap."""
    from clir_bench.core.files import write_text_atomic
    from clir_bench.evaluation.scoring import score_run

    judgments = _judgments(run, track, qrels)
    report = score_run(run, judgments, resamples=resamples, seed=seed, workers=workers)
    text = json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"
    if output:
        write_text_atomic(output, text, protect=(run,))
    if as_json:
        _write_stdout(text)
        return
    for line in report.warnings:
        _say(err, "warning:", "yellow", line)
    out.print(_table(report))
    if output:
        out.print(f"report written to {output}")


@app.command()
@user_errors
def submit(
    run: RunArg,
    track: Annotated[str, typer.Option("--track", "-t", help="Built-in track the run answers.")],
    name: Annotated[str, typer.Option(help="Submission name: a slug (lowercase letters, digits, - and _).")],
    team: Annotated[str, typer.Option(help="Team or author.")] = "",
    description: Annotated[str, typer.Option(help="One paragraph on the system.")] = "",
    url: Annotated[str, typer.Option(help="Paper or code (http/https).")] = "",
    submissions: Annotated[Path, typer.Option(help="The submissions store.")] = Path("submissions"),
    resamples: Annotated[int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples.")] = 10_000,
) -> None:
    """Validate and score a run, then store it in SUBMISSIONS/TRACK/NAME for the leaderboard."""
    from clir_bench.leaderboard.store import submit as store_submission
    from clir_bench.tracks.track import get_track

    stored, report = store_submission(run=run, track=get_track(track), name=name, root=submissions, team=team,
                                      description=description, url=url, resamples=resamples)
    for line in report.warnings:
        _say(err, "warning:", "yellow", line)
    out.print(_table(report))
    out.print(f"stored as {stored.folder}; build the site with `clir-bench leaderboard build`", highlight=False)


@app.command()
@user_errors
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run A (TREC, plain or .gz).", metavar="A", show_default=False)],
    run_b: Annotated[Path, typer.Argument(help="Run B, compared with A.", metavar="B", show_default=False)],
    track: TrackOpt = None,
    qrels: QrelsOpt = None,
    metric: Annotated[Optional[str], typer.Option(help="Metric (default: the primary).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    resamples: Annotated[int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples.")] = 10_000,
) -> None:
    """Paired comparison of two runs: per language, and the low mean, high mean and gap over topics,
    with t and randomisation tests (Holm), minimum detectable differences and topics needed."""
    from clir_bench.evaluation.compare import compare as paired
    from clir_bench.evaluation.scoring import score_run

    judgments = _judgments(run_a, track, qrels)
    a = score_run(run_a, judgments, resamples=resamples)
    b = score_run(run_b, judgments, resamples=resamples)
    result = paired(a, b, judgments, names=(str(run_a), str(run_b)), metric=metric, resamples=resamples)
    if as_json:
        _write_stdout(json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
        return
    out.print(_comparison_table(result))


def _comparison_table(result):
    from rich import box
    from rich.table import Table

    from clir_bench.evaluation.stats import format_p

    table = Table(title=f"{result.a} - {result.b}: {result.metric}", box=box.SIMPLE_HEAD,
                  caption=f"paired t and randomisation p, Holm over the rows (* below {result.alpha}); MDD and units "
                          f"needed at alpha {result.alpha}, power {result.power}; class rows pair topics")
    for col in ("group", "n", "A", "B", "A - B [95% CI]", "p t", "p rand", "Holm t", "MDD", "n for .01/.02/.05"):
        table.add_column(col, justify="left" if col == "group" else "right", no_wrap=col != "n for .01/.02/.05")
    for r in result.rows:
        needed = "/".join("-" if v is None else f"{v:,}" for v in r.needed.values())
        table.add_row(r.group, f"{r.n} {r.unit[0]}", _fmt(r.a), _fmt(r.b),
                      ("-" if r.diff is None else f"{r.diff:+.3f}") + _ci(r.ci), format_p(r.p_t),
                      format_p(r.p_randomisation),
                      format_p(r.p_t_holm) + (" *" if r.significant else ""), _fmt(r.mdd), needed,
                      style="bold" if r.unit == "topics" else None)
    return table


SiteOpt = Annotated[Path, typer.Option("--out", "-o", help="The site's folder.")]


@board_app.command("build")
@user_errors
def leaderboard_build(
    out_dir: SiteOpt = Path("build/leaderboard"),
    submissions: Annotated[Path, typer.Option(help="The submissions store.")] = Path("submissions"),
    resamples: Annotated[int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples.")] = 10_000,
) -> None:
    """Score every submission (cached by run and qrels checksum) and write the static site."""
    import time

    from clir_bench.leaderboard.render import build

    start = time.perf_counter()
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("scoring", total=None)
            summary = build(submissions=submissions, out=out_dir, resamples=resamples,
                            progress=lambda where: bar.update(task, advance=1, description=where))
    else:
        summary = build(submissions=submissions, out=out_dir, resamples=resamples)
    out.print(f"leaderboard: {summary['submissions']} submission(s) on {summary['tracks']} track(s), "
              f"{summary['invalid']} invalid; {summary['scored']} scored, {summary['cache_hits']} from the cache; "
              f"{summary['files']} files in {time.perf_counter() - start:.1f} s. Open {out_dir / 'index.html'}",
              highlight=False)


@board_app.command("serve")
@user_errors
def leaderboard_serve(
    out_dir: SiteOpt = Path("build/leaderboard"),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8000,
) -> None:
    """Serve a built leaderboard on localhost (Ctrl-C stops)."""
    from clir_bench.leaderboard.serve import serve

    serve(folder=out_dir, port=port, log=lambda msg: err.print(msg, highlight=False, markup=False))


@app.command()
@user_errors
def run(
    track: Annotated[str, typer.Option("--track", "-t", help="Track name or TOML file.")] = "noise-0.3",
    systems: Annotated[Optional[str], typer.Option(help="Comma-separated systems (default: all reference systems).")]
    = None,
    device: Annotated[str, typer.Option(help="auto (CUDA where there is a GPU), cpu or cuda.")] = "auto",
    encoder: Annotated[str, typer.Option(help="Hugging Face id or local folder.")] = "intfloat/multilingual-e5-small",
    mt_model: Annotated[Optional[str], typer.Option("--mt-model", help="Seq2seq MT model (name or folder).")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", help="Runs and reports (default build/run/TRACK).")]
    = None,
    submissions: Annotated[Path, typer.Option(help="Where reference submissions are recorded.")] = Path("submissions"),
    record: Annotated[bool, typer.Option(help="Record each run as a reference submission.")] = True,
    resamples: Annotated[int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples.")] = 10_000,
    seed: Annotated[int, typer.Option()] = 0,
    folds: Annotated[Optional[str], typer.Option(help="One fold of a cross-validated track, e.g. 0: a smoke test, "
                                                      "scored on that fold, never recorded (default: every fold).")]
    = None,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per trained system (from --seed on); reports give the "
                                                   "seed SD.")] = 1,
    diagnose: Annotated[bool, typer.Option("--diagnose", help="Then read each trained system's signals on its "
                                                              "training pairs against the noise manifest (as "
                                                              "`clir-bench diagnose`), and record it.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="CPU processes that train the students not yet cached, "
                                                     "each on cores/workers threads (1: in turn, in this process).")]
    = 1,
    protocol: Annotated[str, typer.Option(help="How the reference students train: quick (the CPU demo's budget) "
                                               "or standard (see `clir-bench protocols`).")] = "quick",
) -> None:
    """Train and run the reference systems on a track; score each; print MAP per language and the gap."""
    from clir_bench.models.encoder import cache_dir, check_device
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
                        folds=_fold_list(folds), seeds=seeds, diagnose=diagnose,
                        workers=workers)
    out.print(_systems_table(results, t))
    spread = {n: r["seeds"] for n, r in results["systems"].items() if "seeds" in r}
    for name, rows in spread.items():
        out.print(f"{name}: {len(rows['seeds'])} seeds, " + "; ".join(
            f"{k} {rows[k]['mean']:.3f} (seed SD {rows[k]['sd']:.4f})" for k in ("low", "high", "gap") if k in rows),
            highlight=False)
    diagnosis = results.get("diagnostics")
    if diagnosis:
        if diagnosis["status"] != "ok" or not diagnosis["applicable"]:
            out.print(f"noise diagnosis: {diagnosis.get('reason') or diagnosis['status']}", highlight=False)
        for row in diagnosis.get("best", []):
            out.print(_separation(row), highlight=False)


def _fold_list(spec: str | None) -> list[int] | None:
    if spec is None:
        return None
    try:
        return [int(f) for f in spec.split(",") if f.strip()]
    except ValueError:
        raise ClirBenchError(f"--folds {spec!r}: expected fold numbers such as 0 or 0,1,2") from None


def _systems_table(results: dict, track):
    """Two tables: per language (rows, grouped by resource class) and system (columns); then per
    system the class means and the gap with their 95% intervals."""
    from rich import box
    from rich.console import Group
    from rich.table import Table

    ok = {n: r for n, r in results["systems"].items() if r["status"] == "ok"}
    primary = next(iter(ok.values()))["primary"] if ok else track.primary.name
    chance = {}
    if primary == "map":
        from clir_bench.evaluation.judgments import from_track
        from clir_bench.evaluation.metrics import chance_map

        chance = chance_map(from_track(track))
    per_lang = Table(title=f"{track.name}: {track.primary.label} per language", box=box.SIMPLE_HEAD)
    per_lang.add_column("language", no_wrap=True)
    if chance:
        per_lang.add_column("chance", justify="right", style="dim")
    for name in ok:
        per_lang.add_column(name, justify="right")
    for cls in ("low", "high"):
        for i, lang in enumerate(track.of_class(cls)):
            per_lang.add_row(f"{lang} ({cls})", *([_fmt(chance.get(lang))] if chance else []),
                             *(_fmt(r["languages"][lang][primary]) for r in ok.values()),
                             end_section=i == len(track.of_class(cls)) - 1)
    summary = Table(title="low/high means and the gap, with 95% CIs (resampling topics)", box=box.SIMPLE_HEAD)
    summary.add_column("system", no_wrap=True)
    for col in ("low", "high", "gap", "rel. gap"):
        summary.add_column(col, justify="right", no_wrap=True)
    for name, row in ok.items():
        s = row["summary"]
        if s is None:  # a track of one resource class: no gap
            summary.add_row(name, "-", "-", "-", "-")
            continue
        summary.add_row(name, *(_fmt(s[primary][k]) + _ci(s["ci"][k]) for k in ("low", "high", "gap")),
                        _fmt(s[primary]["relative_gap"]))
    skipped = [f"{n}: {r['status']}" for n, r in results["systems"].items() if r["status"] != "ok"]
    summary.caption = "; ".join(skipped) or None
    return Group(per_lang, summary)


@cache_app.command("show")
@user_errors
def cache_show() -> None:
    """Sizes on disk: per kind, and the students per track."""
    from rich import box
    from rich.table import Table

    from clir_bench.cache import KINDS, entries
    from clir_bench.models.encoder import cache_dir

    root = cache_dir()
    found = entries(root)
    table = Table(title=f"cache {root}", box=box.SIMPLE_HEAD)
    for col in ("what", "entries", "size"):
        table.add_column(col, justify="left" if col == "what" else "right")
    groups: dict[str, list] = {}
    for e in found:
        key = e.kind if e.kind != "students" else f"students of {e.track or '(unrecorded track)'}"
        groups.setdefault(key, []).append(e)
    for key in [k for kind in KINDS for k in sorted(groups) if k.startswith(kind)]:
        table.add_row(key, str(len(groups[key])), _mib(sum(e.bytes for e in groups[key])))
    table.add_row("total", str(len(found)), _mib(sum(e.bytes for e in found)), end_section=True)
    out.print(table)


@cache_app.command("clear")
@user_errors
def cache_clear(
    students: Annotated[bool, typer.Option(help="Remove trained students.")] = False,
    embeddings: Annotated[bool, typer.Option(help="Remove document embeddings.")] = False,
    models: Annotated[bool, typer.Option(help="Remove converted models.")] = False,
    track: Annotated[Optional[str], typer.Option(help="Only the students of this track.")] = None,
) -> None:
    """Remove what is named (rebuilt on demand: clearing costs time, never results)."""
    from clir_bench.cache import clear
    from clir_bench.models.encoder import cache_dir

    kinds = tuple(k for k, on in (("students", students or track is not None), ("embeddings", embeddings),
                                  ("models", models)) if on)
    if not kinds:
        raise ClirBenchError("name what to clear: --students, --embeddings, --models (or --track T for one "
                             "track's students)")
    removed = clear(cache_dir(), kinds=kinds, track=track)
    out.print(f"removed {len(removed)} entries, {_mib(sum(e.bytes for e in removed))}", highlight=False)


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


@app.command()
@user_errors
def diagnose(
    track: Annotated[str, typer.Option("--track", "-t", help="Track name or TOML file.")] = "noise-0.3",
    systems: Annotated[Optional[str], typer.Option(help="Comma-separated systems (default: every reference system "
                                                        "that scores its training pairs).")] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA where there is a GPU), cpu or cuda.")] = "auto",
    encoder: Annotated[str, typer.Option(help="Hugging Face id or local folder.")] = "intfloat/multilingual-e5-small",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write the JSON report here.")] = None,
    resamples: Annotated[int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option()] = 0,
    record: Annotated[bool, typer.Option(help="Record the report in the submissions store (the leaderboard's noise "
                                              "page reads it).")] = False,
    folds: Annotated[Optional[str], typer.Option(help="One fold of a cross-validated track, e.g. 0: read alone, "
                                                      "never recorded (default: every fold).")] = None,
    submissions: Annotated[Path, typer.Option(help="Where the report is recorded.")] = Path("submissions"),
    workers: Annotated[int, typer.Option(min=1, help="CPU processes that score the students without stored "
                                                     "signals (1: in turn, in this process).")] = 1,
) -> None:
    """Does each OT technique see which bitext pairs are corrupted? AUC and AP of every per-pair signal
    (mass, OT cost, loss...) against the noise manifest, trained and at step 0 (students from the cache)."""
    from clir_bench.core.files import write_text_atomic
    from clir_bench.diagnostics import best_separators, check_systems, diagnose_track
    from clir_bench.diagnostics import record as keep
    from clir_bench.models.encoder import cache_dir, check_device
    from clir_bench.pipeline import parse_systems
    from clir_bench.systems import Context
    from clir_bench.tracks.track import get_track

    t = get_track(track)
    names = check_systems(parse_systems(systems))
    device = check_device(device)
    ctx = Context(device=device, encoder=encoder, cache=cache_dir(), seed=seed,
                  progress=sys.stderr.isatty(), log=lambda msg: err.print(msg))
    report = diagnose_track(t, systems=names, ctx=ctx, resamples=resamples, folds=_fold_list(folds),
                            workers=workers)
    if report.get("smoke"):
        err.print(report["smoke"], highlight=False, markup=False)
    text = json.dumps(report, indent=1, allow_nan=False) + "\n"
    if output:
        write_text_atomic(output, text)
    if record:
        err.print(keep(report, root=submissions, track=t), highlight=False, markup=False)
    if as_json:
        _write_stdout(text)
        return
    if not report["applicable"]:
        out.print(f"{t.name}: {report['reason']}")
        return
    out.print(_diagnosis_table(report))
    for row in best_separators(report):
        out.print(_separation(row), highlight=False)
    if report.get("comparisons"):
        out.print(_detector_table(report["comparisons"]))


def _separation(row: dict) -> str:
    """One system's best detector of corrupted pairs, and what its interval says."""
    lo, hi = row["auc_ci"]
    verdict = "detects corrupted pairs" if lo > 0.5 else "no better than chance" if lo <= 0.5 <= hi else \
        "ranks corrupted pairs as cleaner"
    return f"{row['system']}: best signal {row['signal']}, AUC {row['auc']:.3f} [{lo:.3f}, {hi:.3f}]: {verdict}"


def _diagnosis_table(report: dict):
    from rich import box
    from rich.table import Table

    table = Table(title=f"{report['track']}: detecting the {report['corrupted']} corrupted of {report['pairs']} "
                        f"training pairs ({report['noise']})", box=box.SIMPLE_HEAD,
                  caption="AUC: P(a corrupted pair looks worse than a clean one), 0.5 = chance; AP: chance = the "
                          "share corrupted; 95% bootstrap intervals over pairs")
    for col in ("system", "model", "signal", "AUC [95% CI]", "AP [95% CI]"):
        table.add_column(col, justify="left" if col in ("system", "model", "signal") else "right")
    for row in report["rows"]:
        if row["group"] != "all":
            continue
        table.add_row(row["system"], row["model"], row["signal"], _fmt(row["auc"]) + _ci(row["auc_ci"]),
                      _fmt(row["ap"]) + _ci(row["ap_ci"]))
    for c in report.get("constant", []):
        table.add_row(c["system"], c["model"], c["signal"], f"constant ({c['value']:.3f}): no detector", "-",
                      style="dim")
    return table


def _detector_table(rows: list[dict]):
    from rich import box
    from rich.table import Table

    from clir_bench.evaluation.stats import ALPHA, format_p

    table = Table(title="Which detects better? Paired AUC differences on the same pairs (trained students)",
                  box=box.SIMPLE_HEAD, caption="95% paired-bootstrap intervals; p two-sided, Holm over these "
                                               "tests; * p Holm < 0.05")
    for col in ("a", "b", "AUC a - b [95% CI]", "p", "p Holm"):
        table.add_column(col, justify="left" if col in ("a", "b") else "right")
    for r in rows:
        table.add_row(f"{r['a']} {r['a_signal']}", f"{r['b']} {r['b_signal']}",
                      f"{r['diff']:+.4f} [{r['diff_ci'][0]:+.4f}, {r['diff_ci'][1]:+.4f}]", format_p(r["p"]),
                      format_p(r["p_holm"]) + (" *" if r["p_holm"] < ALPHA else ""))
    return table


@app.command()
@user_errors
def encode(
    track: Annotated[str, typer.Option("--track", "-t", help="Track name or TOML file.")],
    encoder: Annotated[str, typer.Option(help="Hugging Face id or local folder.")] = "intfloat/multilingual-e5-small",
    device: Annotated[str, typer.Option(help="auto (CUDA where there is a GPU), cpu or cuda (under torchrun: one GPU "
                                             "per process).")] = "auto",
    split: Annotated[str, typer.Option(help="test or dev.")] = "test",
) -> None:
    """Encode a track's documents into the cache, resumably (also under `torchrun -m clir_bench encode`)."""
    from clir_bench.core.progress import counting
    from clir_bench.models.encoder import Encoder, cache_dir, check_device, distributed_rank, resolve
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
def train(
    track: Annotated[str, typer.Option("--track", "-t", help="Track name or TOML file.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the student, train.json, checkpoints.")],
    recipe: Annotated[str, typer.Option(help="plain, centred, centred+anchor, reference, no-ot, mass-weighted.")]
    = "reference",
    solver: Annotated[str, typer.Option(help="OT solver: sinkhorn, emd, unbalanced, partial.")] = "sinkhorn",
    encoder: Annotated[str, typer.Option(help="Hugging Face id or local folder.")] = "intfloat/multilingual-e5-small",
    device: Annotated[str, typer.Option(help="auto (CUDA where there is a GPU), cpu or cuda (under torchrun: one GPU "
                                             "per process).")] = "auto",
    protocol: Annotated[str, typer.Option(help="Training protocol whose settings are the defaults below "
                                               "(see `clir-bench protocols`).")] = "quick",
    max_steps: Annotated[Optional[int], typer.Option(min=1, help="Steps (default: the protocol's).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Global batch, over processes and accumulation.")] = 16,
    grad_accum: Annotated[int, typer.Option(min=1)] = 1,
    lr: Annotated[Optional[float], typer.Option(help="Peak learning rate (default: the protocol's).")] = None,
    seed: Annotated[int, typer.Option()] = 0,
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


def training_summary(result) -> str:
    """One line on a finished training: steps, and the chosen step where the dev split chose one."""
    if not result.history:  # --no-dev, or a track without a dev split: nothing was evaluated
        return f"trained {result.steps_run} steps; no early stopping (no dev evaluation)"
    return f"trained {result.steps_run} steps; best step {result.best_step} (dev MAP {result.best_dev_map:.4f})"


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _ci(ci) -> str:
    lo, hi = ci
    return "" if lo is None else f" [{lo:.3f}, {hi:.3f}]"


def _table(report):
    from rich import box
    from rich.table import Table

    metrics, primary = report.metrics, report.primary
    table = Table(title=f"{report.run.path} against {report.scored_against}", box=box.SIMPLE_HEAD,
                  caption=f"95% bootstrap CIs on {primary} ({report.provenance['bootstrap']['method']}; "
                          f"{report.provenance['bootstrap']['resamples']:,} resamples); missing queries score 0")
    table.add_column("language", no_wrap=True)
    table.add_column("class")
    table.add_column("n", justify="right")
    for m in metrics:
        table.add_column(m, justify="right")
    for lang, row in report.languages.items():
        cells = [_fmt(row.mean[m]) + (_ci(row.ci) if m == primary else "") for m in metrics]
        table.add_row(lang, row.resource_class or "", f"{row.queries}" + (f" ({row.missing} absent)"
                      if row.missing else ""), *cells)
    summary = report.summary
    if summary:
        table.add_section()
        for which, label in (("high", "high mean"), ("low", "low mean"), ("gap", "gap = high - low"),
                             ("relative_gap", "relative gap")):
            cells = [_fmt(getattr(summary.by_metric[m], which)) + (_ci(summary.ci[which]) if m == primary else "")
                     for m in metrics]
            table.add_row(label, "", "", *cells, style="bold" if which == "gap" else None)
    return table


def main() -> None:
    app()
