"""Scoring semantics: pytrec_eval per query equals trec_eval -c, checked independently."""

import json
import math
import random

import pytest

from clir_bench.evaluation.judgments import from_qrels, from_track
from clir_bench.evaluation.scoring import score_run
from clir_bench.tracks.track import get_track


def _write(path, rows):
    path.write_text("".join(f"{q} Q0 {d} {r} {s} t\n" for q, d, r, s in rows))
    return path


def _qrels(path, qrels):
    path.write_text("".join(f"{q} 0 {d} {g}\n" for q, docs in qrels.items() for d, g in docs.items()))
    return path


def _score(tmp_path, qrels, rows, **kw):
    return score_run(_write(tmp_path / "run.trec", rows), from_qrels(_qrels(tmp_path / "qrels", qrels)),
                     resamples=200, **kw).to_dict()


def test_hand_worked_average_precision_and_missing_query(tmp_path):
    qrels = {"x-1": {"a": 1, "c": 2, "z": 0}, "x-2": {"m": 1}}
    rows = [("x-1", "a", 1, 3.0), ("x-1", "b", 2, 2.0), ("x-1", "c", 3, 1.0)]
    report = _score(tmp_path, qrels, rows)
    q1 = report["per_query"]["x-1"]
    assert q1["map"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert q1["mrr"] == 1.0
    assert q1["p@10"] == pytest.approx(2 / 10)  # trec_eval divides by the cutoff
    assert q1["r@100"] == 1.0
    assert q1["ndcg@10"] == pytest.approx((1 + 2 / math.log2(4)) / (2 + 1 / math.log2(3)))
    assert report["per_query"]["x-2"] == {m: 0.0 for m in report["metrics"]}  # absent from the run: 0
    assert report["languages"]["x"]["mean"]["map"] == pytest.approx((1 + 2 / 3) / 4)
    assert report["languages"]["x"]["missing"] == 1
    assert any("1 judged queries absent" in w for w in report["warnings"])


def test_ties_break_by_docid_descending_and_rank_column_is_ignored(tmp_path):
    # equal scores: trec_eval orders "b" before "a", whatever the rank column says
    report = _score(tmp_path, {"x-1": {"a": 1}}, [("x-1", "a", 1, 1.0), ("x-1", "b", 2, 1.0)])
    assert report["per_query"]["x-1"]["map"] == 0.5
    # scores decide, not ranks
    report = _score(tmp_path, {"x-1": {"a": 1}}, [("x-1", "a", 1, 1.0), ("x-1", "b", 2, 5.0)])
    assert report["per_query"]["x-1"]["mrr"] == 0.5


def _reference(ranked, judged):
    """Independent trec_eval definitions over a ranked list of docids."""
    rel = [judged.get(d, 0) for d in ranked]
    n_rel = sum(g > 0 for g in judged.values())
    hits, ap = 0, 0.0
    for i, g in enumerate(rel, 1):
        if g > 0:
            hits += 1
            ap += hits / i
    first = next((i for i, g in enumerate(rel, 1) if g > 0), None)
    dcg = sum(g / math.log2(i + 1) for i, g in enumerate(rel[:10], 1))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return {"map": ap / n_rel, "p@10": sum(g > 0 for g in rel[:10]) / 10,
            "r@100": sum(g > 0 for g in rel[:100]) / n_rel, "mrr": 1 / first if first else 0.0,
            "ndcg@10": dcg / idcg}


def test_random_tie_free_run_matches_an_independent_computation(tmp_path):
    rng = random.Random(7)
    qrels, rows, expected = {}, [], {}
    for q in range(40):
        qid = f"{rng.choice('ab')}-{q}"
        docs = [f"d{i}" for i in rng.sample(range(400), 150)]
        judged = {d: rng.choice([1, 1, 2]) for d in rng.sample(docs, 12)}
        judged.update({f"u{i}": rng.choice([0, 1]) for i in range(5)})  # judged, never retrieved
        judged[docs[0]] = 1
        qrels[qid] = judged
        scores = rng.sample(range(10**6), len(docs))  # distinct: no ties
        ranked = [d for _, d in sorted(zip(scores, docs, strict=True), reverse=True)]
        rows += [(qid, d, r, s / 1000)
                 for r, (s, d) in enumerate(sorted(zip(scores, docs, strict=True), reverse=True), 1)]
        expected[qid] = _reference(ranked, judged)
    report = _score(tmp_path, qrels, rows)
    for qid, ref in expected.items():
        for m, v in ref.items():
            assert report["per_query"][qid][m] == pytest.approx(v, abs=1e-9), (qid, m)


def test_track_classes_gap_and_relative_gap(tmp_path):
    track = get_track("noise-0.0")
    rows = []
    for lang, pair in ((lang, pair) for part in track.fold_tracks() for lang, pair in part.data("test").items()):
        for q, judged in pair.qrels.items():
            if track.languages[lang] == "high":  # perfect: every relevant document first
                ranked = sorted(judged, key=lambda d: -judged[d])
            else:  # only non-relevant documents
                ranked = [d for d in pair.docs if d not in judged][:5]
            rows += [(q, d, r, 100 - r) for r, d in enumerate(ranked, 1)]
    report = score_run(_write(tmp_path / "run.trec", rows), from_track(track), resamples=500).to_dict()
    summary = report["summary"]["map"]
    assert summary == {"high": 1.0, "low": 0.0, "gap": 1.0, "relative_gap": 1.0}
    assert report["summary"]["ci"]["gap"] == [1.0, 1.0]
    assert [lang for lang, row in report["languages"].items() if row["class"] == "low"] == track.of_class("low")
    json.dumps(report, allow_nan=False)


def test_score_cli_json_output_and_detection(cli, runs, tmp_path):
    out = tmp_path / "sub" / "report.json"
    code, output = cli("score", runs / "ok" / "good.trec", "--json", "--output", out, "--bootstrap", "200")
    assert code == 0, output
    assert "recognised the queries of track noise-0.0" in output
    assert "noise-0.1" in output  # the tracks that share its test data are named
    report = json.loads(out.read_text())
    assert report["scored_against"] == "track noise-0.0"
    assert report["provenance"]["qrels_sha256"] and report["provenance"]["pytrec_eval"]
    from clir_bench.sources.export import checksums

    assert report["provenance"]["bitext_sha256"] == checksums(get_track("noise-0.0"))["bitext"]
    assert set(report["summary"]) == {"map", "ndcg@10", "p@10", "mrr", "ci"}
    assert not list(out.parent.glob(".*tmp"))  # the atomic write left no temp file


def test_score_cli_table(cli, runs):
    code, output = cli("score", runs / "ok" / "good.trec", "--track", "noise-0.3", "--bootstrap", "200")
    assert code == 0, output
    assert "high mean" in output and "gap" in output and "relative" in output


def test_unrecognised_run_asks_for_a_track(cli, tmp_path):
    path = _write(tmp_path / "run.trec", [("q1", "d1", 1, 1.0)])
    code, output = cli("score", path)
    assert code == 1 and "match no built-in track" in output and "--track" in output


def test_track_and_qrels_together_is_refused(cli, runs, tmp_path):
    code, output = cli("score", runs / "ok" / "good.trec", "--track", "noise-0.0", "--qrels", tmp_path / "q")
    assert code == 1 and "not both" in output


def test_dev_split_is_scored_and_a_dev_run_scored_as_test_says_so(cli, tmp_path):
    """A participant tunes on dev: `score --split dev` joins every fold's dev queries with the same
    summary; the same run scored as test gets one error naming the cause, not one per document."""
    import random

    import clir_bench
    from clir_bench.evaluation.judgments import from_track

    dev = from_track(clir_bench.load_track("noise-0.3"), "dev")
    rng = random.Random(0)
    lines = []
    for q in sorted(dev.qrels):
        docs = sorted(dev.spec.docs_of[q])
        rng.shuffle(docs)
        relevant = sorted(d for d, g in dev.qrels[q].items() if g > 0)
        ranked = relevant[:1] + [d for d in docs if d not in relevant[:1]]
        lines += [f"{q} Q0 {d} {r} {1000 - r} dev-run" for r, d in enumerate(ranked[:100], 1)]
    run = tmp_path / "dev.trec"
    run.write_text("\n".join(lines) + "\n")
    code, output = cli("score", run, "--track", "noise-0.3", "--split", "dev", "--json", "--bootstrap", "200")
    assert code == 0, output
    report = json.loads(output[output.index("{"):])
    assert report["provenance"]["split"] == "dev" and report["summary"]["map"]["gap"] is not None
    assert report == json.loads(json.dumps(
        clir_bench.score(run, track="noise-0.3", split="dev", resamples=200).to_dict()))
    for command in ("score", "validate"):
        code, output = cli(command, run, "--track", "noise-0.3")
        assert code == 1 and "answers the dev split of track noise-0.3" in output and "--split dev" in output
        assert output.count("error:") == 1
