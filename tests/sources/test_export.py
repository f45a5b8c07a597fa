"""`data export`: complete, checksummed, never half-written, never over a user's folder."""

import hashlib
import json

import pytest

from clir_bench.sources import export as export_mod
from clir_bench.tracks.track import get_track


def test_export_writes_every_file_with_checksums(cli, tmp_path):
    out = tmp_path / "noise-0.3"
    code, output = cli("data", "export", "--track", "noise-0.3", "--out", out)
    assert code == 0, output
    manifest = json.loads((out / "manifest.json").read_text())
    for rel, meta in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == meta["sha256"], rel
    track = get_track("noise-0.3")
    for part in track.fold_tracks():
        fold = out / f"fold-{part.fold}"
        for lang in track.languages:
            for split in ("test", "dev"):
                assert (fold / "queries" / split / f"{lang}.tsv").is_file()
            assert (fold / "bitext" / f"{lang}.tsv").is_file()
        docs = (fold / "documents" / "test.tsv").read_text()
        assert docs.count("\n") == 1 + len(part.data("test")["sw"].docs)
        assert docs == (fold / "documents" / "dev.tsv").read_text()
        assert (fold / "qrels" / "test.txt").is_file() and (fold / "qrels" / "dev.txt").is_file()
        assert not (fold / "noise-manifest.tsv").exists()  # a participant trains on the noisy bitext as it is
    folds = dict(line.split("\t") for line in (out / "folds.tsv").read_text().splitlines()[1:])
    assert folds == {q: str(f) for q, f in track.fold_of().items()} and len(folds) == 14 * 50 - 2
    assert (out / "README.md").is_file() and "folds.tsv" in (out / "README.md").read_text()
    assert (out / "track.toml").read_text() == track.source
    code, output = cli("tracks", "show", "noise-0.3")
    assert manifest["checksums"]["test"] in output and manifest["checksums"]["bitext"] in output


def test_the_noise_manifest_is_exported_only_on_request_and_labelled(cli, tmp_path):
    out = tmp_path / "analysis"
    code, output = cli("data", "export", "--track", "noise-0.3", "--out", out, "--with-noise-manifest")
    assert code == 0, output
    track = get_track("noise-0.3")
    for part in track.fold_tracks():
        noise = (out / f"fold-{part.fold}" / "noise-manifest.tsv").read_text().splitlines()
        assert len(noise) - 1 == len(part.noisy_bitext()[1])
    assert "FOR ANALYSIS ONLY" in (out / "README.md").read_text()
    assert json.loads((out / "manifest.json").read_text())["noise_manifest"].startswith("included")


def test_export_refuses_a_non_empty_folder_without_force(cli, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, output = cli("data", "export", "--track", "noise-0.0", "--out", out)
    assert code == 1 and "--force" in output
    assert (out / "notes.txt").read_text() == "keep me"
    code, output = cli("data", "export", "--track", "noise-0.0", "--out", out, "--force")
    assert code == 1 and "not an export made by clir-bench" in output  # --force replaces only an export
    assert (out / "notes.txt").read_text() == "keep me"
    again = tmp_path / "export"
    assert cli("data", "export", "--track", "noise-0.0", "--out", again)[0] == 0
    code, _ = cli("data", "export", "--track", "noise-0.3", "--out", again, "--force")
    assert code == 0 and "noise-0.3" in (again / "manifest.json").read_text()


def test_a_failed_export_leaves_nothing(cli, tmp_path, monkeypatch):
    def boom(track):
        raise OSError("disk full")

    monkeypatch.setattr(export_mod, "render_bitext", boom)
    with pytest.raises(OSError):
        export_mod.export(get_track("noise-0.0"), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []

    calls = []
    real = export_mod.json.dumps

    def fail_late(*a, **k):  # fail after every data file is written
        calls.append(1)
        raise OSError("disk full")

    monkeypatch.undo()
    monkeypatch.setattr(export_mod.json, "dumps", fail_late)
    (tmp_path / "old").mkdir()  # an earlier export, which --force may replace
    (tmp_path / "old" / "x").write_text("old")
    (tmp_path / "old" / "manifest.json").write_text(real({"track": "noise-0.0", "harness": "clir-bench 0.1.0"}))
    with pytest.raises(OSError):
        export_mod.export(get_track("noise-0.0"), tmp_path / "old", force=True)
    assert calls and real
    assert [p.name for p in tmp_path.iterdir()] == ["old"] and (tmp_path / "old" / "x").read_text() == "old"
    assert "noise-0.0" in (tmp_path / "old" / "manifest.json").read_text()


def test_unwritable_output_is_a_clear_error(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, output = cli("data", "export", "--track", "noise-0.0", "--out", blocker / "sub")
    assert code == 1 and "Traceback" not in output and "cannot create folder" in output
