"""Training protocols: their settings, the schedule, their record, and OT compared within one protocol."""

import pytest
from synthetic_store import synthetic_run

from clir_bench.leaderboard.data import Cache, collect
from clir_bench.leaderboard.store import metadata, store
from clir_bench.models.protocol import PROTOCOLS, QUICK, Protocol, get_protocol
from clir_bench.tracks.track import get_track


def test_a_budget_in_epochs_becomes_steps_of_the_fold():
    p = Protocol("t", "test", lr=1e-4, schedule="constant", patience=3, epochs=4, evals_per_epoch=2, warmup=1)
    s = p.settings(2336)  # 146 steps an epoch
    assert s["max_steps"] == 4 * 146 and s["eval_every"] == 73 and s["warmup"] == 146
    assert s["max_steps"] % s["eval_every"] == 0
    assert p.settings(10)["max_steps"] >= 1  # a bitext smaller than a batch still trains


@pytest.mark.parametrize(("name", "steps"), [("fixed", 146), ("fixed-half", 73)])
def test_an_equal_budget_protocol_evaluates_once_at_its_end(name, steps):
    """Nothing to select: the one dev evaluation is the last step, at the same budget for every system;
    the warm-up is the standard protocol's (one epoch), so fixed-half stops halfway up it."""
    s = get_protocol(name).settings(2336)  # 146 steps an epoch
    assert s["max_steps"] == s["eval_every"] == steps
    assert s["warmup"] == get_protocol("standard").settings(2336)["warmup"] == 146


def test_quick_keeps_the_version_2_students_cache_keys():
    """Every setting of quick but the budget is an OpticalConfig default, so students trained before
    protocols had names are found in the cache under the same key."""
    pytest.importorskip("torch")
    from clir_bench.models.optical import recipe

    before = recipe("no-ot", solver="sinkhorn", seed=0, max_steps=60, eval_every=20, patience=1)
    assert recipe("no-ot", solver="sinkhorn", seed=0, **QUICK.settings(2400)).key() == before.key()
    constant = recipe("no-ot", solver="sinkhorn", seed=0, **{**QUICK.settings(2400), "schedule": "constant"})
    assert constant.key() != before.key()


@pytest.mark.parametrize("schedule", ["linear", "constant"])
def test_schedule(schedule):
    pytest.importorskip("torch")
    from clir_bench.models.optical import OpticalConfig

    c = OpticalConfig(max_steps=100, warmup=0.1, schedule=schedule)
    assert [c.lr_factor(s) for s in (0, 4, 9)] == [0.1, 0.5, 1.0]
    late = [c.lr_factor(s) for s in (10, 55, 99)]
    if schedule == "constant":
        assert late == [1.0, 1.0, 1.0]
    else:  # the version-2 formula: linear decay to 0 at max_steps
        assert late == [1.0, 0.5, pytest.approx(1 / 90)]
    assert OpticalConfig(max_steps=1000, warmup=150).warmup_steps() == 150


def test_unknown_protocol_is_refused_with_a_suggestion(cli):
    code, output = cli("run", "--track", "noise-0.3", "--protocol", "quik", "--no-record")
    assert code != 0 and "unknown protocol 'quik'" in output and "Did you mean 'quick'" in output
    code, output = cli("protocols")
    assert code == 0 and all(name in output for name in PROTOCOLS)
    assert get_protocol("quick") is QUICK


def test_ot_is_tested_against_the_control_of_its_own_protocol(tmp_path):
    """Two protocols' students are two experiments: each gets its own headline and finding."""
    root = tmp_path / "submissions"
    track = get_track("noise-0.0")
    rows = [("encoder-zs", 0.6, {"encoder": "e"}), ("encoder-ft", 0.7, {"recipe": "no-ot", "protocol": "quick"}),
            ("optical-sinkhorn", 0.72, {"recipe": "reference", "protocol": "quick"}),
            ("encoder-ft-long", 0.9, {"recipe": "no-ot", "protocol": "long"}),
            ("optical-sinkhorn-long", 0.8, {"recipe": "reference", "protocol": "long"})]
    for i, (name, skill, system) in enumerate(rows):
        run = tmp_path / f"{name}.trec"
        run.write_text(synthetic_run(track, skill=skill, seed=i))
        store(root=root, meta=metadata(name=name, track=track, team="clir-bench reference", produced_by="harness",
                                       system={"encoder": "e", **system}), run=run)
    board = collect(root=root, cache=Cache(None, tmp_path / "cache"), resamples=200)
    (t,) = board.tracks
    by_protocol = {h["protocol"]: h for h in t["headlines"]}
    assert set(by_protocol) == {"quick", "long"}
    for protocol, ot in (("quick", "optical-sinkhorn"), ("long", "optical-sinkhorn-long")):
        h = by_protocol[protocol]
        assert h["ot"]["name"] == ot
        against = {test["against"] for test in h["ot"]["tests"] if test["role"] == "control"}
        assert against == {"encoder-ft" if protocol == "quick" else "encoder-ft-long"}
    finding = board.families[0]["finding"]
    assert "Under the quick training protocol, " in finding and "Under the long training protocol, " in finding
    page = next(p for p in board.pages if p["name"] == "optical-sinkhorn-long")
    assert "OPTICAL distillation with entropic OT" in page["card"]["what"]  # the method card, by base name
    assert page["card"]["paper"][1] == "https://arxiv.org/abs/2301.12566"
    assert ("training protocol", "long") in page["settings"]
    assert "encoder-ft-long" in {c["against"] for c in page["comparisons"]}
    assert "encoder-ft" not in {c["against"] for c in page["comparisons"] if c["label"] == "the no-OT control"}
