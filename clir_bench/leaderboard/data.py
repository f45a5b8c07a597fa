"""The leaderboard's data: every submission scored (with a cache), ranked per track, compared.

Everything here is plain JSON-ready data; `clir_bench.leaderboard.render` renders it. A submission is
scored exactly as `clir-bench score` scores it (`scoring.score_run`); the score cache is
keyed by the sha256 of the run's content, the qrels, the metrics, the bootstrap settings and
the harness and pytrec_eval versions, so a score is reused only where it would come out the
same. Rank is by the macro mean of the primary metric over all the track's languages.
Significance: paired t-tests per language and over all queries against the best reference
(harness-produced) system of the track, Holm-corrected over those tests (`clir_bench.evaluation.stats`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import content_sha256
from clir_bench.core.languages import LANGUAGES
from clir_bench.evaluation.report import FORMAT, ScoreReport
from clir_bench.leaderboard.store import Invalid, Submission, discover

ALPHA = 0.05
SEED = 0


@dataclass
class Cache:
    """Score reports by key: read from an earlier build's folder, written to this build's."""

    read_from: Path | None
    write_to: Path
    hits: int = 0
    misses: int = 0

    def get(self, key: str) -> dict | None:
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


def _score(sub: Submission, judgments, cache: Cache, resamples: int) -> dict:
    """{'report': ScoreReport} or {'invalid': reason}, and 'sha256'; from the cache where the key matches.

    Cached entries name the run by its file name only; the submission's folder is added here.
    """
    from clir_bench.evaluation.scoring import InvalidRun, score_run

    sha = content_sha256(sub.run)
    key = score_key(sha, judgments, resamples)
    entry = cache.get(key)
    if entry is None:
        cache.misses += 1
        name = sub.run.name
        try:
            report = score_run(sub.run, judgments, resamples=resamples, seed=SEED, workers=1)
            entry = {"report": report.with_run_path(name).to_dict()}  # never this machine's path
        except InvalidRun as e:
            entry = {"invalid": "; ".join(e.scan.errors.lines(name)[:5])}
        except ClirBenchError as e:
            entry = {"invalid": str(e).replace(str(sub.run), name)}
    else:
        cache.hits += 1
    cache.put(key, entry)
    if "report" in entry:
        return {"report": ScoreReport.from_dict(entry["report"]).with_run_path(f"{sub.where}/{sub.run.name}"),
                "sha256": sha}
    return {**entry, "sha256": sha}


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _row(sub: Submission, report: ScoreReport) -> dict:
    primary = report.primary
    langs = {lang: {"value": row.mean[primary], "ci": list(row.ci)} for lang, row in report.languages.items()}
    summary = report.to_dict()["summary"] or {}
    s, ci = summary.get(primary, {}), summary.get("ci", {})
    return {
        "name": sub.name, "team": sub.meta["team"], "produced_by": sub.meta["produced_by"],
        "url": sub.meta["url"], "date": sub.meta["date"], "href": f"s/{sub.track}/{sub.name}/index.html",
        "languages": langs, "mean": _mean(v["value"] for v in langs.values()),
        "low": s.get("low"), "high": s.get("high"), "gap": s.get("gap"), "relative_gap": s.get("relative_gap"),
        "ci": {k: ci.get(k) for k in ("low", "high", "gap", "relative_gap")},
        "run_sha256": report.run.sha256, "warnings": len(report.warnings),
    }


def _rank(rows: list[dict]) -> None:
    """Competition ranking (1, 2, 2, 4) by the macro mean, descending; names break display ties."""
    rows.sort(key=lambda r: (-(r["mean"] if r["mean"] is not None else -1), r["name"]))
    for i, row in enumerate(rows):
        same = i and rows[i - 1]["mean"] == row["mean"]
        row["rank"] = rows[i - 1]["rank"] if same else i + 1


def _significance(report: ScoreReport, best: ScoreReport | None, best_name: str | None, judgments) -> dict | None:
    """Paired t-tests against the best reference system, per language and over all queries; Holm."""
    from clir_bench.evaluation.stats import holm, paired_t

    if best is None:
        return None
    primary = report.primary
    groups = {lang: [q for q in judgments.qrels if judgments.lang_of[q] == lang] for lang in report.languages}
    groups["all queries"] = list(judgments.qrels)
    tests = []
    for label, qids in groups.items():
        a = [report.per_query[q][primary] for q in qids]
        b = [best.per_query[q][primary] for q in qids]
        tests.append({"group": label, **paired_t(a, b)})
    for test, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        test["p_holm"] = adjusted
        test["significant"] = adjusted is not None and adjusted < ALPHA
    return {"against": best_name, "metric": primary, "test": "two-sided paired t-test", "correction": "Holm",
            "alpha": ALPHA, "tests": tests}


def _family_key(track) -> tuple:
    return (track.collection.describe(), tuple(track.languages.items()), track.noise.kind, track.primary.name)


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
                                                        "points": []})
                sysd["points"].append({"track": t["name"], "rate": t["noise_rate"], "mean": row["mean"],
                                       "low": row["low"], "high": row["high"], "gap": row["gap"],
                                       "languages": {k: v["value"] for k, v in row["languages"].items()}})
        ordered = sorted(systems.values(), key=lambda s: (s["produced_by"] != "harness",
                                                          -(_mean(p["mean"] for p in s["points"]) or 0), s["name"]))
        families.append({
            "id": f"family-{len(families) + 1}", "collection": key[0], "noise_kind": key[2], "metric": key[3],
            "metric_label": track.primary.label, "languages": members[0]["languages"],
            "tracks": [{"name": t["name"], "rate": t["noise_rate"]} for t in members], "systems": ordered,
        })
    return families


def collect(*, root: Path, cache: Cache, resamples: int = 10_000,
            progress: Callable[[str], None] | None = None) -> Board:
    """Discover, validate and score every submission under ROOT; rank, compare and group them."""
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.tracks.track import builtin

    subs, bad = discover(root)
    invalid = [_invalid(b) for b in bad]
    by_track = {name: t for name, t in builtin().items()}
    tracks = []
    pages = []
    for name, track in by_track.items():
        mine = [s for s in subs if s.track == name]
        if not mine and not any(b["track"] == name for b in invalid):
            continue
        j = from_track(track)
        rows, reports = [], {}
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
        _rank(rows)
        refs = [r for r in rows if r["produced_by"] == "harness"]
        best = refs[0]["name"] if refs else None
        languages = [{"code": lang, "name": LANGUAGES.get(lang).name if lang in LANGUAGES else lang, "class": cls}
                     for lang, cls in track.languages.items()]
        prov = {k: j.provenance[k] for k in ("track_version", "collection", "qrels_sha256", "bitext_sha256",
                                              "noise", "seed")}
        prov["track_sha256"] = hashlib.sha256(track.source.encode()).hexdigest()
        tracks.append({"name": name, "version": track.version, "description": track.description,
                       "noise_rate": track.noise.rate, "metric": track.primary.name,
                       "metric_label": track.primary.label, "languages": languages, "rows": rows,
                       "best_reference": best, "provenance": prov,
                       "invalid": [b for b in invalid if b["track"] == name]})
        for row in rows:
            sub, report, sha = reports[row["name"]]
            other = best if best != row["name"] else (refs[1]["name"] if len(refs) > 1 else None)
            significance = _significance(report, reports[other][1] if other else None, other, j)
            page = _page(sub, report, row, track, {**prov, "run_content_sha256": sha}, significance, j)
            pages.append({**page, "best_reference": best, "metric_label": track.primary.label})
    invalid_elsewhere = [b for b in invalid if b["track"] not in {t["name"] for t in tracks}]
    return Board(tracks=tracks, families=_families(tracks, by_track), pages=pages,
                 invalid=invalid_elsewhere + [b for t in tracks for b in t["invalid"]],
                 provenance={**_versions(), "submissions": len(subs), "invalid": len(invalid)})


def _invalid(b: Invalid) -> dict:
    return {"where": b.where, "reason": b.reason, "track": b.track, "name": b.name}


def _page(sub: Submission, report: dict, row: dict, track, prov: dict, significance: dict | None,
          judgments) -> dict:
    metrics = list(report.metrics)
    languages = [{"language": lang, "class": r.resource_class, "queries": r.queries, "missing": r.missing,
                  **{m: r.mean[m] for m in metrics}, "ci": list(r.ci)} for lang, r in report.languages.items()]
    queries = [{"qid": q, "language": judgments.lang_of[q], **values} for q, values in report.per_query.items()]
    return {"track": track.name, "name": sub.name, "meta": sub.meta, "row": row, "metrics": metrics,
            "primary": report.primary, "languages": languages, "summary": report.to_dict()["summary"],
            "queries": queries, "significance": significance, "warnings": list(report.warnings),
            "provenance": {**prov, "run_file": report.run.path, "run_file_sha256": report.run.sha256,
                           "bootstrap": report.provenance["bootstrap"]}}
