"""Typed score reports: what `score` returns, what the pipeline, leaderboard and CLI read.

One JSON form, `ScoreReport.to_dict()` (the document `clir-bench score --json` writes), and
its inverse `ScoreReport.from_dict()`. Intervals are `(low, high)` pairs; a value that
cannot be formed (a relative gap whose high mean is 0, an interval of no queries) is None,
never NaN, so every report is valid JSON. Two reports compare equal when their scores,
intervals and provenance are equal, whatever file (or mapping) the run came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

Interval = tuple[float | None, float | None]
FORMAT = 4  # bumped whenever the same run would be reported differently (2: topic-level intervals; 3: units
# that share their best documents resampled as one; 4: compare's robustness tests on its topic-level rows only)
CLASS_STATISTICS = ("high", "low", "gap", "relative_gap")


def clean(x: float | None) -> float | None:
    """NaN (a value that cannot be formed) as None."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def interval(pair) -> Interval:
    lo, hi = pair if pair is not None else (None, None)
    return clean(lo), clean(hi)


@dataclass(frozen=True)
class RunInfo:
    """The run that was scored: where it came from (a path, or `<mapping>`), its sha256, counts, tags."""

    path: str
    sha256: str
    lines: int
    records: int
    queries: int
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageScore:
    """One language: its resource class, judged queries (and how many the run lacks), the mean
    of every metric over those queries, and the primary metric's interval."""

    language: str
    resource_class: str | None  # "high" | "low"; None without a track
    queries: int
    missing: int
    mean: dict[str, float | None]
    ci: Interval


@dataclass(frozen=True)
class ClassMeans:
    """Macro means over the languages of each class; gap = high - low; relative gap = gap / high."""

    high: float
    low: float
    gap: float
    relative_gap: float | None


@dataclass(frozen=True)
class Summary:
    """Per metric, the class means and the gap; `ci`: the primary metric's intervals of the four."""

    by_metric: dict[str, ClassMeans]
    ci: dict[str, Interval]


@dataclass(frozen=True)
class ScoreReport:
    metrics: tuple[str, ...]
    primary: str
    languages: dict[str, LanguageScore]
    summary: Summary | None  # None where the track has one resource class (or there is no track)
    per_query: dict[str, dict[str, float]]
    provenance: dict
    scored_against: str
    run: RunInfo = field(compare=False)
    mean_ci: Interval = (None, None)  # of `macro_mean`: topics resampled as for the class means
    warnings: tuple[str, ...] = field(default=(), compare=False)
    system: dict | None = field(default=None, compare=False)  # what made the run, where the pipeline knows

    def mean(self, language: str, metric: str | None = None) -> float | None:
        return self.languages[language].mean[metric or self.primary]

    @property
    def macro_mean(self) -> float | None:
        """The primary metric's mean over every language (each language weighs the same)."""
        values = [row.mean[self.primary] for row in self.languages.values() if row.mean[self.primary] is not None]
        return sum(values) / len(values) if values else None

    def with_run_path(self, path: str) -> ScoreReport:
        """The same report naming its run `path` (its warnings too)."""
        old = self.run.path
        return replace(self, run=replace(self.run, path=path),
                       warnings=tuple(w.replace(old, path) for w in self.warnings))

    def to_dict(self) -> dict:
        out = {
            "run": {"path": self.run.path, "sha256": self.run.sha256, "lines": self.run.lines,
                    "records": self.run.records, "queries": self.run.queries, "tags": list(self.run.tags)},
            "scored_against": self.scored_against,
            "metrics": list(self.metrics),
            "primary": self.primary,
            "languages": {lang: {"class": r.resource_class, "queries": r.queries, "missing": r.missing,
                                 "mean": dict(r.mean), "ci": list(r.ci)} for lang, r in self.languages.items()},
            "summary": None,
            "macro_mean": {"value": self.macro_mean, "ci": list(self.mean_ci)},
            "warnings": list(self.warnings),
            "per_query": self.per_query,
            "provenance": self.provenance,
        }
        if self.summary is not None:
            out["summary"] = {m: {k: getattr(c, k) for k in CLASS_STATISTICS}
                              for m, c in self.summary.by_metric.items()}
            out["summary"]["ci"] = {k: list(v) for k, v in self.summary.ci.items()}
        if self.system is not None:
            out["system"] = self.system
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ScoreReport:
        summary = None
        if d.get("summary"):
            s = dict(d["summary"])
            ci = s.pop("ci")
            summary = Summary({m: ClassMeans(**v) for m, v in s.items()}, {k: interval(v) for k, v in ci.items()})
        run = d["run"]
        return cls(
            metrics=tuple(d["metrics"]), primary=d["primary"],
            languages={lang: LanguageScore(lang, r["class"], r["queries"], r["missing"], dict(r["mean"]),
                                           interval(r["ci"])) for lang, r in d["languages"].items()},
            summary=summary, per_query=d["per_query"], provenance=d["provenance"], scored_against=d["scored_against"],
            mean_ci=interval((d.get("macro_mean") or {}).get("ci")),
            run=RunInfo(run["path"], run["sha256"], run["lines"], run["records"], run["queries"], tuple(run["tags"])),
            warnings=tuple(d["warnings"]), system=d.get("system"))
