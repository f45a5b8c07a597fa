"""`clir-bench submit` and the store: slugs, metadata checks, duplicates, atomicity."""

import gzip
import json
from pathlib import Path

import pytest
from synthetic_store import synthetic_run

from clir_bench.core.errors import ClirBenchError
from clir_bench.leaderboard.store import check_metadata, check_slug, content_sha256, discover
from clir_bench.tracks.track import get_track


@pytest.fixture
def run_file(tmp_path):
    path = tmp_path / "my.trec"
    path.write_text(synthetic_run(get_track("noise-0.3"), skill=0.8, seed=1))
    return path


def _submit(cli, run, root, name, *extra):
    return cli("submit", run, "--track", "noise-0.3", "--name", name, "--submissions", root, "--bootstrap", "200",
               *extra)


def test_submit_stores_run_and_metadata(cli, run_file, tmp_path):
    code, output = _submit(cli, run_file, tmp_path / "subs", "my-system", "--team", "Team A",
                           "--description", "BM25 + OT", "--url", "https://example.org/paper")
    assert code == 0, output
    assert "stored as" in output and "gap" in output
    folder = tmp_path / "subs" / "noise-0.3" / "my-system"
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "run.trec"]
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["team"] == "Team A" and meta["produced_by"] == "participant" and meta["track_version"] == 2
    assert "map" not in json.dumps(meta)  # scores are derived, never stored
    assert (folder / "run.trec").read_bytes() == run_file.read_bytes()
    good, bad = discover(tmp_path / "subs")
    assert [s.where for s in good] == ["noise-0.3/my-system"] and not bad


def test_submit_refuses_taken_names_and_identical_runs(cli, run_file, tmp_path):
    root = tmp_path / "subs"
    assert _submit(cli, run_file, root, "first")[0] == 0
    code, output = _submit(cli, run_file, root, "first")
    assert code == 1 and "name 'first' is taken on track noise-0.3" in output
    gz = tmp_path / "same.trec.gz"  # the same run, compressed: still the same run
    gz.write_bytes(gzip.compress(run_file.read_bytes()))
    assert content_sha256(gz) == content_sha256(run_file)
    code, output = _submit(cli, gz, root, "second")
    assert code == 1 and "identical to submission noise-0.3/first" in output
    assert sorted(p.name for p in (root / "noise-0.3").iterdir() if not p.name.startswith(".")) == ["first"]


@pytest.mark.parametrize("name", ["My System", "../evil", "a/b", "x" * 65, "-lead", "trail_", "<script>", "émile"])
def test_submit_refuses_names_that_are_not_slugs(cli, run_file, tmp_path, name):
    code, output = _submit(cli, run_file, tmp_path / "subs", name)
    assert code == 1 and "is not a safe slug" in output and "Traceback" not in output
    assert not (tmp_path / "subs").exists()


def test_an_invalid_run_is_not_stored(cli, tmp_path):
    bad = tmp_path / "bad.trec"
    bad.write_text("sw-0101 Q0 udhr-0101 1 1.0 t\nsw-0101 Q0 udhr-0101 2 0.5\n")
    code, output = _submit(cli, bad, tmp_path / "subs", "broken")
    assert code == 1 and f"{bad}:2" in output and "Traceback" not in output
    assert not (tmp_path / "subs" / "noise-0.3" / "broken").exists()
    assert not list((tmp_path / "subs").rglob("*.tmp"))


def test_submit_refuses_a_track_that_is_not_built_in(cli, run_file, tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text(get_track("noise-0.3").source.replace('name = "noise-0.3"', 'name = "mine"'))
    code, output = cli("submit", run_file, "--track", toml, "--name", "x", "--submissions", tmp_path / "subs")
    assert code == 1 and "not a built-in track" in output


@pytest.mark.parametrize("change, phrase", [
    ({"url": "javascript:alert(1)"}, "expected an http(s):// address"),
    ({"url": "https://x.org/\"onmouseover=alert(1)"}, "expected an http(s):// address"),
    ({"produced_by": "me"}, "expected one of harness, participant"),
    ({"name": "../../etc"}, "is not a safe slug"),
    ({"extra": 1}, "unknown key 'extra'"),
    ({"team": ["a"]}, "found list, expected str"),
    ({"track_version": True}, "found bool, expected int"),
    ({"description": "x" * 2001}, "expected at most 2000"),
    ({"system": {"a": {"b": 1}}}, "expected a scalar"),
    ({"date": "yesterday"}, "expected a date YYYY-MM-DD"),
    ({"date": "2024-13-45"}, "expected a date YYYY-MM-DD"),
    ({"system": {"x": float("nan")}}, "expected a finite number"),
])
def test_metadata_checks(change, phrase):
    meta = {"name": "ok", "team": "", "description": "", "url": "", "track": "noise-0.3", "track_version": 1,
            "produced_by": "participant", "harness_version": "0.1.0", "date": "2026-11-25", **change}
    with pytest.raises(ClirBenchError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        check_metadata(meta, "metadata.json")


def test_slug_suggests_a_fix():
    with pytest.raises(ClirBenchError, match="try 'my-system-2'"):
        check_slug("My System 2!")
    assert check_slug("optical-sinkhorn_v2") == "optical-sinkhorn_v2"


def _reference_run(path, scores):
    path.write_text("".join(f"sw-0101 Q0 {d} {r} {s:.9g} ref\n" for r, (d, s) in enumerate(scores, 1)))
    return path


def test_a_rerun_within_tolerance_leaves_the_reference_record_alone(tmp_path):
    from clir_bench.leaderboard.store import SCORE_RTOL, record_reference, same_run

    track = get_track("noise-0.3")
    root = tmp_path / "subs"
    first = _reference_run(tmp_path / "a.trec", [("udhr-0101", 0.86083746), ("udhr-0102", 0.5)])
    said = record_reference(root=root, track=track, name="encoder-zs", run=first, description="d", info={"seconds": 1})
    assert said.startswith("recorded as")
    folder = root / "noise-0.3" / "encoder-zs"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    # another machine: the 7th digit differs (as measured between machines), seconds differ
    rerun = _reference_run(tmp_path / "b.trec", [("udhr-0101", 0.86083734), ("udhr-0102", 0.50000004)])
    assert same_run(first, rerun) and not first.read_bytes() == rerun.read_bytes()
    said = record_reference(root=root, track=track, name="encoder-zs", run=rerun, description="d", info={"seconds": 9})
    assert said.startswith("unchanged: the run equals the recorded"), said
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before
    # beyond the tolerance, or other documents: a different run, recorded
    changed = _reference_run(tmp_path / "c.trec", [("udhr-0101", 0.86083746 + 20 * SCORE_RTOL), ("udhr-0102", 0.5)])
    other_docs = _reference_run(tmp_path / "d.trec", [("udhr-0101", 0.86083746), ("udhr-0103", 0.5)])
    assert not same_run(first, changed) and not same_run(first, other_docs)
    said = record_reference(root=root, track=track, name="encoder-zs", run=changed, description="d", info={})
    assert said.startswith("recorded as")
    assert gzip.decompress((folder / "run.trec.gz").read_bytes()) == changed.read_bytes()


def test_leaderboard_check_passes_the_real_store_and_names_each_bad_entry(cli, tmp_path):
    """What the hosting repository's CI runs on a proposed submission: every entry validated, each
    problem with its place, exit 1; nothing written."""
    import shutil

    real = Path(__file__).parents[2] / "submissions"
    code, output = cli("leaderboard", "check", "--submissions", real)
    assert code == 0 and "all valid" in output, output
    store = tmp_path / "store"
    shutil.copytree(real / "noise-0.3", store / "noise-0.3")
    lines = gzip.decompress((store / "noise-0.3" / "bm25" / "run.trec.gz").read_bytes()).decode().splitlines()
    lines[8] = lines[8].replace(lines[8].split()[2], "udhr-9999")
    (store / "noise-0.3" / "bm25" / "run.trec.gz").unlink()
    (store / "noise-0.3" / "bm25" / "run.trec").write_text("\n".join(lines) + "\n")
    (store / "noise-0.3" / "stray.txt").write_text("x")
    (store / "noise-0.3" / "diagnostics.json").write_text("{not json")
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    code, output = cli("leaderboard", "check", "--submissions", store)
    assert code == 1
    assert "noise-0.3/bm25/run.trec:9: found document 'udhr-9999'" in output
    assert "noise-0.3/stray.txt: not a submission folder" in output
    assert "noise-0.3/diagnostics.json: found a file that is not a recorded noise diagnosis" in output
    assert "3 error(s)" in output and "Traceback" not in output
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before


def test_declared_resources_mark_another_condition_on_the_board(cli, run_file, tmp_path):
    from clir_bench.leaderboard.data import Cache, collect

    root = tmp_path / "subs"
    code, output = _submit(cli, run_file, root, "uses-mt", "--resources", "track-bitext,external-mt",
                           "--pretrained", "facebook/nllb-200-distilled-600M")
    assert code == 0, output
    meta = json.loads((root / "noise-0.3" / "uses-mt" / "metadata.json").read_text())
    assert meta["resources"] == ["track-bitext", "external-mt"] and meta["pretrained"].startswith("facebook/")
    other = run_file.with_name("other.trec")
    other.write_text(synthetic_run(get_track("noise-0.3"), skill=0.7, seed=2))
    assert _submit(cli, other, root, "bitext-only")[0] == 0  # the default: the track's condition
    code, output = _submit(cli, run_file, root, "typo", "--resources", "external-tm")
    assert code == 1 and "found 'external-tm', expected any of track-bitext" in output
    board = collect(root=root, cache=Cache(None, tmp_path / "cache"), resamples=200)
    rows = {r["name"]: r for r in board.tracks[0]["rows"]}
    assert rows["uses-mt"]["condition"] == "beyond" and rows["bitext-only"]["condition"] == "track"
    code, output = cli("leaderboard", "build", "--submissions", root, "--out", tmp_path / "site", "--bootstrap", "200")
    assert code == 0, output
    assert "beyond the track&#39;s data" in (tmp_path / "site" / "index.html").read_text()


def test_replace_takes_only_ones_own_entry_and_is_noted(cli, run_file, tmp_path):
    root = tmp_path / "subs"
    assert _submit(cli, run_file, root, "mine", "--team", "Team A")[0] == 0
    better = run_file.with_name("better.trec")
    better.write_text(synthetic_run(get_track("noise-0.3"), skill=0.9, seed=7))
    code, output = _submit(cli, better, root, "mine", "--team", "Team A")
    assert code == 1 and "--replace" in output  # a taken name is refused without it
    code, output = _submit(cli, better, root, "mine", "--team", "Team B", "--replace")
    assert code == 1 and "not your entry" in output
    code, output = _submit(cli, better, root, "mine", "--team", "Team A", "--replace")
    assert code == 0, output
    (stored,) = (root / "noise-0.3" / "mine").glob("run.trec*")
    data = stored.read_bytes()
    assert (gzip.decompress(data) if stored.suffix == ".gz" else data) == better.read_bytes()
    assert "noise-0.3/mine replaced by its team (Team A)" in (root / "CHANGELOG.md").read_text()
    assert discover(root)[1] == []  # the store's changelog is not an entry


def test_submit_stores_the_run_it_scored_even_if_the_file_changes(run_file, tmp_path, monkeypatch):
    """One snapshot is scored, hashed and stored: a file rewritten while `submit` runs changes nothing."""
    import clir_bench.evaluation.scoring as scoring
    from clir_bench.leaderboard.store import submit

    original, scored = run_file.read_bytes(), scoring.score_run

    def score_then_change(*args, **kwargs):
        report = scored(*args, **kwargs)
        run_file.write_text("garbage that is not a run\n")
        return report

    monkeypatch.setattr(scoring, "score_run", score_then_change)
    stored, report = submit(run=run_file, track=get_track("noise-0.3"), name="mine", root=tmp_path / "subs",
                            resamples=200)
    assert stored.run.read_bytes() == original and report.run.path == str(run_file)
    assert report.run.sha256 == content_sha256(stored.run)


def test_a_damaged_neighbour_does_not_block_a_submission(cli, run_file, tmp_path):
    root = tmp_path / "subs"
    other = tmp_path / "other.trec.gz"
    other.write_bytes(gzip.compress(synthetic_run(get_track("noise-0.3"), skill=0.6, seed=5).encode()))
    assert _submit(cli, other, root, "neighbour")[0] == 0
    damaged = root / "noise-0.3" / "neighbour" / "run.trec.gz"
    damaged.write_bytes(damaged.read_bytes()[:len(damaged.read_bytes()) // 2])  # truncated gzip
    code, output = _submit(cli, run_file, root, "mine")
    assert code == 0 and "stored as" in output, output
    assert "noise-0.3/neighbour/run.trec.gz in the store cannot be read" in output  # reported, not blocking
    code, output = cli("leaderboard", "check", "--submissions", root)
    assert code == 1 and "noise-0.3/neighbour" in output


def test_invalid_run_problems_name_the_users_file(cli, tmp_path):
    bad = tmp_path / "bad.trec"
    bad.write_text("q1 Q0 d1 1 1.0\n")
    code, output = _submit(cli, bad, tmp_path / "subs", "bad")
    assert code == 1 and f"{bad}:1" in output.replace("\n", "") and "clir-bench-submit-" not in output
