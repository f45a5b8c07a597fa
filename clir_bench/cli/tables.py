"""The rich tables the commands print (reports, comparisons, runs, diagnoses)."""

from __future__ import annotations


def fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def ci_text(ci) -> str:
    lo, hi = ci
    return "" if lo is None else f" [{lo:.3f}, {hi:.3f}]"


def mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def score_table(report):
    from rich import box
    from rich.table import Table

    from clir_bench.evaluation.stats import mean

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
        cells = [fmt(row.mean[m]) + (ci_text(row.ci) if m == primary else "") for m in metrics]
        table.add_row(lang, row.resource_class or "", f"{row.queries}" + (f" ({row.missing} absent)"
                      if row.missing else ""), *cells)
    table.add_section()
    means = [mean(row.mean[m] for row in report.languages.values()) for m in metrics]
    table.add_row("mean over languages", "", "", *[fmt(v) + (ci_text(report.mean_ci) if m == primary else "")
                                                   for m, v in zip(metrics, means, strict=True)],
                  style="bold")  # what the leaderboard ranks by
    summary = report.summary
    if summary:
        for which, label in (("high", "high mean"), ("low", "low mean"), ("gap", "gap = high - low"),
                             ("relative_gap", "relative gap")):
            cells = [fmt(getattr(summary.by_metric[m], which)) + (ci_text(summary.ci[which]) if m == primary else "")
                     for m in metrics]
            table.add_row(label, "", "", *cells, style="bold" if which == "gap" else None)
    return table


def comparison_table(result):
    from rich import box
    from rich.table import Table

    from clir_bench.evaluation.stats import format_p

    table = Table(title=f"{result.a} - {result.b}: {result.metric}", box=box.SIMPLE_HEAD,
                  caption=f"paired t and randomisation p, Holm over the rows (* below {result.alpha}); MDD and units "
                          f"needed at alpha {result.alpha}, power {result.power}. One estimand per row: a "
                          "language, the mean over its queries of A - B; mean, low, high and gap (t = topics), "
                          "the mean over topics of A - B, a topic's value the mean over its languages (topics "
                          "that share their best documents are one unit), so they can differ from score's "
                          "macro means")
    for col in ("group", "n", "A", "B", "A - B [95% CI]", "p t", "p rand", "Holm t", "MDD", "n for .01/.02/.05"):
        table.add_column(col, justify="left" if col == "group" else "right", no_wrap=col != "n for .01/.02/.05")
    for r in result.rows:
        needed = "/".join("-" if v is None else f"{v:,}" for v in r.needed.values())
        table.add_row(r.group, f"{r.n} {r.unit[0]}", fmt(r.a), fmt(r.b),
                      ("-" if r.diff is None else f"{r.diff:+.3f}") + ci_text(r.ci), format_p(r.p_t),
                      format_p(r.p_randomisation),
                      format_p(r.p_t_holm) + (" *" if r.significant else ""), fmt(r.mdd), needed,
                      style="bold" if r.unit == "topics" else None)
    from rich.console import Group
    from rich.text import Text

    robust = "; ".join(f"{r.group}: Wilcoxon p {format_p(r.p_wilcoxon)}, t without the most influential topic "
                       f"p {format_p(r.p_t_without_top)}" for r in result.rows if r.unit == "topics")
    return Group(table, Text(f"robustness (uncorrected): {robust}")) if robust else table


def systems_table(results: dict, track):
    """Two tables: per language (rows, grouped by resource class) and system (columns); then per
    system the class means and the gap with their 95% intervals."""
    from rich import box
    from rich.console import Group
    from rich.table import Table

    ok = {n: r for n, r in results.systems.items() if r.ok}
    primary = next(iter(ok.values())).primary if ok else track.primary.name
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
            per_lang.add_row(f"{lang} ({cls})", *([fmt(chance.get(lang))] if chance else []),
                             *(fmt(r.languages[lang][primary]) for r in ok.values()),
                             end_section=i == len(track.of_class(cls)) - 1)
    summary = Table(title="low/high means and the gap, with 95% CIs (resampling topics)", box=box.SIMPLE_HEAD)
    summary.add_column("system", no_wrap=True)
    for col in ("low", "high", "gap", "rel. gap"):
        summary.add_column(col, justify="right", no_wrap=True)
    for name, row in ok.items():
        s = row.summary
        if s is None:  # a track of one resource class: no gap
            summary.add_row(name, "-", "-", "-", "-")
            continue
        summary.add_row(name, *(fmt(s[primary][k]) + ci_text(s["ci"][k]) for k in ("low", "high", "gap")),
                        fmt(s[primary]["relative_gap"]))
    skipped = [f"{n}: {r.status}" for n, r in results.systems.items() if not r.ok]
    summary.caption = "; ".join(skipped) or None
    return Group(per_lang, summary)


def separation(row: dict) -> str:
    """One system's best detector of corrupted pairs, and what its interval says."""
    lo, hi = row["auc_ci"]
    verdict = "detects corrupted pairs" if lo > 0.5 else "no better than chance" if lo <= 0.5 <= hi else \
        "ranks corrupted pairs as cleaner"
    return f"{row['system']}: best signal {row['signal']}, AUC {row['auc']:.3f} [{lo:.3f}, {hi:.3f}]: {verdict}"


def diagnosis_table(report: dict):
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
        table.add_row(row["system"], row["model"], row["signal"], fmt(row["auc"]) + ci_text(row["auc_ci"]),
                      fmt(row["ap"]) + ci_text(row["ap_ci"]))
    for c in report.get("constant", []):
        table.add_row(c["system"], c["model"], c["signal"], f"constant ({c['value']:.3f}): no detector", "-",
                      style="dim")
    return table


def detector_table(rows: list[dict]):
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


def training_summary(result) -> str:
    """One line on a finished training: steps, and the chosen step where the dev split chose one."""
    if not result.history:  # --no-dev, or a track without a dev split: nothing was evaluated
        return f"trained {result.steps_run} steps; no early stopping (no dev evaluation)"
    return f"trained {result.steps_run} steps; best step {result.best_step} (dev MAP {result.best_dev_map:.4f})"

