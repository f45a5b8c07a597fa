"""Real-collection paths end to end: CIRAL's published layout from local files and an
ir_datasets dataset registered from local files, through `run` and `score`; bitext from
TSV and Moses files; documents streamed from disk with resumable caches."""

import gzip
import json
import shutil

import pytest
from make_ciral import make_ciral

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import is_gzip
from clir_bench.pipeline import RunResults, run_track
from clir_bench.sources.documents import FileDocs
from clir_bench.systems import Context
from clir_bench.tracks.track import get_track


@pytest.fixture(scope="module")
def ciral(tmp_path_factory):
    return make_ciral(tmp_path_factory.mktemp("ciral"))


def test_ciral_layout_loads(ciral):
    track = get_track(str(ciral))
    assert track.collection.english_queries and set(track.languages.values()) == {"low"}
    pair = track.data("test")["yo"]  # yoruba's passages are gzipped
    assert isinstance(pair.docs, FileDocs) and is_gzip(pair.docs.path)
    q = next(iter(pair.queries))
    assert q.startswith("yo-") and pair.queries[q]  # English text, namespaced qid
    judged = next(iter(pair.qrels[q]))
    assert pair.docs[judged].startswith("Article ")  # title + text
    bitext, manifest = track.noisy_bitext()
    assert all(len(p) == 11 for p in bitext.values())  # TSV for ha/so, Moses for sw/yo
    assert len(manifest) == 4 * 3  # floor(0.3 x 11 + 1/2) per language


def test_ciral_track_end_to_end_through_run_and_score(cli, ciral, tiny, tmp_path):
    out = tmp_path / "out"
    code, output = cli("run", "--track", ciral, "--systems", "bm25,psq,nmt,encoder-zs", "--encoder", tiny,
                       "--out", out, "--no-record", "--bootstrap", "200")
    assert code == 0, output
    results = RunResults.from_dict(json.loads((out / "results.json").read_text()))
    assert results.systems["nmt"].status.startswith("not run: no MT model")
    for name in ("bm25", "psq", "encoder-zs"):
        assert results.systems[name].status == "ok"
        assert results.systems[name].summary is None  # one resource class: no gap
    code, output = cli("score", out / "psq.trec", "--track", ciral, "--json", "--bootstrap", "200")
    assert code == 0, output
    report = json.loads(output[output.index("{"):])
    assert set(report["languages"]) == {"ha", "so", "sw", "yo"} and report["summary"] is None
    assert report["languages"]["ha"]["mean"]["map"] > 0.05  # PSQ finds real translations in the bitext
    code, output = cli("data", "export", "--track", ciral, "--out", tmp_path / "export")
    assert code == 0, output
    note = (tmp_path / "export" / "documents" / "test" / "yo.source.txt").read_text()
    assert note.startswith("yoruba_passages.jsonl.gz\tsha256 ")  # passages are named, not copied


def test_a_student_encodes_the_documents_when_queries_are_english(ciral, tiny, tmp_path):
    track = get_track(str(ciral))
    ctx = Context(encoder=str(tiny), cache=tmp_path / "cache", train={"max_steps": 2, "eval_every": 2},
                  log=lambda *a: None)
    results = run_track(track, systems=["optical-unbalanced"], ctx=ctx, out=tmp_path / "out", submissions=None,
                        resamples=200)
    row = results.systems["optical-unbalanced"]
    assert row.status == "ok" and set(row.languages) == {"ha", "so", "sw", "yo"}


def test_ir_datasets_track_end_to_end_through_run_and_score(cli, tmp_path, tiny):
    ir_datasets = pytest.importorskip("ir_datasets")
    from ir_datasets.datasets.base import Dataset
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import LocalDownload

    from clir_bench.sources import udhr

    english = udhr.paragraphs("en")
    for lang in ("sw", "de"):
        folder = tmp_path / lang
        folder.mkdir()
        units = udhr.units_of("test", 0)
        (folder / "docs.tsv").write_text("".join(f"d{u}-{p}\t{t}\n" for u in units
                                                 for p, t in enumerate(english[u], 1)))
        (folder / "queries.tsv").write_text("".join(f"{u}\t{' '.join(udhr.paragraphs(lang)[u])}\n" for u in units))
        (folder / "qrels").write_text("".join(f"{u} 0 d{u}-{p} 1\n" for u in units
                                              for p in range(1, len(english[u]) + 1)))
        name = f"clir-bench-e2e/{lang}"
        if name not in ir_datasets.registry:
            ir_datasets.registry.register(name, Dataset(
                TsvDocs(LocalDownload(folder / "docs.tsv")), TsvQueries(LocalDownload(folder / "queries.tsv")),
                TrecQrels(LocalDownload(folder / "qrels"), {0: "not relevant", 1: "relevant"})))
    toml = tmp_path / "irds.toml"
    toml.write_text('name = "irds-e2e"\nversion = 1\nseed = 1\n[collection]\nsource = "ir_datasets"\n'
                    '[collection.test]\nsw = "clir-bench-e2e/sw"\nde = "clir-bench-e2e/de"\n'
                    '[languages]\nlow = ["sw"]\nhigh = ["de"]\n[[bitext]]\nsource = "cldr"\nmax_pairs = 30\n'
                    '[noise]\nkind = "misalign"\nrate = 0.3\n')
    out = tmp_path / "out"
    code, output = cli("run", "--track", toml, "--systems", "bm25,psq,encoder-zs", "--encoder", tiny, "--out", out,
                       "--no-record", "--bootstrap", "200")
    assert code == 0, output
    code, output = cli("score", out / "bm25.trec", "--track", toml, "--json", "--bootstrap", "200")
    assert code == 0, output
    report = json.loads(output[output.index("{"):])
    assert report["languages"]["de"]["queries"] == len(udhr.units_of("test", 0))
    assert report["summary"]["map"]["gap"] is not None
    assert report["languages"]["de"]["mean"]["map"] > report["languages"]["sw"]["mean"]["map"] - 0.5


def test_missing_files_say_what_and_how(cli, ciral, tmp_path):
    copy = tmp_path / "c"
    shutil.copytree(ciral.parent, copy)
    (copy / "ciral-corpus" / "passages-v1.0" / "somali_passages.jsonl").unlink()
    code, output = cli("validate", tmp_path / "none.trec", "--track", copy / "ciral-mini.toml")
    assert code == 1 and "somali_passages.jsonl[.gz] are missing" in output.replace("\n", "")
    assert "huggingface.co/datasets/CIRAL/ciral-corpus" in output.replace("\n", "")
    (copy / "bitext" / "en-sw.en").unlink()
    with pytest.raises(ClirBenchError, match="bitext file .*en-sw.en is missing; get parallel text"):
        get_track(str(copy / "ciral-mini.toml")).noisy_bitext()


def test_moses_files_must_align(ciral, tmp_path):
    copy = tmp_path / "c"
    shutil.copytree(ciral.parent, copy)
    with open(copy / "bitext" / "en-sw.en", "a") as f:
        f.write("one line too many\n")
    with pytest.raises(ClirBenchError, match=r"en-sw.en:12: found 12 lines, expected 11"):
        get_track(str(copy / "ciral-mini.toml")).noisy_bitext()


def test_file_docs_stream_and_look_up(tmp_path):
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt") as f:
        for i in range(2500):
            f.write(json.dumps({"docid": f"d{i}", "title": "T", "text": f"text {i}"}) + "\n")
    docs = FileDocs(path)
    assert len(docs) == 2500 and docs["d1234"] == "T text 1234" and "d2499" in docs
    batches = list(docs.batches(1024))
    assert [len(ids) for ids, _ in batches] == [1024, 1024, 452]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"docid": "a", "text": "x"}\n{"docid": "a", "text": "y"}\n')
    with pytest.raises(ClirBenchError, match=r"bad.jsonl:2: found docid 'a' again \(first on line 1\)"):
        len(FileDocs(bad))
    bad.write_text('{"docid": "a", "text": "x"}\nnot json\n')
    with pytest.raises(ClirBenchError, match=r"bad.jsonl:2: found 'not json', expected a JSON object"):
        len(FileDocs(bad))


def test_dense_encoding_resumes_from_saved_shards(tmp_path, tiny, monkeypatch):
    import torch

    from clir_bench.models import retrieval
    from clir_bench.models.encoder import Encoder, resolve

    monkeypatch.setattr(retrieval, "SHARD", 256)
    monkeypatch.setattr(retrieval, "BATCH", 128)
    path = tmp_path / "docs.tsv"
    path.write_text("".join(f"d{i}\tdocument number {i} about rights\n" for i in range(1000)))
    enc = Encoder(resolve(str(tiny)))
    whole = retrieval.encode_docs(enc, FileDocs(path))  # in memory
    cache = tmp_path / "cache"
    first = retrieval.encode_docs(enc, FileDocs(path), cache=cache)
    shards = sorted((cache / "embeddings").glob("*/shard-*.npy"))
    assert len(shards) == 4
    shards[-1].unlink()  # as if interrupted before the last shard was saved
    calls = []
    monkeypatch.setattr(enc, "embed", lambda texts, role, **kw: calls.append(len(texts)) or
                        Encoder.embed(enc, texts, role, **kw))
    resumed = retrieval.encode_docs(enc, FileDocs(path), cache=cache)
    assert sum(calls) == 1000 - 3 * 256  # only the missing shard is encoded again
    assert resumed.ids == first.ids == whole.ids
    q = enc.embed(["rights of number 7"], "query")
    for index in (first, resumed):
        v, i = index.search(q, 10)
        v0, i0 = whole.search(q, 10)
        assert torch.allclose(v, v0, atol=1e-6)
    exact = torch.topk(q @ torch.cat(whole.shards).T, 10)
    assert torch.allclose(whole.search(q, 10)[0], exact.values, atol=0)  # chunked search is exact (ties aside)


def test_example_real_tracks_parse_and_say_what_is_missing(cli, tmp_path):
    from pathlib import Path

    tracks = Path(__file__).resolve().parents[2] / "tracks"
    wiki = get_track(str(tracks / "wikiclir.toml"))
    assert wiki.collection.english_queries and wiki.collection.max_queries == 1000
    assert wiki.of_class("low") == ["sw", "tl"] and not wiki.collection.has_split("dev")
    code, output = cli("validate", tmp_path / "run.trec", "--track", tracks / "ciral.toml")
    text = output.replace("\n", "")
    assert code == 1 and "CIRAL topics file" in text and "git clone https://huggingface.co/datasets/CIRAL/ciral" in text
    assert "[collection] root" in text  # brackets in messages survive the console


@pytest.mark.slow
def test_encoding_under_torchrun_splits_shards_across_processes(ciral, tiny, tmp_path):
    import os
    import subprocess
    import sys

    import numpy as np

    def encode(procs: int, cache):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "CLIR_BENCH_CACHE": str(cache), "CLIR_BENCH_SHARD_DOCS": "16"}
        args = ["encode", "--track", str(ciral), "--encoder", str(tiny)]
        cmd = [sys.executable, "-m", "clir_bench", *args] if procs == 1 else \
            [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}",
             "-m", "clir_bench", *args]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    output = encode(2, tmp_path / "two")
    assert "over 2 process(es)" in output and output.count("shard(s)") == 4  # rank 0 reports each language
    encode(1, tmp_path / "one")
    one = sorted((tmp_path / "one" / "embeddings").glob("*/shard-*.npy"))
    two = sorted((tmp_path / "two" / "embeddings").glob("*/shard-*.npy"))
    assert [p.relative_to(tmp_path / "one") for p in one] == [p.relative_to(tmp_path / "two") for p in two]
    assert len(one) >= 4 * 3  # about 60 passages a language, 16 a shard
    for a, b in zip(one, two, strict=True):
        assert np.allclose(np.load(a), np.load(b), atol=1e-6)
        ids = a.with_name(a.name.replace("shard", "ids").replace(".npy", ".txt"))
        assert ids.read_text() == b.with_name(ids.name).read_text()
