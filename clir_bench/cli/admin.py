"""Commands that look after things: tracks, data export, the cache, the leaderboard site."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from clir_bench.cli.app import app
from clir_bench.cli.common import Bootstrap, TrackName, err, out, say, user_errors
from clir_bench.cli.tables import mib
from clir_bench.core.errors import ClirBenchError

tracks_app = typer.Typer(help="List tracks, or show one with its checksums.", invoke_without_command=True)
data_app = typer.Typer(help="Export a track's data for participants.", no_args_is_help=True)
board_app = typer.Typer(help="Build the static HTML leaderboard from submissions/, or serve it.", no_args_is_help=True)
cache_app = typer.Typer(help="Show or clear the cache of models, students and embeddings.", no_args_is_help=True)
app.add_typer(tracks_app, name="tracks")
app.add_typer(data_app, name="data")
app.add_typer(board_app, name="leaderboard")
app.add_typer(cache_app, name="cache")


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
    say(out, t.name, "bold", f"(version {t.version}) from {t.path}")
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
    track: TrackName,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (must be empty or absent).")],
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty --out folder.")] = False,
    with_noise_manifest: Annotated[bool, typer.Option(
        "--with-noise-manifest", help="Also write which bitext pairs are corrupted: for analysis only (a system "
                                      "that trains on it escapes the track's condition).")] = False,
) -> None:
    """Write queries, documents, qrels and the noisy bitext of a track, with a manifest."""
    from clir_bench.sources.export import export
    from clir_bench.tracks.track import get_track

    manifest = export(get_track(track), out_dir, force=force, noise_manifest=with_noise_manifest)
    out.print(f"wrote {len(manifest['files']) + 1} files to {out_dir} (checksums in manifest.json)")


SiteOpt = Annotated[Path, typer.Option("--out", "-o", help="The site's folder.")]


@board_app.command("build")
@user_errors
def leaderboard_build(
    out_dir: SiteOpt = Path("build/leaderboard"),
    submissions: Annotated[Path, typer.Option(help="The submissions store.")] = Path("submissions"),
    resamples: Bootstrap = 10_000,
    repository: Annotated[str | None, typer.Option(
        help="The hosting repository's https URL the site links to (default: the Repository URL in "
             "pyproject.toml's \\[project.urls]).")] = None,
) -> None:
    """Score every submission (cached by run and qrels checksum) and write the static site."""
    import time

    from clir_bench.leaderboard.render import build

    start = time.perf_counter()
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        try:  # the folders that look like submissions: k of N as they are scored
            total = sum(1 for _ in Path(submissions).glob("*/*/metadata.json")) or None
        except OSError:
            total = None
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task("scoring", total=total)
            summary = build(submissions=submissions, out=out_dir, resamples=resamples, repository=repository,
                            progress=lambda where, step=1: bar.update(task, advance=step, description=where))
    else:
        summary = build(submissions=submissions, out=out_dir, resamples=resamples, repository=repository)
    out.print(f"leaderboard: {summary['submissions']} submission(s) on {summary['tracks']} track(s), "
              f"{summary['invalid']} invalid; {summary['scored']} scored, {summary['cache_hits']} from the cache; "
              f"{summary['files']} files in {time.perf_counter() - start:.1f} s. Open {out_dir / 'index.html'}",
              highlight=False)


@board_app.command("check")
@user_errors
def leaderboard_check(
    submissions: Annotated[Path, typer.Option(help="The submissions store.")] = Path("submissions"),
) -> None:
    """Validate every entry of the store (metadata, runs, diagnoses) without writing anything: what the
    hosting repository's CI runs on a proposed submission. Exits 1 on any error."""
    from clir_bench.leaderboard.check import check_store

    report = check_store(submissions)
    for line in report.errors:
        say(err, "error:", "red", line)
    for line in report.warnings:
        say(err, "warning:", "yellow", line)
    if not report.ok:
        say(err, f"{submissions}: {len(report.errors)} error(s)", "bold red",
            f"in {report.entries} entries; fix them and run again")
        raise typer.Exit(1)
    out.print(f"{submissions}: {report.entries} entries, all valid ({len(report.warnings)} warning(s))",
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


@cache_app.command("show")
@user_errors
def cache_show() -> None:
    """Sizes on disk: per kind, and the students per track."""
    from rich import box
    from rich.table import Table

    from clir_bench.core.cache import KINDS, cache_dir, entries

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
        table.add_row(key, str(len(groups[key])), mib(sum(e.bytes for e in groups[key])))
    table.add_row("total", str(len(found)), mib(sum(e.bytes for e in found)), end_section=True)
    out.print(table)


@cache_app.command("clear")
@user_errors
def cache_clear(
    students: Annotated[bool, typer.Option(help="Remove trained students.")] = False,
    embeddings: Annotated[bool, typer.Option(help="Remove document embeddings.")] = False,
    models: Annotated[bool, typer.Option(help="Remove converted models.")] = False,
    checksums: Annotated[bool, typer.Option(help="Remove remembered checksums of generated data.")] = False,
    track: Annotated[str | None, typer.Option(help="Only the students of this track.")] = None,
) -> None:
    """Remove what is named (rebuilt on demand: clearing costs time, never results)."""
    from clir_bench.core.cache import cache_dir, clear

    kinds = tuple(k for k, on in (("students", students or track is not None), ("embeddings", embeddings),
                                  ("models", models), ("checksums", checksums)) if on)
    if not kinds:
        raise ClirBenchError("name what to clear: --students, --embeddings, --models, --checksums (or --track T "
                             "for one track's students)")
    removed = clear(cache_dir(), kinds=kinds, track=track)
    out.print(f"removed {len(removed)} entries, {mib(sum(e.bytes for e in removed))}", highlight=False)

