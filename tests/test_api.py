"""The Python API: `load_track`, `load_judgments`, `score` and `compare` on paths and mappings."""

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import clir_bench
from clir_bench.evaluation.validation import RunSpec, scan_run

REFERENCE = Path(__file__).parents[1] / "submissions" / "noise-0.3" / "optical-sinkhorn" / "run.trec.gz"


def _as_mapping(path: Path) -> dict:
    scan = scan_run(path, RunSpec(qids=None, docs_of=None), consume=lambda batch: batch)
    return scan.results


def test_the_readme_example_runs_as_written():
    track = clir_bench.load_track("noise-0.3")
    report = clir_bench.score({"sw-0101": {"udhr-0101": 2.0, "udhr-0401": 1.0}}, track=track)
    assert report.languages["sw"].missing == len(track.data("test")["sw"].queries) - 1
    assert report.summary.by_metric["map"].gap == pytest.approx(
        report.summary.by_metric["map"].high - report.summary.by_metric["map"].low)
    assert report.to_dict()["languages"]["sw"]["mean"]["map"] == report.mean("sw")


def test_mapping_path_and_cli_give_the_same_report(cli, tmp_path):
    run = _as_mapping(REFERENCE)
    from_mapping = clir_bench.score(run, track="noise-0.3", resamples=500)
    from_path = clir_bench.score(REFERENCE, track="noise-0.3", resamples=500)
    assert from_mapping == from_path  # scores, intervals, provenance; not where the run came from
    assert from_mapping.run.path == "<mapping>" and from_path.run.path == str(REFERENCE)
    code, output = cli("score", REFERENCE, "--track", "noise-0.3", "--json", "--bootstrap", "500")
    assert code == 0, output
    from_cli = json.loads(output[output.index("{"):])
    assert from_cli == json.loads(json.dumps(from_path.to_dict()))
    assert clir_bench.ScoreReport.from_dict(from_cli) == from_path
    detected = clir_bench.score(run, resamples=500)  # no track: recognised from the query ids
    assert detected.provenance["track"] in {"noise-0.0", "noise-0.1", "noise-0.3", "noise-0.5"}


def test_metrics_and_qrels_mapping():
    qrels = {"x-1": {"a": 1, "b": 0}, "x-2": {"c": 2}}
    report = clir_bench.score({"x-1": {"a": 1.0, "b": 2.0}, "x-2": {"c": 5}}, qrels=qrels, metrics=["mrr", "map"])
    assert report.primary == "mrr" and report.metrics == ("mrr", "map")
    assert report.per_query["x-1"] == {"mrr": 0.5, "map": 0.5} and report.per_query["x-2"]["mrr"] == 1.0
    assert report.summary is None  # no track: no resource classes, no gap


@pytest.mark.parametrize("run, found", [
    ({"sw-0101": {"udhr-0101": math.nan}}, "score nan for query 'sw-0101' document 'udhr-0101', expected a finite"),
    ({"sw-0101": {"udhr-0101": "high"}}, "score 'high' for query 'sw-0101'"),
    ({"sw-9999": {"udhr-0101": 1.0}}, "query id 'sw-9999', expected a query of track noise-0.3"),
    ({"sw-0101": {"udhr-9999": 1.0}}, "document 'udhr-9999' for query 'sw-0101', expected a document of the"),
    ({"sw-0101": {"udhr 0101": 1.0}}, "expected a document id string without whitespace"),
    ({"sw-0101": [("udhr-0101", 1.0)]}, "list for query 'sw-0101', expected a mapping {docid: score}"),
    ({}, "no documents (an empty run)"),
])
def test_in_memory_runs_are_validated_like_files(run, found):
    with pytest.raises(clir_bench.ClirBenchError) as info:
        clir_bench.score(run, track="noise-0.3")
    assert found in str(info.value) and "<mapping>" in str(info.value)


def test_judgments_bound_once_are_reused_and_compare_equals_the_cli(cli):
    judged = clir_bench.load_judgments(track="noise-0.3")
    other = REFERENCE.parent.parent / "encoder-ft" / "run.trec.gz"
    a = clir_bench.score(REFERENCE, judgments=judged, resamples=500)
    assert a == clir_bench.score(REFERENCE, track="noise-0.3", resamples=500)
    with pytest.raises(clir_bench.ClirBenchError, match="not both"):
        clir_bench.score(REFERENCE, judgments=judged, track="noise-0.3")
    comparison = clir_bench.compare(REFERENCE, other, judgments=judged, resamples=500)
    assert isinstance(comparison, clir_bench.Comparison)
    code, output = cli("compare", REFERENCE, other, "--track", "noise-0.3", "--json", "--bootstrap", "500")
    assert code == 0, output
    assert json.loads(output[output.index("{"):]) == json.loads(json.dumps(comparison.to_dict()))
    b = clir_bench.score(other, judgments=judged, resamples=500)  # reports from score compare the same way
    assert clir_bench.compare(a, b, judgments=judged, resamples=500).rows == comparison.rows


def test_resamples_zero_gives_point_estimates_only():
    full = clir_bench.score(REFERENCE, track="noise-0.3", resamples=500)
    point = clir_bench.score(REFERENCE, track="noise-0.3", resamples=0)
    assert point.per_query == full.per_query and point.summary.by_metric == full.summary.by_metric
    assert point.mean_ci == (None, None) and set(point.summary.ci.values()) == {(None, None)}
    assert all(row.ci == (None, None) for row in point.languages.values())
    assert point.provenance["bootstrap"]["resamples"] == 0


def test_import_is_light_and_lazy():
    code = ("import sys, clir_bench; assert 'clir_bench.api' not in sys.modules; clir_bench.score; "
            "heavy = [m for m in ('torch', 'transformers', 'ot', 'ir_datasets', 'scipy') if m in sys.modules]; "
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert gzip.decompress(REFERENCE.read_bytes())  # the reference run this file scores ships with the repo
