"""NMT with multilingual models: tiny random NLLB-style and M2M-100 models built in the test.

Each gets the query language's code as `src_lang` and decodes with the English code forced
first; a language the model has no code for is reported as not run, with the reason."""

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from clir_baselines.nmt import CODES, NMTSystem, family, language_code  # noqa: E402
from clir_bench.core.languages import LANGUAGES  # noqa: E402
from clir_bench.systems import Context  # noqa: E402
from clir_bench.tracks.track import get_track  # noqa: E402

TRACK = """
name = "tiny-mt"
version = 1
seed = 3
[collection]
source = "udhr"
[languages]
low = ["sw"]
high = ["de"]
[noise]
kind = "misalign"
rate = 0.0
"""
WORDS = "haki kila mtu ana elimu uhuru jeder mensch hat recht auf bildung freiheit".split()


def _seq2seq(tokenizer, folder):
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    ids = [*tokenizer.get_vocab().values(), *getattr(tokenizer, "lang_token_to_id", {}).values()]
    size = max(len(tokenizer), max(ids) + 1) + 8  # M2M-100's language codes follow its vocabulary, then 8 spare
    config = M2M100Config(vocab_size=size, d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                          max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id,
                          eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def nllb(tmp_path_factory):
    from transformers import NllbTokenizer

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for ch in sorted(set("".join(WORDS))):
        vocab.setdefault(f"▁{ch}", len(vocab))
        vocab.setdefault(ch, len(vocab))
    for w in WORDS:
        vocab.setdefault(f"▁{w}", len(vocab))
    return _seq2seq(NllbTokenizer(vocab=vocab, merges=[]), tmp_path_factory.mktemp("nllb"))


@pytest.fixture(scope="module")
def m2m(tmp_path_factory):
    import json

    import sentencepiece as spm
    from transformers import M2M100Tokenizer

    folder = tmp_path_factory.mktemp("m2m")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))) + "\n")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(folder / "spm"), vocab_size=30,
                                   model_type="unigram", bos_id=-1, eos_id=-1, unk_id=0, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=str(folder / "spm.model"))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = M2M100Tokenizer(vocab_file=str(folder / "vocab.json"), spm_file=str(folder / "spm.model"))
    return _seq2seq(tokenizer, folder / "model")


@pytest.fixture(scope="module")
def track(tmp_path_factory):
    path = tmp_path_factory.mktemp("track") / "tiny-mt.toml"
    path.write_text(TRACK)
    return get_track(str(path))


@pytest.mark.parametrize("model, fam, codes", [("nllb", "nllb", "sw=swh_Latn, de=deu_Latn"),
                                               ("m2m", "m2m100", "sw=sw, de=de")])
def test_multilingual_models_get_source_codes_and_english_forced(request, track, tmp_path, model, fam, codes,
                                                                 monkeypatch):
    from transformers import AutoTokenizer, M2M100ForConditionalGeneration

    folder = request.getfixturevalue(model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    english = tokenizer.convert_tokens_to_ids("eng_Latn" if fam == "nllb" else "__en__")
    seen = []
    generate = M2M100ForConditionalGeneration.generate

    def spy(self, *args, **kwargs):
        seen.append((kwargs["input_ids"][0, 0].item(), kwargs.get("forced_bos_token_id")))
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(M2M100ForConditionalGeneration, "generate", spy)
    result = NMTSystem().run(track, Context(mt_model=str(folder), cache=tmp_path / "cache", log=lambda *a: None))
    assert result.not_run is None, result.not_run
    assert result.info["mt_family"] == fam and result.info["mt_languages"] == codes
    assert set(result.rankings) == {q for pair in track.data("test").values() for q in pair.queries}
    assert seen and all(forced == english for _, forced in seen)  # English is forced first, every batch
    source_ids = {tokenizer.convert_tokens_to_ids("swh_Latn" if fam == "nllb" else "__sw__"),
                  tokenizer.convert_tokens_to_ids("deu_Latn" if fam == "nllb" else "__de__")}
    assert {first for first, _ in seen} == source_ids  # each language's queries carry its own code


def test_every_shipped_language_has_codes_in_both_families(nllb, m2m):
    from transformers import AutoTokenizer

    assert set(LANGUAGES) <= set(CODES)
    for folder, fam in ((nllb, "nllb"), (m2m, "m2m100")):
        tokenizer = AutoTokenizer.from_pretrained(folder)
        assert family(tokenizer) == fam
        assert all(language_code(tokenizer, fam, lang) for lang in LANGUAGES), fam


def test_a_language_the_model_lacks_is_not_run_with_the_reason(nllb, track, tmp_path, monkeypatch):
    import clir_baselines.nmt as nmt

    monkeypatch.setitem(nmt.CODES, "sw", ("xxx_Latn", "xx"))
    result = NMTSystem().run(track, Context(mt_model=str(nllb), cache=tmp_path / "cache", log=lambda *a: None))
    assert result.rankings is None
    assert result.not_run == ("not run: MT model " + repr(str(nllb)) + " (nllb) has no language code for sw "
                              "(looked for sw = xxx_Latn)")
