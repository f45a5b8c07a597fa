"""Strict run validation: the malformed corpus, accepted variants, warnings, parallel scans."""

import gzip

import pytest
from make_runs import BAD, OK, good_lines, text

from clir_bench.evaluation import validation as runfile
from clir_bench.evaluation.validation import RunSpec, scan_run


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("command", ["validate", "score"])
def test_malformed_run_is_refused_with_file_and_line(cli, runs, name, command):
    path = runs / "bad" / name
    code, output = cli(command, path, "--track", "noise-0.0")
    _, line, phrase = BAD[name]
    assert code == 1
    assert "Traceback" not in output
    where = f"{path}:{line}:" if line else f"{path}:"
    assert where in output
    assert phrase in output


@pytest.mark.parametrize("name", sorted(OK) + ["good.trec.gz"])
def test_accepted_variants_score_like_the_plain_file(cli, runs, name):
    code, output = cli("validate", runs / "ok" / name, "--track", "noise-0.0")
    assert code == 0, output
    assert "valid: 12 lines, 3 queries" in output
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.evaluation.scoring import score_run
    from clir_bench.tracks.track import get_track

    judgments = from_track(get_track("noise-0.0"))
    plain = score_run(runs / "ok" / "good.trec", judgments, resamples=200)
    other = score_run(runs / "ok" / name, judgments, resamples=200)
    assert other.per_query == plain.per_query and other == plain


def test_too_many_documents_per_query(cli, tmp_path, runs):
    track = tmp_path / "small.toml"
    from clir_bench.tracks.track import get_track

    track.write_text(get_track("noise-0.0").source.replace("max_docs_per_query = 1000", "max_docs_per_query = 3"))
    code, output = cli("validate", runs / "ok" / "good.trec", "--track", track)
    assert code == 1
    assert f"{runs / 'ok' / 'good.trec'}:1: found 4 documents for query 'sw-0101', expected at most 3" in output


def test_warnings_do_not_fail_validation(cli, tmp_path):
    lines = good_lines()
    lines[4:8] = [line.replace("demo", "other") for line in lines[4:8]]  # a second tag
    lines[1] = lines[1].replace(" 2 8.5 ", " 2 99.5 ")  # rank 2 scored above rank 1
    path = tmp_path / "warn.trec"
    path.write_text(text(lines))
    code, output = cli("validate", path, "--track", "noise-0.0")
    assert code == 0, output
    assert "2 run tags" in output
    assert f"{path}:1: found ranks of query 'sw-0101' that disagree with its scores" in output
    assert "95 judged queries absent from the run" in output


def test_problem_cap_counts_the_rest():
    errors = runfile.Problems()
    for i in range(runfile.MAX_SHOWN + 7):
        errors.add(i + 1, "x", "y")
    lines = errors.lines("f")
    assert len(lines) == runfile.MAX_SHOWN + 1 and lines[-1] == "... and 7 more"


def _big_run(path, queries=300, docs=40, grouped=True):
    lines = [f"q{q:04d} Q0 d{d:05d} {r} {1000 - r + (q % 7) / 10:.4f} t"
             for q in range(queries) for r, d in enumerate(range(q, q + docs), 1)]
    if not grouped:
        lines = lines[1::2] + lines[0::2]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("grouped", [True, False])
def test_parallel_scan_equals_serial(tmp_path, monkeypatch, grouped):
    path = _big_run(tmp_path / "big.trec", grouped=grouped)
    spec = RunSpec(qids=frozenset(f"q{q:04d}" for q in range(300)))
    consume = lambda batch: {q: (len(d), round(sum(d.values()), 6)) for q, d in batch.items()}  # noqa: E731
    serial = scan_run(path, spec, consume=consume, workers=1)
    monkeypatch.setattr(runfile, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(runfile, "BATCH", 16)
    parallel = scan_run(path, spec, consume=consume, workers=3)
    assert parallel.results == serial.results
    assert len(serial.results) == 300 and all(n == 40 for n, _ in serial.results.values())
    assert parallel.records == serial.records == 300 * 40
    assert parallel.lines == serial.lines == 300 * 40
    assert serial.grouped is grouped


def test_parallel_scan_reports_global_line_numbers(tmp_path, monkeypatch):
    path = _big_run(tmp_path / "big.trec")
    lines = path.read_text().splitlines()
    lines[9000] = lines[9000].replace(" t", "")
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(runfile, "PARALLEL_MIN_BYTES", 1)
    scan = scan_run(path, RunSpec(), workers=2)
    assert [p.line for p in scan.errors.shown] == [9001]


def test_truncated_gzip_is_a_clear_error(cli, tmp_path, runs):
    data = gzip.compress((runs / "ok" / "good.trec").read_bytes() * 50)
    path = tmp_path / "cut.trec.gz"
    path.write_bytes(data[: len(data) // 2])
    code, output = cli("validate", path, "--track", "noise-0.0")
    assert code == 1 and "damaged gzip" in output and "Traceback" not in output


def test_missing_run_file(cli, tmp_path):
    code, output = cli("score", tmp_path / "nope.trec", "--track", "noise-0.0")
    assert code == 1 and "nope.trec" in output and "Traceback" not in output


def test_parallel_scans_show_at_most_three_misordered_queries(tmp_path, monkeypatch):
    from clir_bench.evaluation import validation

    path = tmp_path / "misordered.trec"
    # 40 queries whose rank 1 holds the lowest score
    path.write_text("".join(f"q{q:03d} Q0 d{d} {d} {d}.0 t\n" for q in range(40) for d in range(1, 4)))
    monkeypatch.setattr(validation, "PARALLEL_MIN_BYTES", 0)
    for workers in (1, 2):
        scan = validation.scan_run(path, validation.RunSpec(qids=None), workers=workers)
        shown = [w for w in scan.warnings.lines(str(path)) if "that disagree with its scores" in w]
        assert scan.misordered == 40 and len(shown) == validation.MISORDERED_SHOWN, (workers, shown)
        assert any("40 queries whose ranks disagree with their scores (3 shown)" in w
                   for w in scan.warnings.lines(str(path)))


def test_ranks_are_compared_as_numbers_however_they_are_listed(tmp_path):
    """Ranks 1, 2, ... in order are known sorted without conversion; any others (listed out of order,
    from 0, or where string order is not numeric order) are read as numbers."""
    from clir_bench.evaluation import validation

    lines = ["q1 Q0 a 3 1.0 t", "q1 Q0 b 1 3.0 t", "q1 Q0 c 2 2.0 t",  # listed out of rank order, consistent
             "q2 Q0 a 0 1.0 t", "q2 Q0 b 1 2.0 t",  # from 0: rank 0 holds the lower score
             "q3 Q0 a 9 2.0 t", "q3 Q0 b 10 1.0 t",  # 9 before 10 as numbers, not as strings
             "q4 Q0 a 1 1.0 t", "q4 Q0 b 2 2.0 t"]  # 1, 2 in order: rank 1 holds the lower score
    path = tmp_path / "ranks.trec"
    path.write_text("\n".join(lines) + "\n")
    scan = validation.scan_run(path, validation.RunSpec(qids=None), workers=1)
    assert scan.errors.total == 0
    assert scan.misordered == 2 and [q for _, q in scan.misordered_examples] == ["q2", "q4"]
