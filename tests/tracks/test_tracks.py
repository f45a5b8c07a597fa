"""Tracks: every built-in track loads; definitions are validated loudly, with file:line."""

import pytest

from clir_bench.core.errors import ClirBenchError
from clir_bench.sources.export import checksums
from clir_bench.tracks.track import builtin, get_track, parse_track

BASE = get_track("noise-0.0").source


@pytest.mark.parametrize("name", list(builtin()), ids=str)
def test_every_builtin_track(name):
    track = get_track(name)
    assert track.primary.name == "map"
    assert track.of_class("low") == ["sw", "so", "ha", "am", "xh", "yo", "ig", "zu"]
    assert track.of_class("high") == ["de", "fr", "fi", "es", "ru", "zh"]
    assert track.version == 2 and track.cross_validated and "r@100" not in [m.name for m in track.metrics]
    data = track.data("test")
    assert all(pair.queries and pair.qrels for pair in data.values())
    assert {len(pair.queries) for pair in data.values()} == {49, 50}  # so and yo: article 2 has one fewer
    assert set(checksums(track)) == {"test", "dev", "bitext"}


def test_noise_tracks_share_test_data_but_not_bitext():
    sums = {name: checksums(get_track(name)) for name in builtin()}
    assert len({s["test"] for s in sums.values()}) == 1
    assert len({s["bitext"] for s in sums.values()}) == len(sums)


def test_near_miss_track_name_is_suggested(cli):
    code, output = cli("tracks", "show", "noise-03")
    assert code == 1 and "Did you mean 'noise-0.3'?" in output


@pytest.mark.parametrize("edit, phrase", [
    (("seed = 20230227", "seed = 20230227\nsede = 1"), ":10: sede: unknown key. Did you mean 'seed'?"),
    (("rate = 0.0", "rate = 0.0\nrat = 1"), "noise.rat: unknown key. Did you mean 'rate'?"),
    (("rate = 0.0", "rate = 1.5"), "noise.rate: found 1.5, expected a number in [0, 1]"),
    (('kind = "misalign"', 'kind = "misalign2"'), "Did you mean 'misalign'?"),
    (("folds = [0, 1, 2]", "fold = 3"), "collection.fold: found 3, expected 0, 1 or 2"),
    (("folds = [0, 1, 2]", "folds = [0, 0]"), "collection.folds: found [0, 0], expected a list of distinct folds"),
    (("folds = [0, 1, 2]", "folds = [0, 1, 2]\nfold = 1"), "found both fold and folds"),
    (('units = "train"', 'units = "all"'), "would put test and dev articles in the training bitext"),
    (('"mrr"]', '"mrrr"]'), "unknown metric 'mrrr'. Did you mean 'mrr'?"),
    (('low = ["sw", "so", "ha", "am", "xh", "yo", "ig", "zu"]\nhigh = ["de", "fr", "fi", "es", "ru", "zh"]',
      "low = []\nhigh = []"), "expected at least one"),
    (('low = ["sw",', 'low = ["xx", "sw",'), "unknown language 'xx'"),
    (('version = 2', 'version = "one"'), "version: found 'one', expected an integer version"),
    (('[languages]', '[languages'), "not valid TOML"),
])
def test_invalid_track_files_are_refused(tmp_path, cli, edit, phrase):
    path = tmp_path / "mine.toml"
    path.write_text(BASE.replace(*edit, 1))
    code, output = cli("tracks", "show", path)
    assert code == 1 and "Traceback" not in output
    assert phrase in output.replace("\n", " ") or phrase in output, output
    assert str(path) in output


def test_user_track_file_runs_like_a_builtin(tmp_path, cli):
    path = tmp_path / "mine.toml"
    path.write_text(BASE.replace('name = "noise-0.0"', 'name = "mine"').replace("rate = 0.0", 'rate = 0.2')
                    .replace('kind = "misalign"', 'kind = "token"\nedit_rate = 0.5'))
    code, output = cli("tracks", "show", path)
    assert code == 0, output
    assert "token at rate 0.2, edit_rate=0.5" in output
    assert "sha256 bitext:" in output


def test_parse_track_requires_keys():
    with pytest.raises(ClirBenchError, match="missing required key 'noise'"):
        parse_track('name = "x"\nversion = 1\nseed = 1\n[collection]\nsource = "udhr"\n'
                    '[languages]\nlow = ["sw"]\nhigh = ["de"]\n', "x.toml")


def test_tracks_list(cli):
    code, output = cli("tracks")
    assert code == 0 and all(name in output for name in builtin())


def test_bitext_checksum_is_remembered_and_equals_the_export(tmp_path, monkeypatch):
    """A score report names the bitext's checksum; it is computed once per definition and code, and a
    damaged memo is recomputed, never trusted."""
    from clir_bench.sources.export import digest, render_bitext

    monkeypatch.setenv("CLIR_BENCH_CACHE", str(tmp_path))
    source = get_track("noise-0.1").source
    expected = digest(render_bitext(parse_track(source, "noise-0.1.toml")))
    assert parse_track(source, "a.toml").bitext_sha256() == expected
    memo = list((tmp_path / "checksums").glob("*.sha256"))
    assert len(memo) == 1 and memo[0].read_text().strip() == expected
    memo[0].write_text("not a checksum\n")
    assert parse_track(source, "b.toml").bitext_sha256() == expected
    assert memo[0].read_text().strip() == expected
    other = parse_track(source + "\n# another definition\n", "c.toml")
    other.bitext_sha256()
    assert len(list((tmp_path / "checksums").glob("*.sha256"))) == 2  # keyed by the definition's text


def test_fold_bitext_checksums_are_their_own_whatever_the_memo_holds(tmp_path, monkeypatch):
    """Fold tracks share their parent's definition text: a memo keyed by it once gave every fold the
    first fold's checksum, so the folds shared one teacher cache in training. Each fold's checksum is
    its own bitext's, and the whole track's is the whole bitext's, in either order of asking."""
    from clir_bench.sources.export import digest, render_bitext

    monkeypatch.setenv("CLIR_BENCH_CACHE", str(tmp_path))
    for order in ("folds first", "track first"):
        track = parse_track(get_track("noise-0.5").source, f"{order}.toml")
        folds = track.fold_tracks()
        asked = [*folds, track] if order == "folds first" else [track, *folds]
        got = {t.name: t.bitext_sha256() for t in asked}
        expected = {t.name: digest(render_bitext(parse_track(t.source, "x.toml") if t.fold is None else t))
                    for t in asked}
        assert got == expected and len(set(got.values())) == len(asked), order
