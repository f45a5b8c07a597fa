"""`clir-bench leaderboard build`: render the board as a static site.

Jinja2 with autoescaping everywhere (HTML and the inline SVG charts); names are slugs, so
every written path is OUT/<fixed part>/<track>/<slug>/..., and each is checked to stay
inside OUT. The site is built in a temporary folder beside OUT and swapped in whole, so a
failed build leaves the previous site as it was. OUT/_cache keeps score reports for the
next build. No external resource is referenced: the site works from disk, offline.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import atomic_dir, check_output_folder
from clir_bench.core.parallel import pmap
from clir_bench.evaluation.stats import format_p
from clir_bench.leaderboard import charts
from clir_bench.leaderboard.data import Board, Cache, collect

MARKER = ".clir-bench-leaderboard"
CACHE = Path("_cache") / "scores"
STATIC = ("site.css", "sort.js", "filter.js", "favicon.svg")
MAX_LINES = 12  # series drawn per chart; the rest are in the chart's CSV
ZOOM_BAND = 0.1  # the zoomed mean chart draws the systems whose best mean is within this of the best
RUN_COPY_LIMIT = 16 << 20  # run files up to this size are downloadable from their page
COMPARE_COLUMNS = ["against", "group", "unit", "n", "a", "b", "diff", "ci_low", "ci_high", "sd", "t", "p_t",
                   "p_t_holm", "p_randomisation", "p_randomisation_holm", "significant", "mdd"]


def changelog() -> list[dict]:
    """The entries of the package's CHANGELOG.md (`- **what**: change` under `## section` headings)."""
    from importlib import resources

    text = resources.files("clir_bench").joinpath("CHANGELOG.md").read_text("utf-8")
    out, section = [], ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif m := re.match(r"- \*\*(.+?)\*\*: (.+)", line):
            out.append({"section": section, "what": m[1], "change": m[2]})
    return out


def repository_url() -> str | None:
    """The hosting repository the site links to: the installed package's `Repository` project URL
    (`[project.urls]` in pyproject.toml), or None where none is set."""
    from importlib import metadata

    try:
        urls = metadata.metadata("clir-bench").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    return next((u.split(",", 1)[1].strip() for u in urls if u.split(",", 1)[0].strip().lower() == "repository"),
                None)


def check_repository(url: str | None) -> str | None:
    """An https URL for the site's repository link, or a clear error."""
    if url is None or url == "":
        return None
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s\"'<>]*)?", url):
        raise ClirBenchError(f"--repository {url!r} is not an https:// URL; give the hosting repository's web "
                             "address, e.g. https://github.com/OWNER/clir-bench")
    return url


@functools.lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("clir_bench.leaderboard", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["ci"] = _ci
    env.filters["sortkey"] = _sortkey
    env.filters["signed"] = lambda x: "–" if x is None else f"{x:+.3f}"
    env.filters["pval"] = lambda p: "–" if p is None else format_p(p).replace("<", "< ")
    env.globals["marker_path"] = charts.marker_path
    env.globals["query_rows"] = query_rows
    env.globals["bar_marks"] = bar_marks
    return env


def _num(x, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _sortkey(x) -> str:
    return "" if x is None else repr(float(x))


def query_rows(p: dict) -> str:
    """The per-query table's rows of a submission's page, written here rather than by the template: it
    is the site's largest table (every judged query of every submission), and the same markup with
    every text escaped costs a fifth of the template's time."""
    from markupsafe import Markup, escape

    track, rows = escape(p["track"]), []
    for q in p["queries"]:
        qid = escape(q["qid"])
        cells = "".join(f'<td data-sort="{_sortkey(q[m])}">{_num(q[m])}</td>' for m in p["metrics"])
        rows.append(f'<tr><td class="text"><a href="../../../topics/{track}.html#q-{qid}" title="its text and its '
                    f'topic\'s relevant document">{qid}</a></td><td class="text">{escape(q["language"])}</td>'
                    f'{cells}</tr>')
    return Markup("\n".join(rows))


def bar_marks(bars: dict) -> str:
    """The rectangles of a per-query difference chart (`charts.difference_bars`), one per judged query
    and up to four charts a page: written here for the same reason as `query_rows`."""
    from markupsafe import Markup, escape

    return Markup("".join(f'<rect class="bar-{b["sign"]}" x="{b["x"]}" y="{b["y"]}" width="{b["w"]}" '
                          f'height="{b["h"]}"><title>{escape(b["label"])}: {b["value"]:+.3f}</title></rect>'
                          for b in bars["bars"]))


def _ci(ci) -> str:
    if not ci or ci[0] is None:
        return ""
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


class Writer:
    """Writes text files inside one folder, refusing any path that would leave it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.count = 0

    def text(self, rel: str, text: str) -> None:
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root):
            raise ClirBenchError(f"refusing to write {rel!r}: it leaves the output folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        self.count += 1

    def copy(self, rel: str, source: Path, *, limit: int) -> str | None:
        """Copy a file into the site (None where it is larger than `limit` bytes); its path from the root."""
        if source.stat().st_size > limit:
            return None
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root):
            raise ClirBenchError(f"refusing to write {rel!r}: it leaves the output folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        self.count += 1
        return rel

    def table(self, rel_stem: str, columns: list[str], rows: list[dict], *, about: dict) -> dict:
        """CSV and JSON of one table; returns their paths (from the site's root) for the page's links.

        The JSON describes itself: {"about": what the table is, its track, version and provenance;
        "columns"; "rows"}. The CSV holds the same rows, intervals in their own columns."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([_csv_cell(row.get(c)) for c in columns])
        self.text(f"{rel_stem}.csv", buf.getvalue())
        self.text(f"{rel_stem}.json", _table_json(about, columns, rows))
        return {"csv": f"{rel_stem}.csv", "json": f"{rel_stem}.json"}


def _table_json(about: dict, columns: list[str], rows: list[dict]) -> str:
    """{"about", "columns", "rows"} with one row a line: as readable as an indented file, and written by
    json's C encoder (an indented dump runs the pure-Python one, a fifth of a board's render time)."""
    def dump(x) -> str:
        return json.dumps(x, ensure_ascii=False, allow_nan=False)

    listed = "[\n" + ",\n".join(dump(row) for row in rows) + "\n]" if rows else "[]"
    return f'{{"about": {dump(about)},\n"columns": {dump(columns)},\n"rows": {listed}}}\n'


def _csv_cell(value):
    """Numbers as they are; text that a spreadsheet would run as a formula is quoted with a '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _track_rows(t: dict) -> tuple[list[str], list[dict]]:
    langs = [lang["code"] for lang in t["languages"]]
    columns = ["order", "name", "group", "p_vs_top_holm", "team", "produced_by"]
    for lang in langs:
        columns += [lang, f"{lang}_ci_low", f"{lang}_ci_high"]
    for k in ("mean", "low", "high", "gap", "relative_gap"):
        columns += [k, f"{k}_ci_low", f"{k}_ci_high"]
    columns += ["date", "url", "run_sha256"]
    rows = []
    for r in t["rows"]:
        row = {k: r[k] for k in ("name", "group", "team", "produced_by", "mean", "low", "high", "gap",
                                 "relative_gap", "date", "url", "run_sha256")}
        row["order"] = r["rank"]
        row["p_vs_top_holm"] = r["vs_top"]["p_holm"] if r["vs_top"] else None
        for lang in langs:
            v = r["languages"].get(lang, {"value": None, "ci": [None, None]})
            row.update({lang: v["value"], f"{lang}_ci_low": v["ci"][0], f"{lang}_ci_high": v["ci"][1]})
        for k in ("mean", "low", "high", "gap", "relative_gap"):
            ci = r["ci"].get(k) or [None, None]
            row.update({f"{k}_ci_low": ci[0], f"{k}_ci_high": ci[1]})
        rows.append(row)
    return columns, rows


def _family_view(f: dict) -> dict:
    """Charts and heatmaps of one family of tracks (same collection and languages, noise rates vary)."""
    shown = f["systems"][:MAX_LINES]
    x_label = f"{f['noise_kind']} noise rate"
    metric = f"{f['metric_label']}, mean over languages"
    chance = f.get("chance")
    mean = charts.line_chart(shown, x_key="rate", y_key="mean", ci_key="mean_ci", x_label=x_label, y_label=metric,
                             baseline=chance, baseline_label=f"chance ({chance:.3f})" if chance is not None else None)
    # the systems near the top, zoomed: on the full axis near-chance systems squash them into one band
    tops = [max(p["mean"] for p in s["points"] if p["mean"] is not None) for s in shown if s["points"]]
    near = [s for s, t in zip(shown, tops, strict=False) if t >= max(tops, default=0) - ZOOM_BAND]
    zoom = (charts.line_chart(near, x_key="rate", y_key="mean", ci_key="mean_ci", x_label=x_label, y_label=metric)
            if 1 < len(near) < len(shown) else None)
    gap = charts.line_chart(shown, x_key="rate", y_key="gap", ci_key="gap_ci", x_label=x_label,
                            y_label=f"gap (high − low {f['metric_label']})", include_zero=True)
    low = [lang["code"] for lang in f["languages"] if lang["class"] == "low"]
    langs = low + [lang["code"] for lang in f["languages"] if lang["class"] != "low"]
    rates = [f"{t['rate']:g}" for t in f["tracks"]]
    values = {s["name"]: {(lang, f"{p['rate']:g}"): p["languages"].get(lang) for p in s["points"] for lang in langs}
              for s in f["systems"]}
    changes = [abs(v - vals.get((lang, rates[0])))
               for vals in values.values() for (lang, _), v in vals.items()
               if v is not None and vals.get((lang, rates[0])) is not None]
    span = max([0.05, *changes])  # one scale for every system of the family
    heat, by_name = [], {s["name"]: s for s in f["systems"]}
    for s in f["systems"]:
        s["by_track"] = {p["track"]: p for p in s["points"]}
        heat.append({"name": s["name"], "produced_by": s["produced_by"], "kind": s["kind"],
                     "map": charts.change_heatmap(langs, rates, values[s["name"]], span=span,
                                                  divider_after=len(low) - 1 if 0 < len(low) < len(langs) else None,
                                                  tests=s.get("changes"))})
    single = [h["name"] for h in heat if len(by_name[h["name"]]["points"]) < 2]  # nothing to show a change of
    heat = [h for h in heat if h["name"] not in single]
    return {**f, "mean_chart": mean, "zoom_chart": zoom, "zoom_band": ZOOM_BAND, "gap_chart": gap, "heatmaps": heat,
            "single_rate": single, "hidden": len(f["systems"]) - len(shown),
            "legend": [{"name": s["name"], **charts.style(i)} for i, s in enumerate(shown)], "span": span,
            "detection_charts": _detection_charts(f, x_label)}


def _detection_charts(f: dict, x_label: str) -> list[dict]:
    """Per drawn signal, the trained students' AUC against the rate, 0.5 (chance) marked."""
    out = []
    for signal in f["detection"]["signals"]:
        series = [{"name": r["system"], "points": [{"rate": rate, "auc": v["trained"]["auc"],
                                                    "auc_ci": v["trained"]["auc_ci"]}
                                                   for rate, v in sorted(r["by_rate"].items()) if "trained" in v]}
                  for r in f["detection"]["rows"] if r["signal"] == signal][:MAX_LINES]
        lows = [p["auc_ci"][0] for s in series for p in s["points"] if p.get("auc_ci")]
        far = bool(lows) and min(lows) > 0.8  # every detector far above chance: zoom to where they differ
        out.append({"signal": signal, "chance_off_axis": far, "chart": charts.line_chart(
            series, x_key="rate", y_key="auc", ci_key="auc_ci", x_label=x_label,
            y_label=f"AUC of {signal.replace('_', ' ')}", baseline=None if far else 0.5,
            baseline_label=None if far else "chance (0.5)")})
    return out


def _about(provenance: dict, track: dict | None, what: str, extra: dict | None = None) -> dict:
    """What a download holds and what made it: the table, its track and version, the board's and the
    track's provenance."""
    about = {"table": what, **provenance}
    if track is not None:
        about.update(track=track["name"], track_version=track["version"], provenance=track["provenance"])
    if extra:
        about["submission_provenance"] = extra
    return about


def render(board: Board, w: Writer, *, repository: str | None = None, workers: int = 1) -> None:
    env = _env()
    prov = board.provenance
    from importlib import resources

    for name in STATIC:
        w.text(f"static/{name}", resources.files("clir_bench.leaderboard").joinpath("static", name).read_text("utf-8"))
    common = {"provenance": board.provenance, "tracks": board.tracks, "repository": repository}
    downloads = {}
    for t in board.tracks:
        t["scatter"] = charts.low_high_scatter(
            [{"name": r["name"], "low": r["low"], "high": r["high"], "group": r["group"]} for r in t["rows"]],
            chance=t["chance"])
        columns, rows = _track_rows(t)
        downloads[t["name"]] = w.table(f"data/{t['name']}", columns, rows, about=_about(
            prov, t, f"{t['name']}: {t['metric_label']} per submission with 95% intervals; group: significantly below "
                      "#1 or not (topic-level paired t-test on the mean over languages, Holm over the rows)"))
    invalid = w.table("data/invalid", ["where", "track", "name", "reason"], board.invalid,
                      about=_about(prov, None, "store entries that could not be scored, and why"))

    families = []
    for f in board.families:
        view = _family_view(f)
        points = [{"system": s["name"], "produced_by": s["produced_by"], "track": p["track"], "rate": p["rate"],
                   "mean": p["mean"], "mean_ci_low": p["mean_ci"][0], "mean_ci_high": p["mean_ci"][1],
                   "low": p["low"], "high": p["high"], "gap": p["gap"], "gap_ci_low": (p["gap_ci"] or [None])[0],
                   "gap_ci_high": (p["gap_ci"] or [None, None])[1]}
                  for s in f["systems"] for p in s["points"]]
        view["downloads"] = w.table(f"data/{f['id']}", ["system", "produced_by", "track", "rate", "mean",
                                                         "mean_ci_low", "mean_ci_high", "low", "high", "gap",
                                                         "gap_ci_low", "gap_ci_high"], points,
                                    about=_about(prov, None, f"{f['metric_label']} mean and gap per system and noise "
                                                 f"rate, 95% topic-level intervals; tracks "
                                                 f"{', '.join(x['name'] for x in f['tracks'])}"))
        per_lang = [{"system": s["name"], "track": p["track"], "rate": p["rate"], "language": lang, "value": v}
                    for s in f["systems"] for p in s["points"] for lang, v in p["languages"].items()]
        view["heat_downloads"] = w.table(f"data/{f['id']}-languages",
                                         ["system", "track", "rate", "language", "value"], per_lang,
                                         about=_about(prov, None, f"{f['metric_label']} per system, language and "
                                                      "noise rate (the heatmaps' values)"))
        view["detection_downloads"] = w.table(
            f"data/{f['id']}-detection", ["system", "signal", "model", "rate", "auc", "auc_ci_low", "auc_ci_high"],
            [{"system": r["system"], "signal": r["signal"], "model": model, "rate": rate, "auc": v["auc"],
              "auc_ci_low": v["auc_ci"][0], "auc_ci_high": v["auc_ci"][1]}
             for r in f["detection"]["rows"] for rate, by in sorted(r["by_rate"].items()) for model, v in by.items()],
            about=_about(prov, None, "ROC AUC of each per-pair signal as a detector of the corrupted training pairs, "
                                      "all pairs of every fold, 95% bootstrap intervals over pairs (clir-bench "
                                      "diagnose)"))
        view["detection_test_downloads"] = w.table(
            f"data/{f['id']}-detection-tests", ["rate", "a", "a_signal", "b", "b_signal", "diff", "diff_ci_low",
                                                "diff_ci_high", "p", "p_holm"],
            [{**{k: c[k] for k in ("rate", "a", "a_signal", "b", "b_signal", "diff", "p", "p_holm")},
              "diff_ci_low": c["diff_ci"][0], "diff_ci_high": c["diff_ci"][1]} for c in f["detection"]["comparisons"]],
            about=_about(prov, None, "paired differences of detection AUC between trained students on the same "
                                      "training pairs (paired bootstrap, 95% intervals, Holm over each rate's tests)"))
        families.append(view)
    w.text("index.html", env.get_template("index.html").render(
        root="", page="index", downloads=downloads, invalid=board.invalid, invalid_downloads=invalid, families=families,
        **common))
    w.text("noise.html", env.get_template("noise.html").render(root="", page="noise", families=families,
                                                               stops=charts.diverging_stops(), **common))

    other_rates = {}  # (track, system) -> the same system on the family's other tracks
    for f in board.families:
        for s in f["systems"]:
            for point in s["points"]:
                other_rates[(point["track"], s["name"])] = [
                    {"track": q["track"], "rate": q["rate"]} for q in s["points"] if q["track"] != point["track"]]
    w.text("submit.html", env.get_template("submit.html").render(root="", page="submit", changes=changelog(),
                                                                  **common))
    for p in board.pages:
        p["other_rates"] = other_rates.get((p["track"], p["name"]), [])
    # pages are independent: written by as many processes as there are cores (each its own Writer), sent
    # only what a page shows of the tracks
    slim = {**common, "tracks": [{k: t[k] for k in ("name", "version", "provenance")} for t in board.tracks]}
    w.count += sum(pmap(functools.partial(_write_page, root=str(w.root), common=slim), board.pages,
                        workers=workers, cost=lambda p: len(p["queries"])))
    topics_t = env.get_template("topics.html")
    for t in board.tracks:
        if not t["topics"]:
            continue
        rows = [{"topic": u["id"], "queries": len(u["queries"]), "best": u["best"]["name"],
                 "best_value": u["best"]["value"], "median": u["median"], "worst": u["worst"]["name"],
                 "worst_value": u["worst"]["value"]} for u in t["topics"] if "best" in u]
        files = w.table(f"topics/{t['name']}", list(rows[0]) if rows else ["topic"], rows, about=_about(
            prov, t, f"{t['name']}: per topic the best, median and worst submission by mean {t['metric_label']} "
                      "over the topic's queries"))
        w.text(f"topics/{t['name']}.html", topics_t.render(root="../", page="topics", t=t, files=files, **common))
    internal = ("topics", "scatter", "per_query")  # pages and drawings of their own, not the board's data
    w.text("site.json", json.dumps({"provenance": board.provenance,
                                    "tracks": [{k: v for k, v in t.items() if k not in internal} for t in board.tracks],
                                    "invalid": board.invalid}, indent=1, ensure_ascii=False, allow_nan=False) + "\n")


def _write_page(p: dict, *, root: str, common: dict) -> int:
    """One submission's page and its downloads (tables, metadata, run file); the files written."""
    w = Writer(Path(root))
    track = next(t for t in common["tracks"] if t["name"] == p["track"])
    prov = common["provenance"]
    base = f"s/{p['track']}/{p['name']}"
    lang_cols = ["language", "class", "queries", "missing", *p["metrics"], "ci_low", "ci_high"]
    lang_rows = [{**{k: v for k, v in r.items() if k != "ci"}, "ci_low": r["ci"][0], "ci_high": r["ci"][1]}
                 for r in p["languages"]]
    files = {"languages": w.table(f"{base}/languages", lang_cols, lang_rows, about=_about(
                 prov, track, f"{p['name']}: every metric per language; ci: 95% interval of the primary",
                 p["provenance"])),
             "queries": w.table(f"{base}/queries", ["qid", "language", *p["metrics"]], p["queries"], about=_about(
                 prov, track, f"{p['name']}: every metric per judged query (absent queries score 0)",
                 p["provenance"]))}
    for i, c in enumerate(p["comparisons"]):
        c["bars"] = charts.difference_bars(c.pop("per_query_diff"))
        c["files"] = w.table(f"{base}/compare-{i + 1}", COMPARE_COLUMNS,
                             [{**row, "ci_low": row["ci"][0], "ci_high": row["ci"][1], "against": c["against"]}
                              for row in c["rows"]],
                             about=_about(prov, track, f"{p['name']} − {c['against']}: {c['tests']}",
                                          p["provenance"]))
    files["run"] = w.copy(f"{base}/{p['run_name']}", Path(p["run_source"]), limit=RUN_COPY_LIMIT)
    w.text(f"{base}/metadata.json", json.dumps(p["meta"], indent=1, ensure_ascii=False) + "\n")
    w.text(f"{base}/index.html", _env().get_template("submission.html").render(
        root="../../../", page="submission", p=p, files=files, **common))
    return w.count


def _check_folders(submissions: Path, out: Path) -> None:
    s, o = Path(submissions).resolve(), Path(out).resolve()
    if s == o or s.is_relative_to(o) or o.is_relative_to(s):
        raise ClirBenchError(f"--out {out} and the submissions folder {submissions} overlap; choose an --out "
                             "outside it (e.g. build/leaderboard)")
    check_output_folder(Path(out), ours=lambda p: (p / MARKER).is_file(), what="a leaderboard built by clir-bench")


def build(*, submissions: Path, out: Path, resamples: int = 10_000,
          progress: Callable[[str], None] | None = None, repository: str | None = None,
          workers: int | None = None) -> dict:
    """Score every submission (reusing OUT/_cache) and write the site to OUT; a summary of the build.
    `repository`: the hosting repository the site links to (default: the package's project URL);
    `workers`: processes that score the runs the cache lacks (default: the CPU count)."""
    import os

    workers = workers or os.cpu_count() or 1
    repository = check_repository(repository) if repository is not None else repository_url()
    _check_folders(submissions, out)
    old = Path(out) / CACHE
    with atomic_dir(Path(out), force=True) as tmp:
        cache = Cache(old if old.is_dir() else None, tmp / CACHE)
        board = collect(root=Path(submissions), cache=cache, resamples=resamples, progress=progress,
                        workers=workers)
        w = Writer(tmp)
        render(board, w, repository=repository, workers=workers)
        w.text(MARKER, json.dumps(board.provenance) + "\n")
    return {"tracks": len(board.tracks), "submissions": len(board.pages), "invalid": len(board.invalid),
            "files": w.count, "cache_hits": cache.hits, "scored": cache.misses}
