"""The leaderboard's data: every submission scored (with a cache), ranked per track, compared.

Everything here is plain JSON-ready data; `clir_bench.leaderboard.render` renders it. A submission is
scored exactly as `clir-bench score` scores it (`scoring.score_run`); the score cache is
keyed by the sha256 of the run's content, the qrels, the metrics, the bootstrap settings and
the harness and pytrec_eval versions, so a score is reused only where it would come out the
same. Rank is by the macro mean of the primary metric over all the track's languages.
Uncertainty: every row is tested against #1 on the mean over languages, paired over topics, Holm
over the rows (`group`); each submission's page compares it with #1 and the no-OT control per
language and over topics; the headline tests the best OT system against the control and
zero-shot. All of it is `clir-bench compare`'s code (`clir_bench.evaluation.compare`).
A track's recorded noise diagnosis (TRACK/diagnostics.json, `clir_bench.noise_diagnosis`) gives the
family's detection AUC of each technique against the noise rate; one recorded for another
version or bitext is listed as stale, never drawn.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import sha256_file
from clir_bench.core.languages import LANGUAGES
from clir_bench.evaluation.report import FORMAT, ScoreReport
from clir_bench.evaluation.stats import ALPHA, mean
from clir_bench.leaderboard.cards import card, readable
from clir_bench.leaderboard.store import Invalid, Submission, condition, discover

SEED = 0
COMPARE_RESAMPLES = 2000  # bootstrap resamples of a paired difference on the board
COMPARE_FLIPS = 2000  # sign flips of its randomisation test


@dataclass
class Cache:
    """Score reports by key: read from an earlier build's folder, written to this build's;
    `fresh` holds the entries scored ahead in parallel by this build (`prescore`)."""

    read_from: Path | None
    write_to: Path
    hits: int = 0
    misses: int = 0
    fresh: dict = field(default_factory=dict)

    def get(self, key: str) -> dict | None:
        if key in self.fresh:
            return self.fresh[key]
        if self.read_from is None:
            return None
        try:
            entry = json.loads((self.read_from / f"{key}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and entry.get("key") == key else None

    def put(self, key: str, entry: dict) -> None:
        """Plain writes: `write_to` lies in the build's staging folder, which is swapped in whole."""
        self.write_to.mkdir(parents=True, exist_ok=True)
        (self.write_to / f"{key}.json").write_text(json.dumps({"key": key, **entry}, allow_nan=False), "utf-8")


@dataclass
class Board:
    tracks: list[dict] = field(default_factory=list)
    families: list[dict] = field(default_factory=list)  # noise robustness, one per family of tracks
    pages: list[dict] = field(default_factory=list)  # one per valid submission
    invalid: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)


def _versions() -> dict:
    from importlib.metadata import version

    return {"harness": f"clir-bench {__version__}", "pytrec_eval": version("pytrec-eval-terrier")}


def score_key(sha256: str, judgments, resamples: int) -> str:
    parts = [sha256, judgments.provenance["track"], str(judgments.provenance["track_version"]),
             judgments.provenance["qrels_sha256"], ",".join(m.name for m in judgments.metrics), str(resamples),
             str(SEED), json.dumps(_versions(), sort_keys=True), f"report-format {FORMAT}"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _entry(run: Path, judgments, resamples: int) -> dict:
    """A run scored as a cache entry: the report (naming the run by its file name only, never this
    machine's path) or why it is invalid."""
    from clir_bench.evaluation.scoring import InvalidRun, score_run

    name = run.name
    try:
        return {"report": score_run(run, judgments, resamples=resamples, seed=SEED, workers=1)
                .with_run_path(name).to_dict()}
    except InvalidRun as e:
        return {"invalid": "; ".join(e.scan.errors.lines(name)[:5])}
    except ClirBenchError as e:
        return {"invalid": str(e).replace(str(run), name)}


_JUDGMENTS: dict = {}  # a worker process's judgments, per track


def _entry_in_worker(job: tuple[Path, str], resamples: int) -> dict:
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.tracks.track import get_track

    run, track = job
    if track not in _JUDGMENTS:
        _JUDGMENTS[track] = from_track(get_track(track))
    return _entry(run, _JUDGMENTS[track], resamples)


def prescore(jobs: list[tuple[Submission, object]], cache: Cache, resamples: int, workers: int,
             progress: Callable[[str], None] | None = None) -> None:
    """Score the runs that miss the cache in `workers` processes (each scoring is independent, largest
    first); the entries wait in `cache.fresh` for `_score`. Fewer than two misses, or one worker:
    nothing to do."""
    from functools import partial

    from clir_bench.core.parallel import pmap

    todo = {}
    for sub, judgments in jobs:
        try:
            key = score_key(sha256_file(sub.run), judgments, resamples)
        except OSError:
            continue  # `_score` reports it
        if key not in todo and cache.get(key) is None:
            todo[key] = (sub.run, judgments.provenance["track"])
    if workers < 2 or len(todo) < 2:
        return
    if progress:
        progress(f"scoring {len(todo)} runs in {min(workers, len(todo))} processes", 0)  # a message, no step
    entries = pmap(partial(_entry_in_worker, resamples=resamples), list(todo.values()), workers=workers,
                   cost=lambda job: job[0].stat().st_size)
    cache.fresh.update(zip(todo, entries, strict=True))
    cache.misses += len(entries)


def _score(sub: Submission, judgments, cache: Cache, resamples: int) -> dict:
    """{'report': ScoreReport} or {'invalid': reason}, and 'sha256'; from the cache where the key matches.

    Cached entries name the run by its file name only; the submission's folder is added here.
    """
    sha = sha256_file(sub.run)  # the stored bytes: a cached verdict costs no decompression (a gzip bomb once)
    key = score_key(sha, judgments, resamples)
    entry = cache.get(key)
    if entry is None:
        cache.misses += 1
        entry = _entry(sub.run, judgments, resamples)
    elif key not in cache.fresh:
        cache.hits += 1
    cache.put(key, entry)
    if "report" in entry:
        return {"report": ScoreReport.from_dict(entry["report"]).with_run_path(f"{sub.where}/{sub.run.name}"),
                "sha256": sha, "key": key}
    return {**entry, "sha256": sha}


def _row(sub: Submission, report: ScoreReport) -> dict:
    primary = report.primary
    langs = {lang: {"value": row.mean[primary], "ci": list(row.ci)} for lang, row in report.languages.items()}
    summary = report.to_dict()["summary"] or {}
    s, ci = summary.get(primary, {}), summary.get("ci", {})
    return {
        "name": sub.name, "team": sub.meta["team"], "produced_by": sub.meta["produced_by"],
        "url": sub.meta["url"], "date": sub.meta["date"], "href": f"s/{sub.track}/{sub.name}/index.html",
        "languages": langs, "mean": mean(v["value"] for v in langs.values()),
        "low": s.get("low"), "high": s.get("high"), "gap": s.get("gap"), "relative_gap": s.get("relative_gap"),
        "ci": {"mean": list(report.mean_ci), **{k: ci.get(k) for k in ("low", "high", "gap", "relative_gap")}},
        "system": sub.meta.get("system", {}), "vs_top": None, "group": None, "kind": _kind(sub.meta),
        "run_sha256": report.run.sha256, "warnings": len(report.warnings), "protocol": _protocol(sub.meta),
        "condition": condition(sub.meta), "resources": sub.meta.get("resources"),
    }


def _protocol(meta: dict) -> str | None:
    """The training protocol a reference student followed (`clir_bench.models.protocol`), or None."""
    value = (meta.get("system") or {}).get("protocol")
    return value if isinstance(value, str) else None


def _kind(meta: dict) -> str:
    """reference (the harness's own systems), verified (a registered system the harness ran), uploaded."""
    if meta["produced_by"] != "harness":
        return "uploaded"
    return "reference" if meta["team"] == "clir-bench reference" else "verified"


def _rank(rows: list[dict]) -> None:
    """Competition ranking (1, 2, 2, 4) by the macro mean, descending; names break display ties."""
    rows.sort(key=lambda r: (-(r["mean"] if r["mean"] is not None else -1), r["name"]))
    for i, row in enumerate(rows):
        same = i and rows[i - 1]["mean"] == row["mean"]
        row["rank"] = rows[i - 1]["rank"] if same else i + 1


def _comparisons(row: dict, rows: list[dict], reports: dict, pair) -> list[dict]:
    """This submission against #1, the no-OT control and zero-shot (or, without them, the best reference):
    `clir-bench compare`'s rows, per language and over topics, Holm within each comparison."""
    chosen = []
    # the control trained under this row's protocol (any control for a row without one)
    control = next((r for r in rows if _role(r) == "control" and r["protocol"] == (row["protocol"] or r["protocol"])),
                   None)
    zero_shot = next((r for r in rows if _role(r) == "zero-shot"), None)
    reference = next((r for r in rows if r["produced_by"] == "harness" and r is not row), None)
    for label, other in (("#1", rows[0]), ("the no-OT control", control), ("zero-shot", zero_shot),
                         ("the best reference system", None if control else reference)):
        if other is None or other is row or any(other is o for _, o in chosen):
            continue
        chosen.append((label, other))
    out = []
    tested = len(rows) - 1  # the index's family: every row against #1 on the mean
    for label, other in chosen:
        c = pair(row["name"], other["name"])
        if other is rows[0] and row["vs_top"]:  # the verdict the index gives this pair, with its family
            top = row["vs_top"]
            family = f"Holm over the track's {tested} tests against #1, as on the board"
            c = {**c, "rows": [{**d, "p_t_holm": top["p_holm"], "significant": top["distinguishable"], "family": family}
                               if d["group"] == "mean" else d for d in c["rows"]]}
        mine, theirs = reports[row["name"]][1], reports[other["name"]][1]
        m = mine.primary
        out.append({"against": other["name"], "label": label, **c,
                    "per_query_diff": [(q, v[m] - theirs.per_query[q][m]) for q, v in mine.per_query.items()]})
    return out


def _family_key(track) -> tuple:
    return (track.collection.describe(), tuple(track.languages.items()), track.noise.kind, track.primary.name)


def _queries_by_language(judgments) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for q in sorted(judgments.qrels):
        out.setdefault(judgments.lang_of[q], []).append(q)
    return out


def _change_tests(members: list[dict], name: str) -> dict[tuple[str, str], dict]:
    """Per language and noise rate, the system's change from the family's first rate: paired t-test over
    the language's queries (the tracks share their test queries), Holm over the system's cells."""
    from clir_bench.evaluation.stats import holm, paired_t

    base = members[0]["per_query"].get(name)
    if base is None:
        return {}
    cells = []
    for t in members[1:]:
        other = t["per_query"].get(name)
        if other is None:
            continue
        for lang, values in other.items():
            shared = sorted(values.keys() & base.get(lang, {}).keys())  # paired by query id
            if len(shared) > 1:
                cells.append(((lang, f"{t['noise_rate']:g}"),
                              paired_t([values[q] for q in shared], [base[lang][q] for q in shared])["p"]))
    adjusted = holm([p for _, p in cells])
    return {key: {"p": p, "p_holm": ph, "significant": ph is not None and ph < ALPHA}
            for (key, p), ph in zip(cells, adjusted, strict=True)}


def _families(tracks: list[dict], by_track: dict) -> list[dict]:
    """Tracks that differ only in noise rate form a family: per system, metric and gap against the rate."""
    groups: dict[tuple, list] = {}
    for t in tracks:
        groups.setdefault(_family_key(by_track[t["name"]]), []).append(t)
    families = []
    for key, members in groups.items():
        members.sort(key=lambda t: t["noise_rate"])
        track = by_track[members[0]["name"]]
        systems: dict[str, dict] = {}
        for t in members:
            for row in t["rows"]:
                sysd = systems.setdefault(row["name"], {"name": row["name"], "produced_by": row["produced_by"],
                                                        "kind": row["kind"], "points": []})
                sysd["points"].append({"track": t["name"], "rate": t["noise_rate"], "mean": row["mean"],
                                       "low": row["low"], "high": row["high"], "gap": row["gap"],
                                       "mean_ci": row["ci"]["mean"], "gap_ci": row["ci"]["gap"],
                                       "languages": {k: v["value"] for k, v in row["languages"].items()}})
        for sysd in systems.values():
            sysd["changes"] = _change_tests(members, sysd["name"])
        ordered = sorted(systems.values(), key=lambda s: (s["produced_by"] != "harness",
                                                          -(mean(p["mean"] for p in s["points"]) or 0), s["name"]))
        families.append({
            "id": f"family-{len(families) + 1}", "collection": key[0], "noise_kind": key[2], "metric": key[3],
            "metric_label": track.primary.label, "languages": members[0]["languages"],
            "tracks": [{"name": t["name"], "rate": t["noise_rate"]} for t in members], "systems": ordered,
            # the members share their test data, so their chance MAP is one number
            "chance": (members[0].get("chance") or {}).get("mean"),
            "headline": [{"track": t["name"], "rate": t["noise_rate"], **h} for t in members for h in t["headlines"]],
            "finding": _finding([h for t in members for h in t["headlines"]]),
            "detection": _detection(members),
        })
    return families


DETECTION_SIGNALS = ("mass", "ot_cost", "loss")  # drawn: the plan's own signals, and the loss every system has


def _diagnosis(root: Path, track) -> dict:
    """The track's recorded diagnosis (trained and step-0 rows over all pairs), or why there is none."""
    from clir_bench.leaderboard.store import DIAGNOSIS, load_diagnosis

    path = Path(root) / track.name / DIAGNOSIS
    if not path.is_file() or path.is_symlink():
        return {"status": "none"}
    report = load_diagnosis(path)
    if report is None:
        return {"status": "stale", "reason": f"{track.name}/{DIAGNOSIS} is not a diagnosis report"}
    if report["track_version"] != track.version or report.get("bitext_sha256") != track.bitext_sha256():
        return {"status": "stale", "reason": f"{track.name}/{DIAGNOSIS} was made for another version or bitext of "
                                             f"the track; rerun `clir-bench diagnose --track {track.name} --record`"}
    if not report.get("applicable"):
        return {"status": "not applicable", "reason": report.get("reason", "")}
    rows = [{k: r.get(k) for k in ("system", "model", "signal", "auc", "auc_ci", "ap", "ap_ci", "base_rate")}
            for r in report["rows"] if r.get("group") == "all" and r.get("auc") is not None]
    tests = [{k: c.get(k) for k in ("a", "a_signal", "b", "b_signal", "diff", "diff_ci", "p", "p_holm")}
             for c in report.get("comparisons", []) if c.get("diff") is not None]
    constant = [{k: c.get(k) for k in ("system", "model", "signal", "value")} for c in report.get("constant", [])]
    return {"status": "ok", "rows": rows, "pairs": report.get("pairs"), "corrupted": report.get("corrupted"),
            "comparisons": tests, "constant": constant}


def _detection(members: list[dict]) -> dict:
    """Per system and signal, the trained student's AUC (and step 0's) against the noise rate."""
    series: dict[tuple, dict] = {}
    for t in members:
        if t["diagnosis"]["status"] != "ok":
            continue
        for r in t["diagnosis"]["rows"]:
            s = series.setdefault((r["system"], r["signal"]), {"system": r["system"], "signal": r["signal"],
                                                               "by_rate": {}})
            s["by_rate"].setdefault(t["noise_rate"], {})[r["model"]] = {"auc": r["auc"], "auc_ci": r["auc_ci"]}
    rows = sorted(series.values(), key=lambda s: (s["system"], s["signal"]))
    tests = [{"rate": t["noise_rate"], **c, "significant": c["p_holm"] is not None and c["p_holm"] < ALPHA}
             for t in members if t["diagnosis"]["status"] == "ok" for c in t["diagnosis"]["comparisons"]]
    constant: dict[tuple, dict] = {}  # signals constant by construction, once each whatever the rate
    for t in members:
        for c in t["diagnosis"].get("constant", []) if t["diagnosis"]["status"] == "ok" else []:
            constant.setdefault((c["system"], c["model"], c["signal"]), c)
    return {"rows": rows, "comparisons": tests, "constant": sorted(constant.values(), key=lambda c: (
                c["system"], c["model"] != "trained", c["signal"])),
            "signals": [sig for sig in DETECTION_SIGNALS if any(r["signal"] == sig for r in rows)],
            "status": {t["name"]: t["diagnosis"] for t in members},
            "measured": sum(t["diagnosis"]["status"] == "ok" for t in members)}


def collect(*, root: Path, cache: Cache, resamples: int = 10_000,
            progress: Callable[[str], None] | None = None, workers: int = 1) -> Board:
    """Discover, validate and score every submission under ROOT; rank, compare and group them.
    `workers` > 1 scores the runs the cache does not hold in that many processes first."""
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.tracks.track import builtin

    subs, bad = discover(root)
    invalid = [_invalid(b) for b in bad]
    by_track = {name: t for name, t in builtin().items()}
    judged = {name: from_track(track) for name, track in by_track.items()
              if any(s.track == name for s in subs)}
    if workers > 1:
        prescore([(s, judged[s.track]) for s in subs if s.track in judged
                  and s.meta["track_version"] == by_track[s.track].version], cache, resamples, workers,
                 progress=progress)
    tracks = []
    pages = []
    for name, track in by_track.items():
        mine = [s for s in subs if s.track == name]
        if not mine and not any(b["track"] == name for b in invalid):
            continue
        j = judged.get(name) or from_track(track)
        rows, reports, keys = [], {}, {}
        for sub in mine:
            if progress:
                progress(sub.where)
            if sub.meta["track_version"] != track.version:
                invalid.append(_invalid(Invalid(sub.where, f"submitted for version {sub.meta['track_version']} of "
                                                f"{name}, which is now version {track.version}; resubmit", name,
                                                sub.name)))
                continue
            entry = _score(sub, j, cache, resamples)
            if "invalid" in entry:
                invalid.append(_invalid(Invalid(sub.where, entry["invalid"], name, sub.name)))
                continue
            rows.append(_row(sub, entry["report"]))
            reports[sub.name] = (sub, entry["report"], entry["sha256"])
            keys[sub.name] = entry["key"]
        _rank(rows)
        plain = {n: r for n, (_, r, _) in reports.items()}

        def pair(a: str, b: str, only: set[str] | None = None, plain=plain, keys=keys, j=j) -> dict:
            return _paired(cache, keys, plain, j, a, b, only)

        _versus_top(rows, pair)
        refs = [r for r in rows if r["produced_by"] == "harness"]
        best = refs[0]["name"] if refs else None
        languages = [{"code": lang, "name": LANGUAGES.get(lang).name if lang in LANGUAGES else lang, "class": cls}
                     for lang, cls in track.languages.items()]
        prov = {k: j.provenance[k] for k in ("track_version", "collection", "qrels_sha256", "bitext_sha256",
                                              "noise", "seed")}
        prov["track_sha256"] = hashlib.sha256(track.source.encode()).hexdigest()
        chance = _chance(track, j)
        _mark_no_signal(rows, chance)
        topics = _topics(track, j, reports) if reports else []
        primary = track.primary.name
        per_query = {n: {lang: {q: r.per_query.get(q, {}).get(primary, 0.0) for q in qids}
                         for lang, qids in _queries_by_language(j).items()} for n, (_, r, _) in reports.items()}
        tracks.append({"name": name, "version": track.version, "description": track.description, "topics": topics,
                       "per_query": per_query,
                       "noise_rate": track.noise.rate, "metric": track.primary.name,
                       "metric_label": track.primary.label, "languages": languages, "rows": rows,
                       "best_reference": best, "provenance": prov, "facts": _facts(track, j),
                       "chance": chance, "headlines": _headlines(rows, pair, rate=track.noise.rate),
                       "diagnosis": _diagnosis(root, track),
                       "invalid": [b for b in invalid if b["track"] == name]})
        for row in rows:
            sub, report, sha = reports[row["name"]]
            page = _page(sub, report, row, track, dict(prov),
                         _comparisons(row, rows, reports, pair), j)
            pages.append({**page, "best_reference": best, "metric_label": track.primary.label})
    invalid_elsewhere = [b for b in invalid if b["track"] not in {t["name"] for t in tracks}]
    return Board(tracks=tracks, families=_families(tracks, by_track), pages=pages,
                 invalid=invalid_elsewhere + [b for t in tracks for b in t["invalid"]],
                 provenance={**_versions(), "submissions": len(subs), "invalid": len(invalid)})


def _paired(cache: Cache, keys: dict, reports: dict, judgments, a: str, b: str, only: set[str] | None) -> dict:
    """`compare(a, b)` as a dict, from the score cache where both runs, names and settings are the same."""
    from clir_bench.evaluation.compare import compare

    parts = ["compare", a, keys[a], b, keys[b], ",".join(sorted(only)) if only else "all", str(COMPARE_RESAMPLES),
             str(COMPARE_FLIPS), f"report-format {FORMAT}"]
    key = hashlib.sha256("|".join(parts).encode()).hexdigest()
    entry = cache.get(key)
    if entry is None:
        entry = {"compare": compare(reports[a], reports[b], judgments, names=(a, b), resamples=COMPARE_RESAMPLES,
                                    flips=COMPARE_FLIPS, only=only).to_dict()}
    cache.put(key, entry)
    return entry["compare"]


def _versus_top(rows: list[dict], pair) -> None:
    """Each row against #1 on the mean over languages, paired over topics (`clir-bench compare`'s
    code), Holm over the rows; a row that #1 does not beat significantly shares its group."""
    from clir_bench.evaluation.stats import holm

    if not rows:
        return
    tests = [(row, pair(row["name"], rows[0]["name"], {"mean"})["rows"][0]) for row in rows[1:]]
    for (row, test), p in zip(tests, holm([t["p_t"] for _, t in tests]), strict=True):
        row["vs_top"] = {"diff": test["diff"], "ci": test["ci"], "p_holm": p, "mdd": test["mdd"], "n": test["n"],
                         "distinguishable": p is not None and p < ALPHA}
    for row in rows:
        row["group"] = "below #1" if row["vs_top"] and row["vs_top"]["distinguishable"] else "top"


def _facts(track, judgments) -> dict:
    """What a score on this track rests on: languages by class, queries, documents per query."""
    per_lang: dict[str, int] = {}
    for q in judgments.qrels:
        per_lang[judgments.lang_of[q]] = per_lang.get(judgments.lang_of[q], 0) + 1
    docs = [len(d) for d in (judgments.spec.docs_of or {}).values()]
    topics = {judgments.topic(q) for q in judgments.qrels}
    name = {code: LANGUAGES.get(code).name if code in LANGUAGES else code for code in track.languages}
    return {
        "classes": {c: [{"code": lang, "name": name[lang], "queries": per_lang.get(lang, 0)}
                        for lang in track.of_class(c)] for c in ("low", "high")},
        "queries": sum(per_lang.values()), "topics": len(topics),
        "docs_per_query": (min(docs), max(docs)) if docs else None,
        "collection": track.collection.describe(), "metrics": [m.label for m in track.metrics],
        "primary": track.primary.label,
    }


def _chance(track, judgments) -> dict | None:
    """The scores a random ranking is expected to reach: per language, the class means and the gap."""
    from clir_bench.evaluation.metrics import chance_map

    if track.primary.name != "map":
        return None
    chance = chance_map(judgments)
    if any(v is None for v in chance.values()):
        return None
    low = [chance[lang] for lang in track.of_class("low") if lang in chance]
    high = [chance[lang] for lang in track.of_class("high") if lang in chance]
    out = {"languages": chance, "mean": mean(chance.values()), "low": mean(low), "high": mean(high)}
    out["gap"] = None if out["low"] is None or out["high"] is None else out["high"] - out["low"]
    return out


def _mark_no_signal(rows: list[dict], chance: dict | None) -> None:
    """Where a row's 95% interval covers what a random ranking reaches, its number says nothing about
    retrieval: `no_signal` lists those languages and means ("mean", "low", "high")."""
    for row in rows:
        row["no_signal"] = []
        if chance is None:
            continue
        cells = [(lang, v["ci"], chance["languages"].get(lang)) for lang, v in row["languages"].items()]
        cells += [(k, row["ci"][k] if k != "mean" else row["ci"]["mean"], chance[k]) for k in ("mean", "low", "high")]
        for key, ci, level in cells:
            if level is not None and ci and ci[0] is not None and ci[0] <= level <= ci[1]:
                row["no_signal"].append(key)


def _role(row: dict) -> str | None:
    """A reference system's role in the research question, from what the harness recorded."""
    if row["produced_by"] != "harness":
        return None
    recipe = row["system"].get("recipe")
    if recipe == "no-ot":
        return "control"
    if recipe:
        return "ot"
    return "zero-shot" if "encoder" in row["system"] else None


def _headlines(rows: list[dict], pair, *, rate: float) -> list[dict]:
    """One headline per training protocol of the track's trained reference systems: OT and its
    control are compared only within a protocol (two protocols are two experiments)."""
    protocols = sorted({r["protocol"] or "" for r in rows if _role(r) in ("control", "ot")}) or [""]
    return [h for p in protocols if (h := _headline(rows, pair, rate=rate, protocol=p or None))]


def _headline(rows: list[dict], pair, *, rate: float, protocol: str | None = None) -> dict | None:
    """What the track shows now: the best system, and the best OT system of `protocol` against that
    protocol's no-OT control and against zero-shot on the low mean and the gap (topic-level, Holm
    over those four tests)."""
    from clir_bench.evaluation.stats import holm

    # the rows of this experiment: untrained systems, participants, and the trained systems of `protocol`
    first = rows[0] if rows else None
    rows = [r for r in rows if r["protocol"] is None or r["protocol"] == protocol]
    if not rows:
        return None
    best = rows[0]
    if best is first:  # the board's #1: its groups say who ties with it
        tied = sum(1 for r in rows[1:] if r["group"] == "top")
    else:  # #1 of this protocol's rows only: the same test against it, Holm over them
        ps = [pair(r["name"], best["name"], {"mean"})["rows"][0]["p_t"] for r in rows[1:]]
        tied = sum(1 for p in holm(ps) if p is None or p >= ALPHA)
    out = {"rate": rate, "best": {k: best[k] for k in ("name", "mean", "low", "high", "gap")} | {"ci": best["ci"]},
           "tied_with_best": tied, "ot": None, "protocol": protocol}
    by_role: dict[str, list[dict]] = {}
    for row in rows:
        role = _role(row) or ""
        if role in ("control", "ot") and row["protocol"] != protocol:
            continue
        by_role.setdefault(role, []).append(row)
    if not by_role.get("ot"):
        return out
    ot = by_role["ot"][0]  # rows are ranked: the best OT system
    tests = []
    for role in ("control", "zero-shot"):
        if by_role.get(role):
            other = by_role[role][0]
            c = pair(ot["name"], other["name"], {"low mean", "gap"})
            tests += [{"against": other["name"], "role": role, **_test(r)} for r in c["rows"]]
    for test, p in zip(tests, holm([t["p_t"] for t in tests]), strict=True):
        test["p_holm"] = p
        test["significant"] = p is not None and p < ALPHA
    out["ot"] = {"name": ot["name"], "tests": tests}
    return out


def _finding(headlines: list[dict]) -> str | None:
    """A sentence per training protocol on OT against the no-OT control across the family's noise
    rates, from the tests, naming the protocol it speaks for."""
    protocols = dict.fromkeys(h.get("protocol") for h in headlines)
    said = [_finding_of([h for h in headlines if h.get("protocol") == p], p) for p in protocols]
    return " ".join(s for s in said if s) or None


def _finding_of(headlines: list[dict], protocol: str | None) -> str | None:
    tests = [(h, t) for h in headlines if h.get("ot") for t in h["ot"]["tests"] if t["role"] == "control"]
    if not tests:
        return None
    under = f"Under the {protocol} training protocol, " if protocol else ""
    rates = len({id(h) for h, _ in tests})
    wins = [(h, t) for h, t in tests if t["significant"]]
    mdds = [t["mdd"] for _, t in tests if t["mdd"] is not None]
    span = f"; the smallest difference these topics could detect is {min(mdds):.3f}–{max(mdds):.3f}" if mdds else ""
    if not wins:
        where = ("At the one noise rate with runs of both, the best OT system does not differ" if rates == 1 else
                 f"At none of the {rates} noise rates does the best OT system differ")
        where = where[0].lower() + where[1:] if under else where
        return (f"{under}{where} measurably from the no-OT "
                f"control on the low-resource mean or the gap (topic-level paired t-tests, Holm){span}. "
                + ("On one training seed per system, OT adds nothing measurable under this protocol."
                   if protocol else "On one training seed per system, OT adds nothing measurable here."))
    said = "; ".join(f"{t['statistic']} {t['diff']:+.3f} at rate {h['rate']:g}" for h, t in wins)
    the = "the" if under else "The"
    return (f"{under}{the} best OT system differs from the no-OT control in {len(wins)} of {len(tests)} tests "
            f"({said}; topic-level paired t-tests, Holm){span}.")


def _test(row: dict) -> dict:
    return {"statistic": row["group"], "diff": row["diff"], "ci": row["ci"], "p_t": row["p_t"], "mdd": row["mdd"],
            "n": row["n"]}


def _topics(track, judgments, reports: dict) -> list[dict]:
    """TREC-overview style, per topic (the statistics' unit): its queries with their text, the text of
    a most relevant document, and the best, median and worst submission by the primary metric averaged
    over the unit's queries (a query absent from a run scores 0)."""
    import statistics

    primary, units = track.primary.name, {}
    for lang, pair in track.data("test").items():
        for qid, text in pair.queries.items():
            if qid not in judgments.qrels:
                continue
            rel = judgments.qrels[qid]
            doc = max(sorted(rel), key=lambda d: rel[d]) if rel else None
            unit = units.setdefault(judgments.topic(qid), {"id": judgments.topic(qid), "queries": [],
                                                           "document": doc, "document_text": None})
            if unit["document_text"] is None and doc is not None:
                unit["document_text"] = str(pair.docs.get(doc, ""))[:600]
            unit["queries"].append({"qid": qid, "language": lang, "text": text[:300]})
    for unit in units.values():
        scored = sorted(((statistics.fmean(report.per_query.get(q["qid"], {}).get(primary, 0.0)
                                           for q in unit["queries"]), name)
                         for name, (_, report, _) in reports.items()), key=lambda x: (-x[0], x[1]))
        if scored:
            unit["best"] = {"name": scored[0][1], "value": scored[0][0]}
            unit["worst"] = {"name": scored[-1][1], "value": scored[-1][0]}
            unit["median"] = statistics.median(v for v, _ in scored)
    return sorted(units.values(), key=lambda u: u["id"])


def _invalid(b: Invalid) -> dict:
    return {"where": b.where, "reason": b.reason, "track": b.track, "name": b.name}


def _page(sub: Submission, report: ScoreReport, row: dict, track, prov: dict, comparisons: list[dict],
          judgments) -> dict:
    metrics = list(report.metrics)
    languages = [{"language": lang, "class": r.resource_class, "queries": r.queries, "missing": r.missing,
                  **{m: r.mean[m] for m in metrics}, "ci": list(r.ci)} for lang, r in report.languages.items()]
    queries = [{"qid": q, "language": judgments.lang_of[q], **values} for q, values in report.per_query.items()]
    return {"track": track.name, "name": sub.name, "meta": sub.meta, "row": row, "metrics": metrics,
            "primary": report.primary, "languages": languages, "summary": report.to_dict()["summary"],
            "queries": queries, "comparisons": comparisons, "warnings": list(report.warnings),
            "run_source": str(sub.run), "run_name": sub.run.name, "card": card(sub.meta),
            "settings": readable(sub.meta.get("system") or {}),
            "resources": sub.meta.get("resources"), "pretrained": sub.meta.get("pretrained"),
            "provenance": {**prov, "run_file": report.run.path, "run_file_sha256": report.run.sha256,
                           "bootstrap": report.provenance["bootstrap"]}}
