"""Hostile and careless input: every case a clear error or a correct result, no traceback."""

import gzip
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from synthetic_store import make_store, synthetic_run

import clir_bench
from clir_bench.tracks.track import get_track

CLI = [sys.executable, "-m", "clir_bench"]
TRACK = """name = "t"
version = 1
seed = 1
{top}
[collection]
source = "udhr"
[languages]
low = {low}
high = ["de"]
[noise]
kind = "token"
rate = 0.1
{noise}
"""


def _run(*args, timeout=60, **kw):
    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    track = get_track("noise-0.3")
    paths = []
    for i in range(3):
        path = folder / f"run{i}.trec"
        path.write_text(synthetic_run(track, skill=0.6 + 0.1 * i, seed=i))
        paths.append(path)
    return paths


# 1 -----------------------------------------------------------------------------------------------------------------
def test_concurrent_submits_of_one_name_store_exactly_one(runs, tmp_path):
    for trial in range(4):
        root = tmp_path / f"subs{trial}"
        procs = [subprocess.Popen([*CLI, "submit", str(run), "--track", "noise-0.3", "--name", "same",
                                   "--submissions", str(root), "--bootstrap", "100"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for run in runs[:2]]
        outs = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        assert sorted(code for code, _, _ in outs) == [0, 1], outs
        loser = next(err for code, _, err in outs if code == 1)
        assert "name 'same' is taken on track noise-0.3" in loser and "--force" not in loser
        winner = next(out for code, out, _ in outs if code == 0)
        stored = root / "noise-0.3" / "same" / "run.trec"
        assert "stored as" in winner and stored.is_file()
        assert stored.read_bytes() in (runs[0].read_bytes(), runs[1].read_bytes())


def test_concurrent_submits_of_one_run_under_two_names_store_it_once(runs, tmp_path):
    root = tmp_path / "subs"
    procs = [subprocess.Popen([*CLI, "submit", str(runs[2]), "--track", "noise-0.3", "--name", name,
                               "--submissions", str(root), "--bootstrap", "100"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a-1", "b-1")]
    outs = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert sorted(code for code, _, _ in outs) == [0, 1], outs
    assert "the run is identical to submission" in next(err for code, _, err in outs if code == 1)
    assert len([d for d in (root / "noise-0.3").iterdir() if not d.name.startswith(".")]) == 1


# 2, 9, 6, 10 -------------------------------------------------------------------------------------------------------
def test_bad_store_entries_are_listed_and_the_build_goes_on(tmp_path):
    root = tmp_path / "subs"
    make_store(root, systems=2, tracks=("noise-0.3",), references=1)
    good = root / "noise-0.3" / "system-001"
    meta = json.loads((good / "metadata.json").read_text())
    for name, change in {"deep": None, "nan-value": {"system": {"x": float("nan")}},
                         "bad-date": {"date": "2024-13-45"}}.items():
        folder = root / "noise-0.3" / name
        folder.mkdir()
        (folder / "run.trec").write_text(synthetic_run(get_track("noise-0.3"), skill=0.3, seed=hash(name) % 97))
        if change is None:
            (folder / "metadata.json").write_text("[" * 20_000 + "]" * 20_000)
        else:
            (folder / "metadata.json").write_text(json.dumps({**meta, "name": name, **change}))
    copy = root / "noise-0.3" / "copy"  # byte for byte the run of system-001
    copy.mkdir()
    src = next(good.glob("run.trec*"))
    (copy / src.name).write_bytes(src.read_bytes())
    (copy / "metadata.json").write_text(json.dumps({**meta, "name": "copy", "date": "2099-01-01"}))
    site = tmp_path / "site"
    result = _run("leaderboard", "build", "--submissions", root, "--out", site, "--bootstrap", "200")
    assert result.returncode == 0, result.stderr
    invalid = {b["where"]: b["reason"] for b in json.loads((site / "data" / "invalid.json").read_text())["rows"]}
    assert "nested too deeply" in invalid["noise-0.3/deep"]
    assert "expected a finite number" in invalid["noise-0.3/nan-value"]
    assert "expected a date YYYY-MM-DD" in invalid["noise-0.3/bad-date"]
    assert "identical to submission noise-0.3/system-001" in invalid["noise-0.3/copy"]
    for path in site.rglob("*.json"):
        json.loads(path.read_text())  # every download is valid JSON
    # 10: the site is readable by others under the usual umask; a killed build's leftovers go away
    assert stat.S_IMODE(site.stat().st_mode) == 0o777 & ~_umask()
    assert stat.S_IMODE((site / "index.html").stat().st_mode) == 0o666 & ~_umask()
    stale = tmp_path / ".site.999999999.abc.tmp"
    stale.mkdir()
    (tmp_path / ".site.999999999.old").mkdir()
    assert _run("leaderboard", "build", "--submissions", root, "--out", site).returncode == 0
    assert not stale.exists() and not (tmp_path / ".site.999999999.old").exists()
    # 6: a mistyped store fails and keeps the site and its cache
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    (tmp_path / "a-file").write_text("x")
    for wrong in (tmp_path / "subz", tmp_path / "a-file"):
        result = _run("leaderboard", "build", "--submissions", wrong, "--out", site)
        assert result.returncode == 1 and "the submissions store" in result.stderr
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# 3 -----------------------------------------------------------------------------------------------------------------
def test_gzip_bomb_without_a_track_is_refused_with_little_memory(tmp_path):
    bomb = tmp_path / "bomb.trec.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        block = b"q" * (1 << 20)
        for _ in range(600):  # 600 MB of one line, about 0.6 MB on disk
            f.write(block)
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.returncode); print(r.stderr)")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *CLI, "score", str(bomb)], capture_output=True, text=True,
                         timeout=120).stdout.splitlines()
    peak_kb, rc, message = int(out[0]), int(out[1]), "\n".join(out[2:])
    assert rc == 1 and "match no built-in track" in message and "Traceback" not in message
    assert peak_kb < 200 * 1024 and time.perf_counter() - start < 60


# 4, 11 -------------------------------------------------------------------------------------------------------------
def test_score_output_targets(runs, tmp_path):
    run = runs[0]
    before = run.read_bytes()
    result = _run("score", run, "--track", "noise-0.3", "--output", run)
    assert result.returncode == 1 and "is the input file" in result.stderr and run.read_bytes() == before
    result = _run("score", run, "--track", "noise-0.3", "--output", tmp_path)
    assert result.returncode == 1 and "is a folder" in result.stderr
    target = tmp_path / "real.json"
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert _run("score", run, "--track", "noise-0.3", "--output", link, "--bootstrap", "100").returncode == 0
    assert link.is_symlink() and json.loads(target.read_text())["primary"] == "map"  # written through the link
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    assert _run("score", run, "--track", "noise-0.3", "--output", fifo, "--bootstrap", "100").returncode == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and json.loads(got[0])["primary"] == "map"  # written into, not replaced
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            result = subprocess.run([*CLI, "score", str(run), "--track", "noise-0.3", "--json", "--bootstrap", "100"],
                                    stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
        assert result.returncode == 1 and "cannot write to standard output" in result.stderr
        assert "Traceback" not in result.stderr


# 5 -----------------------------------------------------------------------------------------------------------------
def test_markup_in_paths_and_lines_is_printed_as_it_is(runs, tmp_path):
    folder = tmp_path / "a[" / "]b[bold]"  # the path holds `[/]`
    folder.mkdir(parents=True)
    run = folder / "run :x: [link=https:x]y[red].trec"
    run.write_text(runs[0].read_text())
    for args in (("validate",), ("score", "--bootstrap", "100")):
        result = _run(args[0], run, "--track", "noise-0.3", *args[1:])
        assert result.returncode == 0, result.stderr
        assert "[link=https:x]y[red].trec" in "".join((result.stdout + result.stderr).split())  # as it is
    bad = folder / "bad.trec"
    bad.write_text("sw-0101 Q0 udhr-0101 1 [/]:x:[bold]x t\n")
    result = _run("validate", bad, "--track", "noise-0.3")
    assert result.returncode == 1 and "score '[/]:x:[bold]x'" in result.stderr and str(folder) in result.stderr


# 7 -----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("top, low, noise, found", [
    ("bitext = [1, 2]", '["sw"]', "", "bitext: found 1, expected [[bitext]] tables"),
    ("", "[1]", "", "languages.low: found 1, expected language codes"),
    ("", '[["sw"]]', "", "languages.low: found ['sw'], expected language codes"),
    ("metrics = [1]", '["sw"]', "", "metrics: found 1, expected metric names"),
    ('metrics = [["map"]]', '["sw"]', "", "metrics: found ['map'], expected metric names"),
    ('metrics = ["ndcg@99999999999"]', '["sw"]', "", "expected at most 100,000"),
    ("x = " + "[" * 3000 + "]" * 3000, '["sw"]', "", "nested too deeply"),
    ("", '["sw"]', "edit_rate = 1e300", "edit_rate: found 1e+300, expected a number in (0, 1]"),
    ("", '["sw"]', "edit_rate = inf", "expected a number in (0, 1]"),
    ("", '["sw"]', "edit_rate = nan", "expected a number in (0, 1]"),
    ("", '["sw"]', "edit_rate = -3.0", "expected a number in (0, 1]"),
    ('description = "' + "w" * 100_000 + '"', '["sw"]', "", "expected at most 2,000"),
])
def test_track_files_are_checked_element_by_element(cli, tmp_path, top, low, noise, found):
    path = tmp_path / "t.toml"
    path.write_text(TRACK.format(top=top, low=low, noise=noise))
    code, output = cli("tracks", "show", path)
    assert code == 1 and found in output, output


# 8 -----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line, found", [
    ("sw-0101 Q0 udhr-0101 ² 1.0 t", "rank '²'"),
    ("sw-0101\u00a0Q0 udhr-0101 1 1.0 t", "a non-ASCII space (U+00A0)"),
    ("sw-0101 Q0 udhr-0101 1 1\u20000 t", "a non-ASCII space (U+2000)"),
    ("sw-0101 Q0 udhr-0101 ١ 1.0 t", "expected ASCII digits"),
    ("sw-0101 Q0 udhr-0101 1 １.５ t", "expected ASCII digits"),
    ("sw-0101 Q0 udhr-0101 1 1_000 t", "score '1_000', expected a number"),
    ("sw-0101 Q0 udhr-0101 1_0 1.0 t", "rank '1_0', expected an integer"),
])
def test_run_lines_that_trec_eval_reads_differently(cli, tmp_path, line, found):
    path = tmp_path / "run.trec"
    path.write_text(line + "\n")
    code, output = cli("validate", path, "--track", "noise-0.3")
    assert code == 1 and found in output, output


@pytest.mark.parametrize("make, found", [
    (lambda p: os.mkfifo(p), "found a FIFO (named pipe), expected a regular file"),
    (lambda p: p.mkdir(), "found a folder, expected a regular file"),
])
def test_runs_that_are_not_files(tmp_path, make, found):
    path = tmp_path / "run"
    make(path)
    for extra in ((), ("--track", "noise-0.3")):
        result = _run("validate", path, *extra, timeout=30)
        assert result.returncode == 1 and found in result.stderr
    result = _run("validate", "/dev/zero", timeout=30)
    assert result.returncode == 1 and "found a device" in result.stderr


def test_unknown_query_ids_cost_no_memory(tmp_path):
    from clir_bench.evaluation.judgments import from_track
    from clir_bench.evaluation.validation import scan_run

    path = tmp_path / "unknown.trec"
    path.write_text("".join(f"zz-{i} Q0 d 1 1.0 t\n" for i in range(20_000)))
    scan = scan_run(path, from_track(get_track("noise-0.3")).spec)
    assert scan.errors.total == 20_000 and scan.qids == [] and len(scan.errors.shown) == 50


# 12 ----------------------------------------------------------------------------------------------------------------
def test_serve_answers_hostile_requests_without_tracebacks(tmp_path):
    root = tmp_path / "subs"
    make_store(root, systems=1, tracks=("noise-0.3",), references=1)
    site = tmp_path / "site"
    assert _run("leaderboard", "build", "--submissions", root, "--out", site, "--bootstrap", "200").returncode == 0
    proc = subprocess.Popen([*CLI, "leaderboard", "serve", "--out", str(site), "--port", "0"], stderr=subprocess.PIPE,
                            text=True)
    try:
        port = int(re.search(r":(\d+)/", proc.stderr.readline())[1])
        for raw in (b"GET /index.html%00 HTTP/1.0\r\n\r\n", b"GET /\x00 HTTP/1.0\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(raw)
                assert s.recv(64).startswith(b"HTTP/1.0 400")
        for _ in range(5):  # ask for a page and hang up at once: a broken pipe on the server's side
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        time.sleep(1)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err and "400" in err


def test_cache_show_and_clear(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIR_BENCH_CACHE", str(tmp_path / "cache"))
    for name, track in (("encoder-ft-" + "a" * 16, "noise-0.3-fold0"), ("encoder-ft-" + "b" * 16, "noise-0.3-fold1"),
                        ("encoder-ft-" + "c" * 16, "noise-0.0-fold0")):
        folder = tmp_path / "cache" / "students" / name
        folder.mkdir(parents=True)
        (folder / "delta.safetensors").write_bytes(b"x" * 1000)
        (folder / "student.json").write_text(json.dumps({"track": track}))
    (tmp_path / "cache" / "embeddings" / "k").mkdir(parents=True)
    code, output = cli("cache", "show")
    assert code == 0 and "students of noise-0.3" in output and "students of noise-0.0" in output, output
    code, output = cli("cache", "clear")
    assert code == 1 and "name what to clear" in output
    code, output = cli("cache", "clear", "--track", "noise-0.3")
    assert code == 0 and "removed 2 entries" in output
    assert [p.name for p in (tmp_path / "cache" / "students").iterdir()] == ["encoder-ft-" + "c" * 16]
    assert (tmp_path / "cache" / "embeddings" / "k").is_dir()


def test_cache_clear_removes_only_what_the_harness_wrote(cli, tmp_path, monkeypatch):
    """$CLIR_BENCH_CACHE may point at an ordinary folder: what lies under its models/, students/ and
    embeddings/ that the harness did not write (by name and content) is never shown or removed."""
    cache = tmp_path / "mine"
    monkeypatch.setenv("CLIR_BENCH_CACHE", str(cache))
    theirs = [cache / "students" / "thesis", cache / "students" / ("x-" + "0" * 16), cache / "models" / "weights.bin",
              cache / "embeddings" / "vectors.npy", cache / "embeddings" / ("f" * 16)]
    for path in theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix:
            path.write_bytes(b"keep")
        else:
            path.mkdir()
            (path / "notes.txt").write_text("keep")
    student = cache / "students" / ("encoder-ft-" + "1" * 16)
    student.mkdir()
    (student / "delta.safetensors").write_bytes(b"x")
    (student / "student.json").write_text("{}")
    (cache / "embeddings" / ("queries-" + "2" * 16 + ".safetensors")).write_bytes(b"x")
    code, output = cli("cache", "clear", "--students", "--embeddings", "--models")
    assert code == 0 and "removed 2 entries" in output, output
    assert all(path.exists() for path in theirs) and not student.exists()


def test_no_output_overwrites_an_input(cli, tmp_path):
    """`--output` may not be the run, the qrels or the track file the command reads."""
    run, qrels = tmp_path / "run.trec", tmp_path / "qrels.txt"
    run.write_text("x-1 Q0 a 1 1.0 t\n")
    qrels.write_text("x-1 0 a 1\n")
    track = tmp_path / "my.toml"
    track.write_text((Path(clir_bench.__file__).parent / "data" / "tracks" / "noise-0.3.toml").read_text())
    before = {p: p.read_bytes() for p in (run, qrels, track)}
    for args in (("--qrels", qrels, "--output", qrels), ("--qrels", qrels, "--output", run)):
        code, output = cli("score", run, *args, "--bootstrap", "100")
        assert code == 1 and "is the input file" in output, output
    real = Path(clir_bench.__file__).parents[1] / "submissions" / "noise-0.3" / "bm25" / "run.trec.gz"
    code, output = cli("score", real, "--track", track, "--output", track, "--bootstrap", "100")
    assert code == 1 and "is the input file" in output, output
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize("command", [("data", "export", "--track", "noise-0.0", "--force"),
                                     ("leaderboard", "build", "--bootstrap", "100")])
@pytest.mark.parametrize("case", ["someone's folder", "symbolic link", "current folder", "root", "parent"])
def test_an_output_folder_that_is_not_ours_is_never_replaced(cli, tmp_path, monkeypatch, command, case):
    """--force replaces only what the harness made (an export's manifest, a site's marker); a link,
    `.`, `..` or `/` gets a clear answer, and nothing of theirs is deleted."""
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    monkeypatch.chdir(precious)
    link = tmp_path / "link"
    link.symlink_to(precious)
    out = {"someone's folder": precious, "symbolic link": link, "current folder": ".", "root": "/",
           "parent": ".."}[case]
    store = Path(clir_bench.__file__).parents[1] / "submissions"
    extra = ("--submissions", store) if command[0] == "leaderboard" else ()
    code, output = cli(*command, "--out", out, *extra)
    assert code == 1 and "Traceback" not in output, output
    assert (precious / "thesis.tex").read_text() == "years of work" and link.is_symlink()


@pytest.mark.parametrize("line, found", [
    ("sw-0101 0 udhr-0101 1_0", "grade '1_0'"),  # int() reads 10; trec_eval 1
    ("sw-0101 0 udhr-0101 \u0662", "grade '\u0662'"),  # int() reads 2; trec_eval 0
    ("sw-0101\u00a00 udhr-0101 1", "a non-ASCII space (U+00A0)"),
    ("sw-0101\x1c0 udhr-0101 1", "a separator control character (U+001C)"),
    ("sw-0101 0 udhr\x000101 1", "a NUL byte"),
    ("sw-0101 0 udhr-0101 99999999999999999999", "grade '99999999999999999999'"),  # pytrec_eval overflowed
])
def test_qrels_are_read_by_trec_evals_rules_or_refused(cli, tmp_path, line, found):
    qrels, run = tmp_path / "qrels.txt", tmp_path / "run.trec"
    qrels.write_text(f"sw-0101 0 udhr-0102 1\n{line}\n", encoding="utf-8")
    run.write_text("sw-0101 Q0 udhr-0101 1 1.0 t\n")
    code, output = cli("score", run, "--qrels", qrels, "--bootstrap", "100")
    assert code == 1 and f"{qrels}:2: found {found}" in output and "Traceback" not in output, output


def test_qrels_errors_keep_their_line_numbers_across_read_blocks(tmp_path):
    """The reader checks qrels a megabyte block at a time: a fault far into a large file still names
    its own line, and one block's non-ASCII line does not hide another block's fault."""
    from clir_bench.core.errors import ClirBenchError
    from clir_bench.evaluation.qrels import read_qrels

    lines = [f"q{i // 50} 0 doc-{i:08d} {i % 3}" for i in range(80_000)]  # ~2 MB: several blocks
    lines[70_000] = "q1400 0 doc-x 1_0"
    lines[10] = "q0 0 doc-\u00e9 1"  # non-ASCII but valid: its block takes the per-line path
    path = tmp_path / "qrels.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ClirBenchError) as e:
        read_qrels(path)
    assert f"{path}:70001: found grade '1_0'" in str(e.value) and str(e.value).count("found") == 1


@pytest.mark.parametrize("path", ["/dev/zero", "fifo"])
def test_qrels_that_are_not_a_regular_file_are_refused_before_reading(cli, tmp_path, path):
    if path == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    run = tmp_path / "run.trec"
    run.write_text("sw-0101 Q0 udhr-0101 1 1.0 t\n")
    code, output = cli("score", run, "--qrels", path)
    assert code == 1 and "expected a regular file" in output


def test_runs_split_by_separator_controls_are_malformed_as_in_trec_eval(cli, tmp_path):
    run = tmp_path / "run.trec"
    run.write_text("sw-0101\x1fQ0\x1fudhr-0101\x1f1\x1f1.0\x1ft\n")
    code, output = cli("validate", run, "--track", "noise-0.3")
    assert code == 1 and f"{run}:1: found a separator control character (U+001F)" in output


def test_blank_lines_cost_nothing_and_keep_line_numbers(cli, tmp_path):
    """A gzip of millions of blank lines (tiny on disk) is read in blocks, not line by line."""
    import gzip

    run = tmp_path / "run.trec.gz"
    run.write_bytes(gzip.compress(b"\n" * 5_000_000 + b"sw-0101 Q0 udhr-9999 1 1.0 t\n"))
    code, output = cli("validate", run, "--track", "noise-0.3")
    assert code == 1 and f"{run}:5000001: found document 'udhr-9999'" in output, output


def test_warnings_travel_to_compare_and_ties_are_named(cli, tmp_path):
    """`compare` repeats each run's `score` warnings, and a query whose scores all tie is named: its
    order is trec_eval's docid tie-break, whatever the rank column says."""
    store = Path(clir_bench.__file__).parents[1] / "submissions" / "noise-0.3"
    partial = tmp_path / "partial.trec"
    partial.write_text("".join(gzip.open(store / "encoder-ft" / "run.trec.gz", "rt").readlines()[:5000]))
    code, output = cli("compare", partial, store / "encoder-ft" / "run.trec.gz", "--track", "noise-0.3",
                       "--bootstrap", "200")
    assert code == 0 and f"{partial}: found 550 judged queries absent" in output, output
    tied = tmp_path / "tied.trec"
    tied.write_text("sw-0101 Q0 udhr-0101 1 0.5 t\nsw-0101 Q0 udhr-0401 2 0.5 t\nsw-0101 Q0 udhr-0701 3 0.5 t\n")
    code, output = cli("score", tied, "--track", "noise-0.3", "--bootstrap", "100")
    assert code == 0 and "1 queries whose documents all have the same score (e.g. ['sw-0101'])" in output
    mapping = clir_bench.score({"sw-0101": {"udhr-0101": 1.0, "udhr-0401": 1.0}}, track="noise-0.3", resamples=0)
    assert sum("the same score" in w for w in mapping.warnings) == 1


def test_one_broken_entry_never_aborts_the_build(cli, tmp_path):
    """A metadata integer beyond Python's conversion limit, a malformed diagnosis: listed, not fatal."""
    import shutil

    store = tmp_path / "store"
    shutil.copytree(Path(clir_bench.__file__).parents[1] / "submissions" / "noise-0.3", store / "noise-0.3")
    meta = store / "noise-0.3" / "bm25" / "metadata.json"
    meta.write_text(meta.read_text().rstrip().rstrip("}") + ', "huge": ' + "9" * 5000 + "}\n")
    (store / "noise-0.3" / "diagnostics.json").write_text('{"rows": "x", "track_version": 2}')
    code, output = cli("leaderboard", "build", "--submissions", store, "--out", tmp_path / "site", "--bootstrap", "100")
    assert code == 0 and "1 invalid" in output and "Traceback" not in output, output
    assert "Exceeds the limit" in (tmp_path / "site" / "index.html").read_text()


@pytest.mark.parametrize("args", [["tracks"], ["protocols"], ["tracks", "show", "noise-0.0"],
                                  ["score", "submissions/noise-0.3/bm25/run.trec.gz", "--track", "noise-0.3",
                                   "--bootstrap", "100"]])
def test_a_full_disk_on_stdout_is_a_message_not_a_traceback(args):
    root = Path(clir_bench.__file__).parents[1]
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "clir_bench", *args], cwd=root, stdout=full,
                                stderr=subprocess.PIPE, text=True, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot write standard output: No space left on device" in result.stderr


@pytest.mark.parametrize("args, found", [
    (["run", "--systems", "", "--no-record"], "names no system"),
    (["run", "--systems", " , ", "--no-record"], "names no system"),
    (["score", "x.trec", "--seed", "-1"], "--seed"),
    (["score", "x.trec", "--bootstrap", "99999999999999999999999"], "--bootstrap"),
])
def test_option_values_are_range_checked(cli, args, found):
    code, output = cli(*args)
    assert code != 0 and found in output and "Traceback" not in output


def test_foreign_formats_and_empty_runs_are_named(cli, tmp_path):
    """bz2, xz, UTF-16 (with or without a byte-order mark) and empty runs: one message that names
    the format and the fix, never hundreds of "not UTF-8" lines or "query ids like []"."""
    import bz2
    import lzma

    line = "sw-0101 Q0 udhr-sw-0001 1 1.0 t\n"
    files = {"r.trec.bz2": (bz2.compress(line.encode()), "a bzip2-compressed file"),
             "r.trec.xz": (lzma.compress(line.encode()), "an xz-compressed file"),
             "bom.trec": (line.encode("utf-16"), "UTF-16 text"),
             "nobom.trec": (line.encode("utf-16-le"), "UTF-16 text?"),
             "gz16.trec.gz": (gzip.compress(line.encode("utf-16")), "UTF-16 text")}
    for name, (data, phrase) in files.items():
        (tmp_path / name).write_bytes(data)
        for args in (("score", tmp_path / name), ("validate", tmp_path / name, "--track", "noise-0.3"),
                     ("score", tmp_path / "q.trec", "--qrels", tmp_path / name)):
            (tmp_path / "q.trec").write_text(line)
            code, output = cli(*args)
            assert code == 1 and phrase in output and output.count("\n") <= 3, (args, output)
    (tmp_path / "empty.trec").write_text("")
    code, output = cli("score", tmp_path / "empty.trec")
    assert code == 1 and "found no run lines" in output and "[]" not in output


def test_the_store_is_never_written_through_a_linked_track_folder(cli, tmp_path):
    root, elsewhere = tmp_path / "subs", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / "noise-0.3").symlink_to(elsewhere)
    run = tmp_path / "r.trec"
    run.write_text(synthetic_run(get_track("noise-0.3"), skill=0.8, seed=1))
    code, output = cli("submit", run, "--track", "noise-0.3", "--name", "mine", "--submissions", root,
                       "--bootstrap", "200")
    assert code == 1 and "is a symbolic link" in output and not any(elsewhere.iterdir())


def test_a_fifo_is_called_a_fifo_wherever_it_is_given(cli, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for args in (("data", "export", "--track", "noise-0.3", "--out", fifo),
                 ("leaderboard", "check", "--submissions", fifo),
                 ("submit", fifo, "--track", "noise-0.3", "--name", "x", "--submissions", tmp_path / "s")):
        code, output = cli(*args)
        assert code == 1 and "FIFO (named pipe)" in output, (args, output)


def _disk_full_after(monkeypatch, calls: int):
    """Every Path.write_text / write_bytes and shutil copy after `calls` of them fails as a full disk does."""
    import errno
    import shutil

    count = {"n": 0}

    def failing(original):
        def wrapper(*args, **kwargs):
            count["n"] += 1
            if count["n"] > calls:
                raise OSError(errno.ENOSPC, "No space left on device")
            return original(*args, **kwargs)
        return wrapper

    for owner, name in ((Path, "write_text"), (Path, "write_bytes"), (shutil, "copyfile"), (shutil, "copyfileobj")):
        monkeypatch.setattr(owner, name, failing(getattr(owner, name)))


@pytest.mark.parametrize("after", [0, 5, 40])
def test_a_full_disk_loses_nothing_in_build_export_or_submit(cli, tmp_path, monkeypatch, after):
    """ENOSPC part-way through: one line that names it, exit 1, no half-written output, and the
    previous site, export or store left as they were."""
    root = tmp_path / "subs"
    make_store(root, systems=2, tracks=("noise-0.3",), references=1)
    site = tmp_path / "site"
    assert cli("leaderboard", "build", "--submissions", root, "--out", site, "--bootstrap", "200")[0] == 0
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    export = tmp_path / "export"
    assert cli("data", "export", "--track", "noise-0.3", "--out", export)[0] == 0
    exported = {p.relative_to(export): p.read_bytes() for p in export.rglob("*") if p.is_file()}
    run = tmp_path / "r.trec"
    run.write_text(synthetic_run(get_track("noise-0.3"), skill=0.7, seed=9))
    stored = sorted(p.relative_to(root) for p in root.rglob("*"))
    with monkeypatch.context() as m:
        _disk_full_after(m, after)
        for args in (("leaderboard", "build", "--submissions", root, "--out", site, "--bootstrap", "200"),
                     ("data", "export", "--track", "noise-0.3", "--out", export, "--force"),
                     ("submit", run, "--track", "noise-0.3", "--name", "late", "--submissions", root,
                      "--bootstrap", "200")):
            code, output = cli(*args)
            assert code == 1 and "No space left on device" in output and "Traceback" not in output, (args, output)
    assert {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert {p.relative_to(export): p.read_bytes() for p in export.rglob("*") if p.is_file()} == exported
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == stored
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") or ".tmp-" in p.name]
