"""`clir-bench diagnose`: per-pair signals of the OPTICAL systems against the noise manifest."""

import json

import pytest
from tiny_model import TINY_TRACK

from clir_bench.diagnostics import best_separators, diagnose_track
from clir_bench.systems import Context
from clir_bench.tracks.track import get_track


def _track(tmp_path, rate):
    path = tmp_path / f"t{rate}.toml"
    path.write_text(TINY_TRACK.replace("rate = 0.3", f"rate = {rate}"))
    return get_track(str(path))


def _ctx(tiny, tmp_path):
    return Context(encoder=str(tiny), cache=tmp_path / "cache", train={"max_steps": 2, "eval_every": 2},
                   log=lambda *a: None)


@pytest.mark.slow
def test_signals_of_ot_systems_and_the_control_against_the_manifest(tiny, tmp_path):
    track = _track(tmp_path, 0.3)
    report = diagnose_track(track, systems=["optical-unbalanced", "encoder-ft", "bm25"], ctx=_ctx(tiny, tmp_path),
                            resamples=200)
    json.dumps(report, allow_nan=False)
    assert report["applicable"] and report["skipped"] == {"bm25": "the system scores no training pairs"}
    _, manifest = track.noisy_bitext()
    assert report["corrupted"] == len(manifest) > 0
    rows = {(r["system"], r["model"], r["signal"], r["group"]): r for r in report["rows"]}
    for model in ("trained", "step 0"):
        assert {"mass", "ot_cost", "anchor", "contrastive", "loss"} <= {
            s for (sy, m, s, g) in rows if sy == "optical-unbalanced" and m == model}
        assert {s for (sy, m, s, g) in rows if sy == "encoder-ft" and m == model} == {"anchor", "contrastive", "loss"}
    overall = rows[("optical-unbalanced", "trained", "mass", "all")]
    assert 0 <= overall["auc"] <= 1 and overall["auc_ci"][0] <= overall["auc"] <= overall["auc_ci"][1]
    assert overall["corrupted"] + overall["clean"] == report["pairs"]
    assert {g for (_, _, _, g) in rows} == {"all", "lang sw", "lang de"}
    assert [r["system"] for r in best_separators(report)] and all(
        r["model"] == "trained" for r in best_separators(report))


def test_clean_bitext_is_not_applicable(tmp_path):
    report = diagnose_track(_track(tmp_path, 0.0), systems=["optical-sinkhorn"], ctx=Context(log=lambda *a: None))
    assert report["applicable"] is False and "not applicable" in report["reason"] and report["rows"] == []


def test_diagnose_cli_refuses_systems_without_signals(cli):
    code, output = cli("diagnose", "--track", "noise-0.3", "--systems", "bm25,psq")
    assert code == 1 and "scores training pairs" in output
