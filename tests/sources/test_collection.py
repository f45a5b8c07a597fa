"""The embedded UDHR collection and the ir_datasets path, through one interface."""

import pytest

from clir_bench.sources import udhr
from clir_bench.tracks.track import get_track, parse_track


def test_shipped_paragraph_counts_match_the_udhr_package_notes():
    counts = {lang: sum(map(len, udhr.paragraphs(lang).values()))
              for lang in ["en", "sw", "so", "yo", "ha", "de", "fr", "fi", "am", "tl"]}
    assert counts == {"en": 60, "sw": 60, "so": 57, "yo": 58, "ha": 59, "de": 59, "fr": 59, "fi": 60,
                      "am": 50, "tl": 63}
    assert udhr.fallbacks(["so", "yo", "sw", "de"]) == {"so": [0, 2], "yo": [0, 2], "de": [0]}


@pytest.mark.parametrize("fold", udhr.FOLDS)
def test_splits_partition_units_and_preamble_trains(fold):
    splits = {s: set(udhr.units_of(s, fold)) for s in ("test", "dev", "train")}
    assert set.union(*splits.values()) == set(udhr.UNITS)
    assert sum(map(len, splits.values())) == len(udhr.UNITS)
    assert 0 in splits["train"] and len(splits["test"]) == len(splits["dev"]) == 10


@pytest.mark.parametrize("name", ["noise-0.0", "noise-0.5"])
def test_no_training_text_in_test_or_dev_collections(name):
    for track in get_track(name).fold_tracks():
        held_out = set()
        for split in ("test", "dev"):
            for pair in track.data(split).values():
                held_out |= set(pair.queries.values()) | set(pair.docs.values())
        bitext, _ = track.noisy_bitext()
        for pairs in bitext.values():
            for p in pairs:
                assert p.text not in held_out and p.english not in held_out, p.id
                for sentence in (p.text, p.english):  # nor inside a concatenated article-level pair
                    assert not any(h in sentence for h in held_out if len(h) > 40), p.id


def test_cross_validation_tests_every_article_once_against_its_folds_pool():
    track = get_track("noise-0.0")
    folds = track.fold_tracks()
    assert [f.fold for f in folds] == [0, 1, 2] and track.cross_validated
    tested = [q for f in folds for q in f.data("test")["sw"].queries]
    assert len(tested) == len(set(tested)) == 50 == len(track.data("test")["sw"].queries)
    assert {q.split("-")[1][:2] for q in tested} == {f"{u:02d}" for u in range(1, 31)}
    for f in folds:
        pool = f.data("test")["sw"].docs
        assert pool is f.data("dev")["sw"].docs  # dev ranks the same documents: one encoding
        units = {d[5:7] for d in pool}
        assert units == {f"{u:02d}" for s in ("test", "dev") for u in udhr.units_of(s, f.fold)}
    assert {q: f for q, f in track.fold_of().items() if q.startswith("sw-01")} == {"sw-0101": 0}
    with pytest.raises(Exception, match="each fold has its own bitext"):
        track.noisy_bitext()


def test_qrels_grades_aligned_paragraph_2_rest_of_article_1():
    fold0 = get_track("noise-0.0").fold_tracks()[0]
    pair = fold0.data("test")["sw"]
    assert pair.qrels["sw-1302"] == {"udhr-1301": 1, "udhr-1302": 2}
    assert pair.qrels["sw-0101"] == {"udhr-0101": 2}
    assert {d for judged in pair.qrels.values() for d in judged} < set(pair.docs)  # dev paragraphs distract
    assert len(pair.docs) == 36
    dev = fold0.data("dev")["so"]  # article 2 aligns only as an article in Somali
    assert set(dev.qrels["so-0201"].values()) == {1}


def _register_local_dataset(tmp_path, name):
    ir_datasets = pytest.importorskip("ir_datasets")
    from ir_datasets.datasets.base import Dataset
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import LocalDownload

    (tmp_path / "docs.tsv").write_text("d1\tthe right to education\nd2\tfreedom of movement\nd3\tmarriage\n")
    (tmp_path / "queries.tsv").write_text("1\thaki ya elimu\n2\tuhuru wa kwenda\n")
    (tmp_path / "qrels").write_text("1 0 d1 1\n2 0 d2 1\n2 0 d3 0\n")
    if name not in ir_datasets.registry:
        ir_datasets.registry.register(name, Dataset(
            TsvDocs(LocalDownload(tmp_path / "docs.tsv")),
            TsvQueries(LocalDownload(tmp_path / "queries.tsv")),
            TrecQrels(LocalDownload(tmp_path / "qrels"), {0: "not relevant", 1: "relevant"}),
        ))


def test_ir_datasets_collection_loads_and_scores(tmp_path, cli):
    _register_local_dataset(tmp_path, "clir-bench-test/sw")
    toml = tmp_path / "irds.toml"
    toml.write_text("""
name = "irds-test"
version = 1
seed = 1
[collection]
source = "ir_datasets"
[collection.test]
sw = "clir-bench-test/sw"
de = "clir-bench-test/sw"
[languages]
low = ["sw"]
high = ["de"]
[[bitext]]
source = "cldr"
max_pairs = 20
[noise]
kind = "misalign"
rate = 0.5
""")
    track = parse_track(toml.read_text(), str(toml))
    pair = track.data("test")["sw"]
    assert pair.queries == {"sw-1": "haki ya elimu", "sw-2": "uhuru wa kwenda"}
    assert pair.qrels == {"sw-1": {"d1": 1}, "sw-2": {"d2": 1, "d3": 0}}
    run = tmp_path / "run.trec"
    run.write_text("sw-1 Q0 d1 1 2.0 t\nsw-2 Q0 d3 1 2.0 t\nsw-2 Q0 d2 2 1.0 t\nde-1 Q0 d2 1 1.0 t\n")
    code, output = cli("score", run, "--track", toml, "--json", "--bootstrap", "200")
    assert code == 0, output
    import json

    report = json.loads(output[output.index("{"):])
    assert report["languages"]["sw"]["mean"]["map"] == pytest.approx((1 + 0.5) / 2)
    assert report["languages"]["de"]["mean"]["map"] == 0.0
    assert report["summary"]["map"]["gap"] == pytest.approx(-0.75)
    code, output = cli("validate", run, "--track", toml)
    assert code == 0
    bad = tmp_path / "bad.trec"
    bad.write_text("sw-1 Q0 d9 1 2.0 t\n")
    code, output = cli("validate", bad, "--track", toml)
    assert code == 1 and f"{bad}:1: found document 'd9'" in output


def test_unknown_ir_datasets_id_is_a_clear_error(tmp_path, cli):
    pytest.importorskip("ir_datasets")
    toml = tmp_path / "irds.toml"
    toml.write_text('name = "x"\nversion = 1\nseed = 1\n[collection]\nsource = "ir_datasets"\n'
                    '[collection.test]\nsw = "no-such/dataset"\nde = "no-such/dataset"\n'
                    '[languages]\nlow = ["sw"]\nhigh = ["de"]\n[noise]\nkind = "misalign"\nrate = 0.0\n')
    code, output = cli("validate", tmp_path / "run.trec", "--track", toml)
    assert code == 1 and "ir_datasets has no dataset 'no-such/dataset'" in output
