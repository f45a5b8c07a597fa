"""The submissions store: `ROOT/TRACK/NAME/` holds `metadata.json` and `run.trec` (or `run.trec.gz`).

Scores are never stored: the leaderboard derives them from the run. Names are slugs, so a
name is also a safe path component and a safe URL part; nothing is followed outside ROOT
(symbolic links are refused). Within a track, a name and a run (by the sha256 of its
content, compressed or not) appear once.
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import json
import math
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import atomic_dir, content_sha256, is_gzip, kind_of, regular_file, write_text_atomic
from clir_bench.core.registry import did_you_mean
from clir_bench.evaluation.report import ScoreReport

METADATA = "metadata.json"
LOCK = ".lock"  # in each track folder: serialises writers (`track_lock`)
DIAGNOSIS = "diagnostics.json"  # in a track folder: the reference noise diagnosis (clir_bench.noise_diagnosis)
RUN_FILES = ("run.trec", "run.trec.gz")
PRODUCERS = ("harness", "participant")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
TRACK_DIR = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")
LIMITS = {"team": 200, "description": 2000, "url": 500}
MAX_METADATA = 64 << 10  # bytes of metadata.json
FIELDS = {  # key -> (type, required)
    "name": (str, True), "team": (str, True), "description": (str, True), "url": (str, True),
    "track": (str, True), "track_version": (int, True), "produced_by": (str, True),
    "harness_version": (str, True), "date": (str, True), "system": (dict, False),
    "resources": (list, False), "pretrained": (str, False),
}
# What a run may have used beyond the pretrained models it names: the track's condition is its
# noisy bitext alone; anything else makes the run another condition, marked on the board.
RESOURCES = {
    "track-bitext": "the track's noisy bitext only (the track's condition)",
    "external-mt": "machine translation trained outside the track",
    "external-parallel": "parallel or clean data beyond the track's bitext",
    "noise-manifest": "the noise manifest (which training pairs are corrupted)",
}
CONSTRAINED = {"track-bitext"}


def condition(meta: dict) -> str:
    """"track" (the track's bitext only), "beyond" (more than the track gives), or "undeclared"
    (a participant's run that names no resources). The harness's own runs use the track's data only."""
    if meta.get("produced_by") == "harness":
        return "track"
    if "resources" not in meta:
        return "undeclared"
    return "track" if set(meta["resources"]) <= CONSTRAINED else "beyond"


@dataclass(frozen=True)
class Submission:
    track: str
    name: str
    folder: Path
    run: Path
    meta: dict

    @property
    def where(self) -> str:
        return f"{self.track}/{self.name}"


@dataclass(frozen=True)
class Invalid:
    """An entry of the store that cannot be scored, and why (shown on the leaderboard)."""

    where: str  # relative to ROOT
    reason: str
    track: str | None = None
    name: str | None = None


def check_slug(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not SLUG.fullmatch(name):
        suggestion = re.sub(r"[^a-z0-9_-]+", "-", str(name).lower()).strip("-_")[:64] or "my-system"
        raise ClirBenchError(
            f"{what} {str(name)[:80]!r} is not a safe slug: expected 1-64 lowercase letters, digits, '-' or '_', "
            f"starting and ending with a letter or digit; try {suggestion!r}")
    return name


def check_metadata(meta, where: str) -> dict:
    """The metadata dict if it is well-formed; a ClirBenchError naming the first problem otherwise."""
    if not isinstance(meta, dict):
        raise ClirBenchError(f"{where}: found {type(meta).__name__}, expected a JSON object")
    unknown = sorted(set(meta) - set(FIELDS))
    if unknown:
        raise ClirBenchError(f"{where}: found unknown key {unknown[0]!r}, expected only {', '.join(FIELDS)}")
    for key, (kind, required) in FIELDS.items():
        if key not in meta:
            if required:
                raise ClirBenchError(f"{where}: key {key!r} is missing")
            continue
        if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            raise ClirBenchError(f"{where}: key {key!r}: found {type(meta[key]).__name__}, expected {kind.__name__}")
    check_slug(meta["name"])
    for key, limit in LIMITS.items():
        if len(meta[key]) > limit:
            raise ClirBenchError(f"{where}: key {key!r}: found {len(meta[key])} characters, expected at most {limit}")
    if meta["url"] and not re.fullmatch(r"https?://[^\s<>\"']+", meta["url"]):
        raise ClirBenchError(f"{where}: key 'url': found {meta['url'][:80]!r}, expected an http(s):// address or ''")
    if meta["produced_by"] not in PRODUCERS:
        raise ClirBenchError(f"{where}: key 'produced_by': found {meta['produced_by'][:40]!r}, "
                             f"expected one of {', '.join(PRODUCERS)}")
    if not _is_date(meta["date"]):
        raise ClirBenchError(f"{where}: key 'date': found {meta['date'][:40]!r}, expected a date YYYY-MM-DD")
    for value in meta.get("resources", []):
        if value not in RESOURCES:
            raise ClirBenchError(f"{where}: key 'resources': found {str(value)[:40]!r}, expected any of "
                                 f"{', '.join(RESOURCES)}")
    if len(meta.get("pretrained", "")) > LIMITS["description"]:
        raise ClirBenchError(f"{where}: key 'pretrained': found {len(meta['pretrained'])} characters, expected at "
                             f"most {LIMITS['description']}")
    if len(meta.get("system", {})) > 50:
        raise ClirBenchError(f"{where}: key 'system': found {len(meta['system'])} entries, expected at most 50")
    for key, value in meta.get("system", {}).items():
        if not isinstance(value, (str, int, float, bool)) or value is None:
            raise ClirBenchError(f"{where}: key 'system.{str(key)[:40]}': found {type(value).__name__}, "
                                 "expected a scalar")
        if isinstance(value, float) and not math.isfinite(value):
            raise ClirBenchError(f"{where}: key 'system.{str(key)[:40]}': found {value}, expected a finite number")
        if isinstance(value, str) and len(value) > LIMITS["description"]:
            raise ClirBenchError(f"{where}: key 'system.{str(key)[:40]}': found {len(value)} characters, expected "
                                 f"at most {LIMITS['description']}")
    return meta


def _is_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def metadata(*, name: str, track, team: str = "", description: str = "", url: str = "",
             produced_by: str = "participant", system: dict | None = None, resources: list[str] | None = None,
             pretrained: str | None = None) -> dict:
    meta = {"name": name, "team": team, "description": description, "url": url, "track": track.name,
            "track_version": track.version, "produced_by": produced_by, "harness_version": __version__,
            "date": datetime.datetime.now(datetime.UTC).date().isoformat()}
    if resources is not None:
        meta["resources"] = list(dict.fromkeys(resources))
    if pretrained:
        meta["pretrained"] = pretrained
    if system:
        meta["system"] = {k: v for k, v in system.items() if isinstance(v, (str, int, float, bool))}
    return check_metadata(meta, "metadata")


def read(folder: Path, root: Path) -> Submission:
    """One submission folder, checked; a ClirBenchError with the reason otherwise."""
    rel = folder.relative_to(root).as_posix()
    files = {p.name: p for p in folder.iterdir() if not p.name.startswith(".")}
    for p in files.values():
        if p.is_symlink() or not p.is_file():
            raise ClirBenchError(f"{rel}/{p.name}: found a {'symbolic link' if p.is_symlink() else 'folder'}, "
                                 "expected a plain file")
    runs = [files[n] for n in RUN_FILES if n in files]
    extra = sorted(set(files) - {METADATA, *RUN_FILES})
    if extra:
        raise ClirBenchError(f"{rel}: found unexpected file {extra[0]!r}, expected only {METADATA} and one of "
                             f"{', '.join(RUN_FILES)}")
    if METADATA not in files:
        raise ClirBenchError(f"{rel}: {METADATA} is missing")
    if len(runs) != 1:
        raise ClirBenchError(f"{rel}: found {len(runs)} run files, expected one of {', '.join(RUN_FILES)}")
    try:
        if files[METADATA].stat().st_size > MAX_METADATA:
            raise ClirBenchError(f"{rel}/{METADATA}: found {files[METADATA].stat().st_size:,} bytes, expected at most "
                                 f"{MAX_METADATA:,}")
        meta = json.loads(files[METADATA].read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ClirBenchError(f"{rel}/{METADATA}:{e.lineno}: {e.msg}; expected a JSON object") from None
    except RecursionError:
        raise ClirBenchError(f"{rel}/{METADATA}: found JSON nested too deeply, expected a flat object") from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise ClirBenchError(f"{rel}/{METADATA}: found {str(e).split(';')[0][:120]}, expected a plain JSON "
                             "object") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ClirBenchError(f"{rel}/{METADATA}: cannot read: {e}") from None
    check_metadata(meta, f"{rel}/{METADATA}")
    track, name = folder.parent.name, folder.name
    if meta["name"] != name or meta["track"] != track:
        raise ClirBenchError(f"{rel}/{METADATA}: found name {meta['name']!r} on track {meta['track']!r}, expected "
                             f"{name!r} on {track!r} (the folder's)")
    return Submission(track, name, folder, runs[0], meta)


def load_diagnosis(path: Path) -> dict | None:
    """A recorded noise diagnosis (TRACK/diagnostics.json), or None where there is none or it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("rows"), list) and "track_version" in data
    return data if ok else None


def discover(root: Path) -> tuple[list[Submission], list[Invalid]]:
    """Every submission under ROOT, and every entry that is not one, with the reason."""
    from clir_bench.tracks.track import builtin

    root = Path(root)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else f"is {kind_of(root)}, not a folder"
        raise ClirBenchError(f"the submissions store {root} {what}; pass --submissions FOLDER (the store "
                             "`clir-bench submit` and `clir-bench run` write to)")
    tracks = builtin()
    good, bad = [], []
    for tdir in sorted(root.iterdir()):
        if tdir.name.startswith(".") or (tdir.name == STORE_CHANGES and tdir.is_file() and not tdir.is_symlink()):
            continue
        if tdir.is_symlink() or not tdir.is_dir():
            bad.append(Invalid(tdir.name, "not a track folder (a plain folder named after a built-in track)"))
            continue
        if not TRACK_DIR.fullmatch(tdir.name) or tdir.name not in tracks:
            known = ", ".join(tracks)
            bad.append(Invalid(tdir.name, f"unknown track.{did_you_mean(tdir.name, tracks)} Known: {known}"))
            continue
        try:
            folders = sorted(tdir.iterdir())
        except OSError as e:
            bad.append(Invalid(tdir.name, f"cannot be read: {e.strerror}", tdir.name))
            continue
        for folder in folders:
            rel = f"{tdir.name}/{folder.name}"
            if folder.name.startswith(".") or (folder.name == DIAGNOSIS and folder.is_file()
                                                 and not folder.is_symlink()):
                continue
            if folder.is_symlink() or not folder.is_dir() or not SLUG.fullmatch(folder.name):
                bad.append(Invalid(rel, "not a submission folder (a plain folder whose name is a slug)", tdir.name))
                continue
            try:
                good.append(read(folder, root))
            except ClirBenchError as e:
                bad.append(Invalid(rel, str(e), tdir.name, folder.name))
            except (OSError, ValueError, RecursionError) as e:  # one entry never stops the build
                bad.append(Invalid(rel, f"cannot be read: {getattr(e, 'strerror', None) or e}"[:300], tdir.name,
                                   folder.name))
    return _without_copies(good, bad)


def _without_copies(good: list[Submission], bad: list[Invalid]) -> tuple[list[Submission], list[Invalid]]:
    """A run file placed twice on a track (byte for byte) is one submission: the earliest, by date then name."""
    from clir_bench.core.files import sha256_file

    first: dict[tuple[str, str], Submission] = {}
    kept = []
    for sub in sorted(good, key=lambda s: (s.track, s.meta["date"], s.name)):
        key = (sub.track, sha256_file(sub.run))
        if key in first:
            bad.append(Invalid(sub.where, f"the run file is identical to submission {first[key].where}'s; "
                                          "a run is submitted once", sub.track, sub.name))
            continue
        first[key] = sub
        kept.append(sub)
    return sorted(kept, key=lambda s: (s.track, s.name)), bad


@contextlib.contextmanager
def track_lock(root: Path, track: str):
    """Hold ROOT/TRACK/.lock exclusively: the check for a taken name or an identical run and the
    write that follows it happen as one step, so two concurrent `submit`s cannot both pass."""
    import fcntl

    if not TRACK_DIR.fullmatch(track):
        raise ClirBenchError(f"track name {track[:80]!r} cannot name a folder of the store")
    check_track_folder(Path(root), track)
    folder = Path(root) / track
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK, "a")  # noqa: SIM115  (held for the block)
    except OSError as e:
        raise ClirBenchError(f"cannot lock the store folder {folder}: {e.strerror}; check --submissions") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_track_folder(root: Path, track: str) -> None:
    """The store's folder for `track` is a real folder or absent: never written through a link (the
    board lists a linked track folder as invalid, so what went into it would never show)."""
    path = root / track
    if path.is_symlink():
        raise ClirBenchError(f"{path} is a symbolic link; the store's track folders must be folders of the store "
                             "itself: replace the link with the folder it points to, then submit again")
    if path.exists() and not path.is_dir():
        raise ClirBenchError(f"{path}: found {kind_of(path)}, expected the track's folder of the store; move it away")


def store(*, root: Path, meta: dict, run: Path, compress: bool = False, replace: bool = False) -> Submission:
    """Write ROOT/TRACK/NAME atomically; `compress` gzips a plain run (mtime 0: same bytes each time)."""
    if not TRACK_DIR.fullmatch(meta["track"]):
        raise ClirBenchError(f"track name {meta['track'][:80]!r} cannot name a folder of the store")
    check_track_folder(Path(root), meta["track"])
    folder = Path(root) / meta["track"] / check_slug(meta["name"])
    gz = compress or is_gzip(run)
    with atomic_dir(folder, force=replace) as tmp:
        target = tmp / RUN_FILES[gz]
        if compress and not is_gzip(run):
            with open(run, "rb") as src, open(target, "wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            shutil.copyfile(run, target)
        write_text_atomic(tmp / METADATA, json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    return Submission(meta["track"], meta["name"], folder, folder / RUN_FILES[gz], meta)


def conflicts(*, root: Path, meta: dict, sha256: str, replacing: bool = False,
              damaged: list[str] | None = None) -> list[str]:
    """Why `meta` with a run of content `sha256` cannot join ROOT: a taken name (unless `replacing`
    one's own entry: the same team's participant submission) or an identical run. Neighbours whose
    run cannot be read are skipped, and named in `damaged` where a list is given."""
    track_dir = Path(root) / meta["track"]
    found = []
    if (track_dir / meta["name"]).exists():
        if not replacing:
            found.append(f"name {meta['name']!r} is taken on track {meta['track']}; choose another --name (or "
                         "--replace your own entry)")
        else:
            try:
                earlier = read(track_dir / meta["name"], Path(root)).meta
            except ClirBenchError:
                earlier = None  # a broken entry of that name: replacing it mends it
            if earlier is not None and (earlier["produced_by"] != "participant" or earlier["team"] != meta["team"]):
                found.append(f"{meta['track']}/{meta['name']} is not your entry (team {earlier['team']!r}, produced "
                             f"by {earlier['produced_by']}); --replace replaces only your team's own submission")
    if track_dir.is_dir():
        for other in sorted(track_dir.iterdir()):
            if other.name == meta["name"] or other.is_symlink() or not other.is_dir():
                continue
            for n in RUN_FILES:
                p = other / n
                try:
                    same = p.is_file() and not p.is_symlink() and content_sha256(p) == sha256
                except ClirBenchError:
                    same = False  # a damaged neighbour cannot hold this (readable) run: reported, never blocking
                    if damaged is not None:
                        damaged.append(f"{meta['track']}/{other.name}/{n}")
                if same:
                    found.append(f"the run is identical to submission {meta['track']}/{other.name} (sha256 "
                                 f"{sha256[:12]}...); a run is submitted once")
    return found


def submit(*, run: Path, track, name: str, root: Path, team: str = "", description: str = "", url: str = "",
           produced_by: str = "participant", resamples: int = 10_000, resources: list[str] | None = None,
           pretrained: str | None = None, replace: bool = False,
           warn: Callable[[str], None] | None = None) -> tuple[Submission, ScoreReport]:
    """Validate and score RUN against TRACK, refuse duplicates, then store it (`replace`: over the same
    team's entry of that name, noted in ROOT/CHANGELOG.md). Returns it and its report; `warn` hears of
    damaged neighbours on the track (which never block a submission)."""
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.evaluation.scoring import InvalidRun, score_run

    if not is_builtin(track):
        raise ClirBenchError(f"track {track.name!r} ({track.path}) is not a built-in track; the store and the "
                             "leaderboard hold runs for built-in tracks (see `clir-bench tracks`)")
    meta = metadata(name=check_slug(name), track=track, team=team, description=description, url=url,
                    produced_by=produced_by, resources=resources, pretrained=pretrained)
    regular_file(Path(run), "run file")  # missing, a folder, a FIFO: said as such
    check_track_folder(Path(root), meta["track"])  # before any scoring
    # one snapshot of the run is checked, scored, hashed and stored: a file that changes while the
    # command runs cannot be scored as one content and stored as another
    with tempfile.TemporaryDirectory(prefix="clir-bench-submit-") as scratch:
        snapshot = Path(scratch) / ("run.trec.gz" if is_gzip(run) else "run.trec")
        try:
            shutil.copyfile(run, snapshot)
        except OSError as e:
            raise ClirBenchError(f"cannot copy {run} to a scratch folder: {e.strerror}; free space in the temporary "
                                 "folder ($TMPDIR) and submit again") from None
        sha = content_sha256(snapshot)
        damaged: list[str] = []
        problems = conflicts(root=root, meta=meta, sha256=sha, replacing=replace, damaged=damaged)  # fail fast
        if problems:
            raise ClirBenchError("not stored: " + "; ".join(problems))
        for where in damaged if warn else ():
            warn(f"{where} in the store cannot be read; run `clir-bench leaderboard check` to see why (your run "
                 "is stored regardless)")
        try:
            report = score_run(snapshot, from_track(track), resamples=resamples).with_run_path(str(run))
        except InvalidRun as e:
            raise InvalidRun(run, e.scan) from None  # its problems named at the user's file, not the snapshot
        with track_lock(root, meta["track"]):
            problems = conflicts(root=root, meta=meta, sha256=sha, replacing=replace)  # again, no other writer now
            if problems:
                raise ClirBenchError("not stored: " + "; ".join(problems))
            replaced = (Path(root) / meta["track"] / meta["name"]).exists()
            stored = store(root=root, meta=meta, run=snapshot, replace=replaced)
            if replaced:
                _note_change(Path(root), f"{meta['date']}: {meta['track']}/{meta['name']} replaced by its team "
                                         f"({meta['team'] or 'no team given'}); run sha256 {sha[:12]}")
            return stored, report


STORE_CHANGES = "CHANGELOG.md"  # at the store's root: replaced entries, one line each


def _note_change(root: Path, line: str) -> None:
    from clir_bench.core.files import write_text_atomic

    path = root / STORE_CHANGES
    earlier = path.read_text("utf-8") if path.is_file() else "# Changes to this store\n\n"
    write_text_atomic(path, earlier + f"- {line}\n")


def is_builtin(track) -> bool:
    """A built-in track, or a copy of one's TOML: the leaderboard can only score against those."""
    from clir_bench.tracks.track import builtin

    return track.name in builtin() and builtin().get(track.name).source == track.source


SCORE_RTOL = 1e-5  # reference runs that differ by less are the same run (see `same_run`)


def same_run(a: Path, b: Path, *, rtol: float = SCORE_RTOL) -> bool:
    """Two run files hold the same run: the same queries, the same documents for each, and every
    score equal within `rtol` relative (of max(1, |score|)).

    A rerun of a reference system on another machine or thread schedule reorders float32 sums
    (BLAS kernels, thread splits): cosine scores then differ in the 7th digit (1e-7 measured).
    1e-5 is a hundred times that and far below any difference a score reports to three
    decimals; with the same documents per query, rankings can differ only between documents
    whose scores lie within the tolerance of each other.
    """
    from clir_bench.evaluation.validation import RunSpec, scan_run

    def read(path: Path) -> dict | None:
        scan = scan_run(path, RunSpec(qids=None, docs_of=None, max_docs=1 << 62), consume=lambda batch: batch,
                        workers=1)
        return None if scan.errors.total else scan.results

    x, y = read(a), read(b)
    if x is None or y is None or x.keys() != y.keys():
        return False
    for q, docs in x.items():
        other = y[q]
        if docs.keys() != other.keys():
            return False
        if any(abs(s - other[d]) > rtol * max(1.0, abs(s), abs(other[d])) for d, s in docs.items()):
            return False
    return True


def record_reference(*, root: Path, track, name: str, run: Path, description: str, info: dict) -> str:
    """Record a harness run as reference submission TRACK/NAME (replacing the harness's previous one,
    unless the run is the same). Returns what happened, in words; a participant's submission of
    that name is never replaced."""
    if not is_builtin(track):
        return f"not recorded: the leaderboard holds built-in tracks only, and {track.path} is not one"
    with track_lock(root, track.name):
        return _record_reference(root=root, track=track, name=name, run=run, description=description, info=info)


def _record_reference(*, root: Path, track, name: str, run: Path, description: str, info: dict) -> str:
    folder = Path(root) / track.name / name
    sha = content_sha256(run)
    if folder.exists():
        try:
            earlier = read(folder, Path(root))
            if earlier.meta["produced_by"] != "harness":
                return f"not recorded: {track.name}/{name} is a participant's submission"
            if earlier.meta["track_version"] == track.version:
                if content_sha256(earlier.run) == sha:
                    return f"unchanged: the run is identical to the recorded {folder}"  # the tree stays clean
                if same_run(earlier.run, run):
                    return (f"unchanged: the run equals the recorded {folder} (same documents per query, scores "
                            f"within {SCORE_RTOL:g} relative)")
        except ClirBenchError:
            pass  # a broken earlier record is replaced
    local = {"student", "cached"}  # facts of this machine's cache, not of the system
    meta = metadata(name=name, track=track, team="clir-bench reference", description=description,
                    produced_by="harness", system={k: v for k, v in info.items() if k.split(" (")[0] not in local})
    same = [p for p in conflicts(root=root, meta=meta, sha256=sha) if not p.startswith("name ")]
    if same:
        return "not recorded: " + "; ".join(same)
    store(root=root, meta=meta, run=run, compress=True, replace=True)
    return f"recorded as {Path(root) / track.name / name}"
