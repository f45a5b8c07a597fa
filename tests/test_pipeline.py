"""`clir-bench run`: every reference system end to end on a tiny track with a tiny model."""

import gzip
import json

import pytest
from tiny_model import TINY_TRACK

from clir_bench.pipeline import RunResults, run_track
from clir_bench.systems import Context, default_systems, get_system, registry
from clir_bench.tracks.track import get_track


@pytest.fixture(scope="module")
def tiny_track(tmp_path_factory):
    path = tmp_path_factory.mktemp("track") / "tiny.toml"
    path.write_text(TINY_TRACK)
    return path


@pytest.fixture(scope="module")
def marian(tmp_path_factory, tiny):
    """A tiny random Marian seq2seq model with the tiny WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, MarianConfig, MarianMTModel

    folder = tmp_path_factory.mktemp("marian")
    tok = AutoTokenizer.from_pretrained(tiny)
    config = MarianConfig(vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                          max_position_embeddings=128, pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id,
                          decoder_start_token_id=tok.pad_token_id, forced_eos_token_id=tok.sep_token_id)
    torch.manual_seed(0)
    MarianMTModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _ctx(tiny, tmp_path, **kw):
    return Context(encoder=str(tiny), cache=tmp_path / "cache", train={"max_steps": 3, "eval_every": 2},
                   log=lambda *a: None, **kw)


def test_every_registered_system_is_a_default_reference_system():
    assert set(registry()) == set(default_systems())  # this checkout has no participant plugin installed
    for name in registry():
        system = get_system(name)
        assert system.name == name and system.description


@pytest.mark.slow
def test_every_system_end_to_end(tiny, tiny_track, marian, tmp_path):
    track = get_track(str(tiny_track))
    results = run_track(track, systems=default_systems(), ctx=_ctx(tiny, tmp_path, mt_model=str(marian)),
                        out=tmp_path / "out", submissions=tmp_path / "subs", resamples=200)
    for name in default_systems():
        row = results.systems[name]
        assert row.status == "ok", (name, row)
        assert set(row.languages) == {"sw", "de"}
        assert (tmp_path / "out" / f"{name}.trec").is_file() and (tmp_path / "out" / f"{name}.json").is_file()
    assert not (tmp_path / "subs").exists()  # a track of the user's own is not recorded for the leaderboard
    assert results.systems["optical-partial"].info["solver"] == "partial"
    assert json.loads((tmp_path / "out" / "results.json").read_text())["track"] == "tiny"


@pytest.mark.slow
def test_students_are_cached_and_runs_are_reproducible(tiny, tiny_track, tmp_path):
    track = get_track(str(tiny_track))
    first = run_track(track, systems=["optical-unbalanced"], ctx=_ctx(tiny, tmp_path), out=tmp_path / "a",
                      submissions=None, resamples=200)
    second = run_track(track, systems=["optical-unbalanced"], ctx=_ctx(tiny, tmp_path), out=tmp_path / "b",
                       submissions=None, resamples=200)
    a, b = first.systems["optical-unbalanced"], second.systems["optical-unbalanced"]
    assert a.info["cached"] is False and b.info["cached"] is True
    for key in ("best_step", "steps_run", "best_dev_map"):  # a cached student's record says what training chose
        assert b.info[key] == a.info[key]
    for lang in ("sw", "de"):
        assert a.languages[lang]["map"] == pytest.approx(b.languages[lang]["map"], abs=1e-6)
    fresh = run_track(track, systems=["optical-unbalanced"], ctx=_ctx(tiny, tmp_path / "other"), out=tmp_path / "c",
                      submissions=None, resamples=200)
    assert fresh.systems["optical-unbalanced"].languages["sw"]["map"] == pytest.approx(
        a.languages["sw"]["map"], abs=1e-6)  # same seed, same machine, retrained: same MAP


@pytest.mark.slow
def test_students_trained_in_worker_processes_are_those_a_serial_run_trains(tiny, tiny_track, tmp_path):
    from clir_bench.workers import Job, plan, train_parallel

    track = get_track(str(tiny_track))
    systems = ["encoder-ft", "optical-unbalanced", "bm25"]
    ctx = _ctx(tiny, tmp_path / "p")
    assert [(j.system, j.seed) for j in plan(track, track.fold_tracks(), systems=systems, ctx=ctx, seeds=2)] == [
        ("encoder-ft", 0), ("optical-unbalanced", 0), ("encoder-ft", 1), ("optical-unbalanced", 1)]
    parallel = run_track(track, systems=systems, ctx=ctx, out=tmp_path / "a", submissions=None, resamples=200,
                         workers=2)
    assert plan(track, track.fold_tracks(), systems=systems, ctx=ctx, seeds=1) == []  # the workers cached them
    serial = run_track(track, systems=systems, ctx=_ctx(tiny, tmp_path / "s"), out=tmp_path / "b", submissions=None,
                       resamples=200, workers=1)
    for name in ("encoder-ft", "optical-unbalanced"):
        assert parallel.systems[name].info["cached"] is True
        assert serial.systems[name].info["cached"] is False
        for lang in ("sw", "de"):  # one thread per worker: the same training up to float rounding
            assert parallel.systems[name].languages[lang]["map"] == pytest.approx(
                serial.systems[name].languages[lang]["map"], abs=1e-4)
    failed = train_parallel(track, [Job("no-such-system", 0, 0), Job("no-such-system", 0, 1)], ctx=ctx, workers=2)
    assert len(failed) == 2 and all("no-such-system" in why for why in failed.values())  # left to the serial path


def test_run_cli(cli, tiny, tiny_track, tmp_path):
    code, output = cli("run", "--track", tiny_track, "--encoder", tiny, "--systems", "bm25,nmt,encoder-zs",
                       "--out", tmp_path / "out", "--submissions", tmp_path / "subs", "--bootstrap", "200")
    assert code == 0, output
    assert "nmt: not run: no MT model (pass --mt-model)" in output.replace("\n", " ").replace("  ", " ") or \
        "not run: no MT model" in output
    assert "encoder-zs" in output and "bm25" in output
    results = RunResults.from_dict(json.loads((tmp_path / "out" / "results.json").read_text()))
    assert results.systems["nmt"].to_dict() == {"status": "not run: no MT model (pass --mt-model)",
                                                "seconds": results.systems["nmt"].seconds}
    assert not (tmp_path / "subs" / "tiny" / "nmt").exists()


def test_reference_runs_are_recorded_and_rerecorded(cli, tmp_path):
    subs = tmp_path / "subs"
    code, output = cli("run", "--track", "noise-0.3", "--systems", "bm25", "--out", tmp_path / "out",
                       "--submissions", subs, "--bootstrap", "200")
    assert code == 0 and "recorded as" in output, output
    folder = subs / "noise-0.3" / "bm25"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    code, output = cli("run", "--track", "noise-0.3", "--systems", "bm25", "--out", tmp_path / "out",
                       "--submissions", subs, "--bootstrap", "200")
    assert code == 0 and "unchanged: the run is identical" in output, output  # a rerun leaves the tree clean
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    with gzip.open(folder / "run.trec.gz", "wt") as f:  # an older, different run is replaced
        f.write("sw-0101 Q0 udhr-0101 1 1.0 old\n")
    code, output = cli("run", "--track", "noise-0.3", "--systems", "bm25", "--out", tmp_path / "out",
                       "--submissions", subs, "--bootstrap", "200")
    assert code == 0 and "recorded as" in output, output
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "run.trec.gz"]
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["produced_by"] == "harness" and meta["track_version"] == 2 and meta["team"] == "clir-bench reference"
    assert gzip.decompress((folder / "run.trec.gz").read_bytes()) == (tmp_path / "out" / "bm25.trec").read_bytes()
    meta["produced_by"] = "participant"  # a participant's submission of that name is never replaced
    (folder / "metadata.json").write_text(json.dumps(meta))
    code, output = cli("run", "--track", "noise-0.3", "--systems", "bm25", "--out", tmp_path / "out",
                       "--submissions", subs, "--bootstrap", "200")
    assert code == 0 and "not recorded: noise-0.3/bm25 is a participant's submission" in output
    assert json.loads((folder / "metadata.json").read_text())["produced_by"] == "participant"


@pytest.mark.parametrize("args, phrase", [
    (["--systems", "bm52"], "Did you mean 'bm25'?"),
    (["--track", "noise-03"], "Did you mean 'noise-0.3'?"),
    (["--systems", "nmt", "--mt-model", "/nonexistent/model"], None),
])
def test_run_cli_bad_input(cli, tmp_path, args, phrase):
    code, output = cli("run", "--out", tmp_path / "out", "--submissions", tmp_path / "subs", *args)
    assert "Traceback" not in output
    if phrase:
        assert code == 1 and phrase in output
    else:  # a missing MT model is reported as not run, with the reason
        said = output.replace("\n", " ")  # without transformers installed, that is the reason given
        assert code == 0 and ("not run: cannot load MT model" in said or "install the models extra" in said), said


def test_unwritable_output_folder(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, output = cli("run", "--systems", "bm25", "--out", blocker / "out", "--no-record")
    assert code == 1 and "cannot create output folder" in output and "Traceback" not in output


def test_cuda_without_a_gpu_is_a_clear_error(cli, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    code, output = cli("run", "--systems", "bm25", "--device", "cuda", "--out", tmp_path / "o", "--no-record")
    assert code == 1 and "no CUDA device" in output and "Traceback" not in output
    code, output = cli("run", "--systems", "bm25", "--device", "tpu", "--out", tmp_path / "o", "--no-record")
    assert code == 1 and "expected auto, cpu or cuda" in output


def test_device_auto_is_the_cpu_without_a_gpu():
    torch = pytest.importorskip("torch")
    from clir_bench.models.encoder import check_device

    assert check_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert check_device("cpu") == "cpu"


def test_results_carry_the_primary_metric_by_its_name(tmp_path):
    toml = tmp_path / "ndcg-first.toml"
    toml.write_text(TINY_TRACK.replace("[collection]", 'metrics = ["ndcg@10", "map"]\n[collection]', 1))
    track = get_track(str(toml))
    assert track.primary.name == "ndcg@10"
    results = run_track(track, systems=["bm25"], ctx=Context(log=lambda *a: None), out=tmp_path / "out",
                        submissions=None, resamples=200)
    row = results.systems["bm25"]
    report = json.loads((tmp_path / "out" / "bm25.json").read_text())
    assert row.primary == "ndcg@10"
    for lang in ("sw", "de"):
        assert row.languages[lang]["ndcg@10"] == report["languages"][lang]["mean"]["ndcg@10"]
        assert "map" not in row.languages[lang]


def test_training_summary_without_a_dev_split_names_no_dev_score():
    from types import SimpleNamespace

    from clir_bench.cli import training_summary

    line = training_summary(SimpleNamespace(history=[], steps_run=12, best_step=0, best_dev_map=None))
    assert line == "trained 12 steps; no early stopping (no dev evaluation)" and "inf" not in line
    line = training_summary(SimpleNamespace(history=[{}], steps_run=40, best_step=20, best_dev_map=0.61234))
    assert line == "trained 40 steps; best step 20 (dev MAP 0.6123)"


def test_one_fold_is_a_smoke_test_never_recorded(cli, tmp_path):
    subs = tmp_path / "subs"
    code, output = cli("run", "--track", "noise-0.3", "--systems", "bm25", "--folds", "1", "--out", tmp_path / "out",
                       "--submissions", subs, "--bootstrap", "200")
    assert code == 0, output
    assert "fold 1 only (smoke test)" in output.replace("\n", " ") and not subs.exists()
    results = RunResults.from_dict(json.loads((tmp_path / "out" / "results.json").read_text()))
    assert results.folds == [1] and results.smoke
    fold1 = {q for q, f in get_track("noise-0.3").fold_of().items() if f == 1}
    run_qids = {line.split()[0] for line in (tmp_path / "out" / "bm25.trec").read_text().splitlines()}
    assert run_qids == fold1
    for bad, phrase in (("5", "expected one fold of 0, 1, 2"), ("0,1", "expected one fold"), ("x", "fold numbers")):
        code, output = cli("run", "--track", "noise-0.3", "--systems", "bm25", "--folds", bad, "--out",
                           tmp_path / "o2", "--no-record")
        assert code == 1 and phrase in output and "Traceback" not in output, output


def test_validate_warns_when_a_fold_is_missing(cli, tmp_path):
    track = get_track("noise-0.3")
    judgments_docs = {q: sorted(track.fold_tracks()[f].data("test")[q.split("-")[0]].docs)[:3]
                      for q, f in track.fold_of().items() if f != 2}
    run = tmp_path / "two-folds.trec"
    run.write_text("".join(f"{q} Q0 {d} {r} {10 - r} x\n" for q, docs in judgments_docs.items()
                           for r, d in enumerate(docs, 1)))
    code, output = cli("validate", run, "--track", "noise-0.3")
    said = output.replace("\n", " ")
    assert code == 0 and "no query of fold 2" in said and "no query of fold 0" not in said, output


@pytest.mark.slow
def test_seeds_give_the_seed_spread_and_the_first_seed_is_the_run(tiny, tiny_track, tmp_path):
    track = get_track(str(tiny_track))
    results = run_track(track, systems=["encoder-ft", "bm25"], ctx=_ctx(tiny, tmp_path), out=tmp_path / "out",
                        submissions=None, resamples=200, seeds=2)
    spread = results.systems["encoder-ft"].seeds
    assert spread["seeds"] == [0, 1] and len(spread["gap"]["values"]) == 2 and spread["gap"]["sd"] >= 0
    assert spread["gap"]["values"][0] == results.systems["encoder-ft"].summary["map"]["gap"]
    assert (tmp_path / "out" / "encoder-ft.seed-1.trec").is_file()
    assert results.systems["bm25"].seeds is None  # nothing to seed: run once
    student = next((tmp_path / "cache" / "students").iterdir())
    assert sorted(p.name for p in student.iterdir()) == ["delta.safetensors", "queries.safetensors", "student.json"]
    history = json.loads((student / "student.json").read_text())["dev_history"]
    assert [h["step"] for h in history][:2] == [0, 2] and set(history[0]["dev_map"]) == {"sw", "de"}


def test_a_protocol_is_recorded_with_its_students_and_names_their_reference(tiny, tiny_track, tmp_path):
    from clir_bench.pipeline import recorded_name
    from clir_bench.systems import get_system

    track = get_track(str(tiny_track))
    ctx = Context(encoder=str(tiny), cache=tmp_path / "cache", protocol="standard", log=lambda *a: None,
                  train={"max_steps": 2, "eval_every": 2})
    results = run_track(track, systems=["encoder-ft", "bm25"], ctx=ctx, out=tmp_path / "out", submissions=None,
                        resamples=200)
    assert results.systems["encoder-ft"].info["protocol"] == "standard"
    assert "protocol" not in results.systems["bm25"].info  # an untrained system has none
    assert recorded_name(get_system("encoder-ft"), ctx) == "encoder-ft-standard"
    assert recorded_name(get_system("bm25"), ctx) == "bm25"  # the same run under any protocol
    assert recorded_name(get_system("encoder-ft"), Context()) == "encoder-ft"
