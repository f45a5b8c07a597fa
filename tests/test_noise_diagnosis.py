"""`clir-bench diagnose`: per-pair signals of the OPTICAL systems against the noise manifest."""

import json

import pytest
from tiny_model import TINY_TRACK

from clir_bench.noise_diagnosis import Diagnosis, best_separators, diagnose_track
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
                            resamples=200).to_dict()
    json.dumps(report, allow_nan=False)
    assert report["applicable"] and report["skipped"] == {"bm25": "the system scores no training pairs"}
    _, manifest = track.noisy_bitext()
    assert report["corrupted"] == len(manifest) > 0
    rows = {(r["system"], r["model"], r["signal"], r["group"]): r for r in report["rows"]}
    constant = {(c["system"], c["model"], c["signal"]) for c in report["constant"]}
    for model in ("trained", "step 0"):
        def signals(system, model=model):
            return {s for (sy, m, s, g) in rows if sy == system and m == model} | {
                s for (sy, m, s) in constant if sy == system and m == model}

        assert {"mass", "ot_cost", "anchor", "contrastive", "loss"} <= signals("optical-unbalanced")
        assert signals("encoder-ft") == {"anchor", "contrastive", "loss"}
    # a signal that is one number up to float rounding is listed as constant, not read as a detector: the
    # anchor term at step 0, where the student is the teacher
    assert {("optical-unbalanced", "step 0", "anchor"), ("encoder-ft", "step 0", "anchor")} <= constant
    assert not {k[:3] for k in rows} & constant and all(abs(c["value"]) < 1e-3 for c in report["constant"])
    overall = rows[("optical-unbalanced", "trained", "mass", "all")]
    assert 0 <= overall["auc"] <= 1 and overall["auc_ci"][0] <= overall["auc"] <= overall["auc_ci"][1]
    assert overall["corrupted"] + overall["clean"] == report["pairs"]
    assert {g for (_, _, _, g) in rows} == {"all", "lang sw", "lang de"}
    assert [r["system"] for r in best_separators(report)] and all(
        r["model"] == "trained" for r in best_separators(report))
    assert report["systems"]["optical-unbalanced"]["solver"] == "unbalanced"
    # paired comparisons: the two techniques' losses, and unbalanced OT's signals against the control's loss
    tests = {(c["a"], c["a_signal"], c["b"], c["b_signal"]): c for c in report["comparisons"]}
    assert set(tests) == {("encoder-ft", "loss", "optical-unbalanced", "loss"),
                          ("optical-unbalanced", "mass", "encoder-ft", "loss"),
                          ("optical-unbalanced", "ot_cost", "encoder-ft", "loss")}
    for (a, sa, b, sb), c in tests.items():
        auc = {(r["system"], r["signal"]): r["auc"] for r in report["rows"] if r["model"] == "trained"
               and r["group"] == "all"}
        assert c["diff"] == pytest.approx(auc[a, sa] - auc[b, sb]) and c["pairs"] == report["pairs"]
        assert c["diff_ci"][0] <= c["diff"] <= c["diff_ci"][1] and c["p"] <= c["p_holm"] <= 1
    # the signals are kept beside each student: a second diagnosis reads them, and says the same
    students = list((tmp_path / "cache" / "students").iterdir())
    assert len(students) == 2 and all((s / "signals.safetensors").is_file() for s in students)
    # ... and bootstraps in two processes give the same numbers as in this one
    again = diagnose_track(track, systems=["optical-unbalanced", "encoder-ft"], ctx=_ctx(tiny, tmp_path),
                           resamples=200, bootstrap_workers=2).to_dict()
    assert again["rows"] == report["rows"] and again["comparisons"] == report["comparisons"]


@pytest.mark.slow
def test_workers_score_the_pairs_as_the_serial_path_does(tiny, tmp_path):
    from clir_bench.workers import plan

    track = _track(tmp_path, 0.3)
    systems = ["optical-unbalanced", "encoder-ft"]
    serial = diagnose_track(track, systems=systems, ctx=_ctx(tiny, tmp_path / "s"), resamples=200).to_dict()
    ctx = _ctx(tiny, tmp_path / "p")
    assert {j.task for j in plan(track, track.fold_tracks(), systems=systems, ctx=ctx, signals=True)} == {"signals"}
    parallel = diagnose_track(track, systems=systems, ctx=ctx, resamples=200, workers=2).to_dict()
    assert plan(track, track.fold_tracks(), systems=systems, ctx=ctx, signals=True) == []  # stored by the workers
    for a, b in zip(serial["rows"], parallel["rows"], strict=True):
        assert (a["system"], a["model"], a["signal"], a["group"]) == (b["system"], b["model"], b["signal"], b["group"])
        assert a["auc"] == pytest.approx(b["auc"], abs=1e-3)  # one thread per worker: float rounding only


@pytest.mark.slow
def test_run_diagnoses_the_systems_it_trained(tiny, tmp_path):
    from clir_bench.pipeline import run_track

    results = run_track(_track(tmp_path, 0.3), systems=["encoder-ft", "bm25"], ctx=_ctx(tiny, tmp_path),
                        out=tmp_path / "out", submissions=None, resamples=200, diagnose=True)
    diagnosis = results.diagnostics
    assert diagnosis["status"] == "ok" and [b["system"] for b in diagnosis["best"]] == ["encoder-ft"]
    written = json.loads((tmp_path / "out" / "diagnostics.json").read_text())
    assert {r["system"] for r in written["rows"]} == {"encoder-ft"} and "bm25" not in written["skipped"]


def _report(systems, *, sha="abc", auc=0.61234567):
    return {"track": "noise-0.3", "track_version": 2, "noise": "misalign 0.3", "bitext_sha256": sha,
            "corrupted": 3, "pairs": 10, "applicable": True, "skipped": {},
            "systems": {s: {"solver": "sinkhorn"} for s in systems},
            "rows": [{"system": s, "model": "trained", "signal": "loss", "group": "all", "auc": auc,
                      "auc_ci": [0.5, 0.7]} for s in systems],
            "comparisons": [{"a": a, "a_signal": "loss", "b": b, "b_signal": "loss", "diff": 0.01, "p": 0.02,
                             "p_holm": 0.02} for i, a in enumerate(systems) for b in systems[i + 1:]]}


def test_a_recorded_diagnosis_merges_systems_and_stays_byte_stable(tmp_path):
    from clir_bench.leaderboard.store import discover
    from clir_bench.leaderboard.store import load_diagnosis as load
    from clir_bench.noise_diagnosis import record_diagnosis

    track = get_track("noise-0.3")
    path = tmp_path / "noise-0.3" / "diagnostics.json"
    assert record_diagnosis(_report(["optical-emd"]), root=tmp_path, track=track).startswith("recorded")
    assert load(path)["rows"][0]["auc"] == 0.6123  # rounded: forward passes differ in the 7th digit
    record_diagnosis(_report(["encoder-ft", "optical-partial"]), root=tmp_path, track=track)
    assert {r["system"] for r in load(path)["rows"]} == {"optical-emd", "encoder-ft", "optical-partial"}
    assert [(c["a"], c["b"]) for c in load(path)["comparisons"]] == [("encoder-ft", "optical-partial")]
    record_diagnosis(_report(["optical-emd", "optical-sinkhorn"]), root=tmp_path, track=track)
    # comparisons only between techniques scored together; Holm over the merged family
    assert [(c["a"], c["b"], c["p_holm"]) for c in load(path)["comparisons"]] == [
        ("encoder-ft", "optical-partial", 0.04), ("optical-emd", "optical-sinkhorn", 0.04)]
    record_diagnosis(_report(["optical-partial"]), root=tmp_path, track=track)
    assert [(c["a"], c["b"]) for c in load(path)["comparisons"]] == [("optical-emd", "optical-sinkhorn")]
    assert set(load(path)["systems"]) == {"optical-emd", "encoder-ft", "optical-partial", "optical-sinkhorn"}
    before = path.read_bytes()
    assert record_diagnosis(_report(["optical-emd", "optical-sinkhorn"], auc=0.61230001), root=tmp_path,
                  track=track).startswith("unchanged")
    assert path.read_bytes() == before
    # another bitext: the rest is stale
    record_diagnosis(_report(["encoder-ft"], sha="other"), root=tmp_path, track=track)
    assert {r["system"] for r in load(path)["rows"]} == {"encoder-ft"}
    assert discover(tmp_path) == ([], [])  # the store does not mistake it for a submission
    smoke = {**_report(["encoder-ft"]), "smoke": "fold 0 only: that fold's training pairs"}
    assert record_diagnosis(smoke, root=tmp_path, track=track).startswith("not recorded: fold 0 only")
    assert "not recorded" in record_diagnosis(_report(["encoder-ft"]), root=tmp_path,
                                    track=_track(tmp_path, 0.3))  # only built-in tracks are on the leaderboard


def test_a_recorded_p_value_keeps_its_side_of_alpha(tmp_path):
    from clir_bench.leaderboard.store import load_diagnosis
    from clir_bench.noise_diagnosis import record_diagnosis

    report = _report(["optical-emd", "optical-sinkhorn"])
    report["comparisons"][0].update(p=2 * 50 / 2001, p_holm=2 * 50 / 2001)  # 0.049975...: 0.05 at four places
    record_diagnosis(report, root=tmp_path, track=get_track("noise-0.3"))
    recorded = load_diagnosis(tmp_path / "noise-0.3" / "diagnostics.json")["comparisons"][0]
    assert recorded["p"] == recorded["p_holm"] == 0.049975 < 0.05


def test_clean_bitext_is_not_applicable(tmp_path):
    typed = diagnose_track(_track(tmp_path, 0.0), systems=["optical-sinkhorn"], ctx=Context(log=lambda *a: None))
    assert typed == Diagnosis.from_dict(typed.to_dict())  # the typed result and its JSON form agree
    report = typed.to_dict()
    assert report["applicable"] is False and "not applicable" in report["reason"] and report["rows"] == []


def test_diagnose_cli_refuses_systems_without_signals(cli):
    code, output = cli("diagnose", "--track", "noise-0.3", "--systems", "bm25,psq")
    assert code == 1 and "scores training pairs" in output


def test_comparisons_leave_out_a_signal_constant_by_construction_and_are_holm_corrected():
    import random

    from clir_bench.noise_diagnosis import comparisons

    rng = random.Random(0)
    pairs = [("sw", str(i)) for i in range(400)]
    kind_of = {p: "misalign" for p in pairs[:100]}
    trained = {name: {p: {sig: rng.random() + (0.5 if p in kind_of else 0) for sig in sigs} for p in pairs}
               for name, sigs in (("encoder-ft", ("loss",)), ("optical-sinkhorn", ("loss", "mass", "ot_cost")),
                                  ("optical-unbalanced", ("loss", "mass", "ot_cost")))}
    for p in pairs:  # balanced OT moves all the mass, up to float rounding
        trained["optical-sinkhorn"][p]["mass"] = 1 + rng.random() * 1e-7
    rows = comparisons(trained, kind_of, resamples=300, control="encoder-ft")
    assert [(r["a"], r["a_signal"], r["b"]) for r in rows] == [
        ("encoder-ft", "loss", "optical-sinkhorn"), ("encoder-ft", "loss", "optical-unbalanced"),
        ("optical-sinkhorn", "loss", "optical-unbalanced"), ("optical-sinkhorn", "ot_cost", "encoder-ft"),
        ("optical-unbalanced", "mass", "encoder-ft"), ("optical-unbalanced", "ot_cost", "encoder-ft")]
    assert all(r["pairs"] == 400 and r["p"] <= r["p_holm"] <= 1 for r in rows)
    smallest = min(rows, key=lambda r: r["p"])
    assert smallest["p_holm"] == pytest.approx(min(1.0, len(rows) * smallest["p"]))  # Holm's first step
