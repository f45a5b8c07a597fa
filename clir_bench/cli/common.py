"""What every command shares: the consoles, the error boundary, and options declared once."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clir_bench.core.errors import ClirBenchError
from clir_bench.models import DEFAULT_ENCODER  # noqa: F401  (re-exported for the commands)

# Piped output keeps whole tables (rich assumes 80 columns when it cannot ask a terminal). Markup,
# emoji codes and highlighting are off: run lines, paths and names are printed as they are (a `[/]`
# or `:x:` in them is text); the harness's own styling goes through `say`.
out = Console(width=None if sys.stdout.isatty() else 160, markup=False, emoji=False, highlight=False)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, markup=False, emoji=False, highlight=False)

SplitOpt = Annotated[str, typer.Option(help="test, or dev (every fold's dev queries: for tuning).")]
TrackName = Annotated[str, typer.Option("--track", "-t", help="Track name or TOML file.")]
Bootstrap = Annotated[int, typer.Option("--bootstrap", min=100, max=10_000_000, help="Bootstrap resamples.")]
EncoderOpt = Annotated[str, typer.Option(help="Hugging Face id or local folder.")]
DeviceOpt = Annotated[str, typer.Option(help="auto (CUDA where there is a GPU), cpu or cuda (under torchrun: one GPU "
                                             "per process).")]
SeedOpt = Annotated[int, typer.Option(min=0, max=2**32 - 1)]
FoldsOpt = Annotated[str | None, typer.Option(help="One fold of a cross-validated track, e.g. 0: a smoke test, "
                                                      "never recorded (default: every fold).")]


def say(console: Console, label: str, style: str, message: str) -> None:
    """`label` styled, then `message` exactly as it is."""
    from rich.text import Text

    console.print(Text.assemble((label, style), " ", message), soft_wrap=True)


def write_stdout(text: str) -> None:
    """Write to standard output; a full disk or a closed pipe is a clear error, not a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as e:
        with contextlib.suppress(OSError):  # so that the interpreter's last flush fails no more
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        raise ClirBenchError(f"cannot write to standard output: {e.strerror or e}") from None


TrackOpt = Annotated[str | None, typer.Option("--track", "-t", help="Track name or TOML file.")]


QrelsOpt = Annotated[Path | None, typer.Option("--qrels", help="Score against a TREC qrels file instead.")]


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
                print_problems(e.path, e.scan)
            else:
                say(err, "error:", "bold red", str(e))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except (OSError, UnicodeEncodeError) as e:  # a full disk, a closed pipe, an encoding: a message
            _report_os_error(e)
            raise typer.Exit(1) from None

    return wrapper


def _report_os_error(e: Exception) -> None:
    """One line for an error of the system rather than of the input: what could not be done, and why."""
    if isinstance(e, UnicodeEncodeError):
        message = (f"standard output cannot show these characters (its encoding is {sys.stdout.encoding}); "
                   "set PYTHONIOENCODING=utf-8 or a UTF-8 locale")
    else:
        # a failed write() names no file: it was standard output's where it came through rich (all the
        # commands' output does), a file's otherwise
        stdout_broken = not getattr(e, "filename", None) and any(
            "rich" in Path(frame.filename).parts for frame in traceback.extract_tb(e.__traceback__))
        where = e.filename or ("standard output" if stdout_broken else "a file")
        message = f"cannot write {where}: {e.strerror or e}"
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            message += "; free some space and run the command again (what it was replacing is left as it was)"
        if stdout_broken:
            with contextlib.suppress(OSError):  # so that the interpreter's last flush fails no more
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    with contextlib.suppress(OSError, UnicodeEncodeError):
        sys.stderr.write(f"error: {message}\n")


def inputs(*paths) -> tuple[Path, ...]:
    """The files a command reads (a run, qrels, a track TOML given by path), which no output may
    overwrite; a track name is not a file."""
    return tuple(Path(p) for p in paths if p is not None and Path(p).is_file())


def judgments_for(run: Path, track: str | None, qrels: Path | None, split: str = "test"):
    from clir_bench.api import find_judgments

    found, note = find_judgments(run=run, track=track, qrels=qrels, split=split)
    if note:
        err.print(note.replace("pass a track", "pass --track"), highlight=False)
    return found


def wrong_split(run: Path, judgments, scan) -> None:
    """A run that fails the test split's checks on most of its lines but answers the dev split is a
    dev run: one clear error that says so, instead of an error for each of its documents (a test
    run with a stray document keeps its file:line errors)."""
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.evaluation.validation import scan_run
    from clir_bench.tracks.track import get_track

    if (judgments.provenance.get("split") != "test" or not scan.errors.total
            or scan.errors.total < max(1, scan.records // 2)):
        return
    try:
        dev = from_track(get_track(judgments.provenance["track_file"]), "dev")
    except ClirBenchError:
        return
    if not scan_run(run, dev.spec).errors.total:
        raise ClirBenchError(f"{run} answers the dev split of track {dev.provenance['track']} (every document is "
                             "from the fold where its query is a dev query), not the test split; score it with "
                             "--split dev")


def print_problems(path: Path, scan) -> None:
    for line in scan.errors.lines(str(path)):
        say(err, "error:", "red", line)
    for line in scan.warnings.lines(str(path)):
        say(err, "warning:", "yellow", line)
    if scan.errors.total:
        say(err, f"{path}: {scan.errors.total:,} error(s),", "bold red",
             f"{scan.warnings.total:,} warning(s); fix the lines above and run again")


def fold_list(spec: str | None) -> list[int] | None:
    if spec is None:
        return None
    try:
        return [int(f) for f in spec.split(",") if f.strip()]
    except ValueError:
        raise ClirBenchError(f"--folds {spec!r}: expected fold numbers such as 0 or 0,1,2") from None

