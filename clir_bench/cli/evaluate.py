"""Commands that judge a run: validate, score, compare, submit (no torch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from clir_bench.cli.app import app
from clir_bench.cli.common import (
    Bootstrap,
    QrelsOpt,
    RunArg,
    SplitOpt,
    TrackOpt,
    err,
    inputs,
    judgments_for,
    out,
    print_problems,
    say,
    user_errors,
    write_stdout,
    wrong_split,
)
from clir_bench.cli.tables import comparison_table, score_table


@app.command()
@user_errors
def validate(run: RunArg, track: TrackOpt = None, qrels: QrelsOpt = None, split: SplitOpt = "test") -> None:
    """Check a TREC run file strictly; list every problem with file:line."""
    from clir_bench.evaluation.validation import scan_run

    judgments = judgments_for(run, track, qrels, split)
    scan = scan_run(run, judgments.spec)
    wrong_split(run, judgments, scan)
    for found, expected in judgments.absent(set(scan.qids)):
        scan.warnings.add(0, found, expected)
    print_problems(run, scan)
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
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the JSON report here.")] = None,
    resamples: Bootstrap = 10_000,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Bootstrap seed.")] = 0,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes for large runs (default: cores).")] = None,
    split: SplitOpt = "test",
) -> None:
    """Validate a run, then score it with pytrec_eval: per-language metrics, high/low means, gap."""
    from clir_bench.core.files import write_text_atomic
    from clir_bench.evaluation.scoring import InvalidRun, score_run

    judgments = judgments_for(run, track, qrels, split)
    try:
        report = score_run(run, judgments, resamples=resamples, seed=seed, workers=workers)
    except InvalidRun as e:
        wrong_split(run, judgments, e.scan)
        raise
    text = json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"
    if output:
        write_text_atomic(output, text, protect=inputs(run, qrels, track))
    if as_json:
        write_stdout(text)
        return
    for line in report.warnings:
        say(err, "warning:", "yellow", line)
    out.print(score_table(report))
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
    resamples: Bootstrap = 10_000,
    resources: Annotated[str, typer.Option(help="What the system used, comma-separated: track-bitext (the "
                                                "track's condition), external-mt, external-parallel, "
                                                "noise-manifest. Anything beyond track-bitext is another "
                                                "condition on the board.")] = "track-bitext",
    pretrained: Annotated[str, typer.Option(help="Pretrained models used (names or ids), e.g. "
                                                 "'intfloat/multilingual-e5-small'.")] = "",
    replace: Annotated[bool, typer.Option("--replace", help="Replace your own entry of this name (the same "
                                                            "--team), noted in the store's CHANGELOG.md.")] = False,
) -> None:
    """Validate and score a run, then store it in SUBMISSIONS/TRACK/NAME for the leaderboard."""
    from clir_bench.leaderboard.store import submit as store_submission
    from clir_bench.tracks.track import get_track

    stored, report = store_submission(run=run, track=get_track(track), name=name, root=submissions, team=team,
                                      description=description, url=url, resamples=resamples,
                                      resources=[r.strip() for r in resources.split(",") if r.strip()],
                                      pretrained=pretrained or None, replace=replace,
                                      warn=lambda line: say(err, "warning:", "yellow", line))
    for line in report.warnings:
        say(err, "warning:", "yellow", line)
    out.print(score_table(report))
    where = "" if submissions == Path("submissions") else f" --submissions {submissions}"
    out.print(f"stored as {stored.folder}; build the site with `clir-bench leaderboard build{where}`", highlight=False)


@app.command()
@user_errors
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run A (TREC, plain or .gz).", metavar="A", show_default=False)],
    run_b: Annotated[Path, typer.Argument(help="Run B, compared with A.", metavar="B", show_default=False)],
    track: TrackOpt = None,
    qrels: QrelsOpt = None,
    metric: Annotated[str | None, typer.Option(help="Metric (default: the primary).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    resamples: Bootstrap = 10_000,
    split: SplitOpt = "test",
) -> None:
    """Paired comparison of two runs: per language, and the low mean, high mean and gap over topics,
    with t and randomisation tests (Holm), minimum detectable differences and topics needed."""
    from clir_bench.api import compare as paired

    judgments = judgments_for(run_a, track, qrels, split)
    result = paired(run_a, run_b, judgments=judgments, metric=metric, resamples=resamples)
    for line in result.warnings:  # a run missing queries or ranked by ties is not what the rows suggest
        say(err, "warning:", "yellow", line)
    if as_json:
        write_stdout(json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
        return
    out.print(comparison_table(result))

