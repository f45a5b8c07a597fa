"""Seeded, deterministic corruption of training bitext, a registry of kinds.

Every kind corrupts exactly k = floor(rate * N + 1/2) pairs of each language (N pairs),
chosen as the first k of a ranking by sha256(seed, kind, lang, pair id): the same seed gives
the same bytes on any machine, and a lower rate corrupts a subset of a higher rate's pairs.
Only the English side is changed; the record of what was changed is the noise manifest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.registry import Registry
from clir_bench.core.rng import HashRng, ranked
from clir_bench.tracks.bitext import Pair

Bitext = dict[str, list[Pair]]


@dataclass(frozen=True)
class Corruption:
    lang: str
    id: str
    kind: str
    detail: str


@dataclass(frozen=True)
class NoiseKind:
    """`apply(bitext, chosen, rng, **params)` returns {(lang, index): (new english, detail)}."""

    name: str
    apply: Callable
    doc: str
    params: dict[str, tuple[type, object]]  # name -> (type, default)


NOISE: Registry[NoiseKind] = Registry("noise kind")


def n_corrupted(rate: float, n: int) -> int:
    """round(rate * n), halves rounded up (not to even) so the rule is easy to re-derive."""
    return math.floor(rate * n + 0.5)


def corrupt(bitext: Bitext, *, kind: str, rate: float, seed: int, **params) -> tuple[Bitext, list[Corruption]]:
    """Apply noise `kind` at `rate` to every language of `bitext`; return the noisy copy and manifest."""
    spec = NOISE.get(kind)
    if not 0.0 <= rate <= 1.0:
        raise ClirBenchError(f"noise rate {rate} is outside [0, 1]")
    params = {name: params.get(name, default) for name, (_, default) in spec.params.items()}
    chosen = {}
    for lang, pairs in bitext.items():
        k = n_corrupted(rate, len(pairs))
        index = {p.id: i for i, p in enumerate(pairs)}
        chosen[lang] = [index[i] for i in ranked(index, seed, kind, lang)[:k]]
    changes = spec.apply(bitext, chosen, lambda *key: HashRng(seed, kind, *key), **params)
    noisy = {lang: list(pairs) for lang, pairs in bitext.items()}
    manifest = []
    for (lang, i), (english, detail) in sorted(changes.items()):
        if english == noisy[lang][i].english:
            raise ClirBenchError(f"noise {kind!r} cannot change pair {lang}:{noisy[lang][i].id} "
                                 "(its two sides are identical); remove such pairs from the bitext")
        noisy[lang][i] = replace(noisy[lang][i], english=english)
        manifest.append(Corruption(lang, noisy[lang][i].id, kind, detail))
    return noisy, manifest


def _kind(name: str, doc: str, **params: tuple[type, object]):
    return lambda fn: NOISE.add(name, NoiseKind(name, fn, doc, params))


@_kind("misalign", "the English side is another pair's English side (a derangement of the chosen pairs)")
def _misalign(bitext: Bitext, chosen, rng):
    changes = {}
    for lang, idx in chosen.items():
        pairs, r = bitext[lang], rng(lang)
        if not idx:
            continue
        if len(idx) == 1:  # no derangement of one: borrow from an unchosen pair
            others = [j for j in range(len(pairs)) if pairs[j].english != pairs[idx[0]].english]
            if not others:
                raise ClirBenchError(f"misalign noise: language {lang!r} has no second distinct pair to borrow from")
            j = others[r.randbelow(len(others))]
            changes[(lang, idx[0])] = (pairs[j].english, f"english of {pairs[j].id}")
            continue
        for _ in range(1000):
            perm = list(range(len(idx)))  # Sattolo's algorithm: a uniform random cyclic permutation
            for i in range(len(perm) - 1, 0, -1):
                j = r.randbelow(i)
                perm[i], perm[j] = perm[j], perm[i]
            if all(pairs[idx[perm[a]]].english != pairs[idx[a]].english for a in range(len(idx))):
                break
        else:
            raise ClirBenchError(f"misalign noise: the chosen pairs of {lang!r} share one English text")
        for a, i in enumerate(idx):
            j = idx[perm[a]]
            changes[(lang, i)] = (pairs[j].english, f"english of {pairs[j].id}")
    return changes


@_kind("untranslated", "the English side is a copy of the foreign side")
def _untranslated(bitext: Bitext, chosen, rng):
    return {(lang, i): (bitext[lang][i].text, "english := text") for lang, idx in chosen.items() for i in idx}


@_kind("wrong-language", "the English side is in another language: the same pair's text there when it exists")
def _wrong_language(bitext: Bitext, chosen, rng):
    by_id = {}
    for pairs in bitext.values():
        for p in pairs:
            by_id.setdefault(p.id, []).append(p)
    changes = {}
    for lang, idx in chosen.items():
        others = [p for other, pairs in sorted(bitext.items()) if other != lang for p in pairs]
        if idx and not others:
            raise ClirBenchError("wrong-language noise needs bitext in at least two languages")
        r = rng(lang)
        for i in idx:
            pair = bitext[lang][i]
            same = [p for p in by_id[pair.id] if p.lang != lang and p.text != pair.english]
            pool = same or [p for p in others if p.text != pair.english]
            source = pool[r.randbelow(len(pool))]
            changes[(lang, i)] = (source.text, f"text of {source.lang}:{source.id}")
    return changes


@_kind("token", "tokens of the English side dropped, swapped with the next or duplicated",
       edit_rate=(float, 0.2))
def _token(bitext: Bitext, chosen, rng, *, edit_rate: float):
    changes = {}
    for lang, idx in chosen.items():
        r = rng(lang)
        for i in idx:
            tokens = bitext[lang][i].english.split()
            original = list(tokens)
            edits = max(1, n_corrupted(edit_rate, len(tokens)))
            for _ in range(edits):
                op, at = r.randbelow(3), r.randbelow(len(tokens))
                if op == 0 and len(tokens) > 1:
                    del tokens[at]
                elif op == 1 and at + 1 < len(tokens):
                    tokens[at], tokens[at + 1] = tokens[at + 1], tokens[at]
                else:
                    tokens.insert(at, tokens[at])
            if tokens == original:  # swaps of equal tokens can cancel out
                tokens.insert(0, tokens[0])
            changes[(lang, i)] = (" ".join(tokens), f"{edits} token edits")
    return changes
