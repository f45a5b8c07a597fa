"""Noise kinds: exact counts, determinism, nesting and what each corruption means."""

import hashlib

import pytest

from clir_bench.sources.export import render_bitext
from clir_bench.tracks.noise import NOISE, corrupt, n_corrupted
from clir_bench.tracks.track import get_track

CLEAN = get_track("noise-0.0").fold_tracks()[0].clean_bitext()


@pytest.mark.parametrize("kind", list(NOISE), ids=str)
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.3, 0.5, 1.0])
def test_exactly_round_rate_n_pairs_are_corrupted_per_language(kind, rate):
    noisy, manifest = corrupt(CLEAN, kind=kind, rate=rate, seed=11)
    for lang, pairs in CLEAN.items():
        changed = {p.id for p, n in zip(pairs, noisy[lang], strict=True) if p.english != n.english}
        assert len(changed) == n_corrupted(rate, len(pairs))
        assert changed == {c.id for c in manifest if c.lang == lang}
        assert [p.text for p in pairs] == [p.text for p in noisy[lang]]  # only the English side changes


@pytest.mark.parametrize("kind", list(NOISE), ids=str)
def test_same_seed_same_bytes_other_seed_other_choice(kind):
    a, ma = corrupt(CLEAN, kind=kind, rate=0.3, seed=5)
    b, mb = corrupt(CLEAN, kind=kind, rate=0.3, seed=5)
    _, mc = corrupt(CLEAN, kind=kind, rate=0.3, seed=6)
    assert a == b and ma == mb
    assert {m.id for m in ma} != {m.id for m in mc}


@pytest.mark.parametrize("kind", list(NOISE), ids=str)
def test_lower_rates_corrupt_a_subset(kind):
    low = {(c.lang, c.id) for c in corrupt(CLEAN, kind=kind, rate=0.1, seed=5)[1]}
    high = {(c.lang, c.id) for c in corrupt(CLEAN, kind=kind, rate=0.3, seed=5)[1]}
    assert low < high


def test_misalign_is_a_derangement_of_english_sides():
    noisy, manifest = corrupt(CLEAN, kind="misalign", rate=0.5, seed=2)
    for c in manifest:
        clean = {p.id: p for p in CLEAN[c.lang]}
        new = next(p for p in noisy[c.lang] if p.id == c.id)
        assert new.english != clean[c.id].english  # no chosen pair stays aligned
        assert new.english in {p.english for p in CLEAN[c.lang]}  # another pair's English side
        assert c.detail.startswith("english of ") and c.detail[len("english of "):] != c.id
    chosen = [c for c in manifest if c.lang == "sw"]
    assert sorted(n.english for n in noisy["sw"] if n.id in {c.id for c in chosen}) == sorted(
        p.english for p in CLEAN["sw"] if p.id in {c.id for c in chosen})  # a permutation


def test_misalign_of_a_single_pair_borrows_from_another():
    small = {lang: pairs[:10] for lang, pairs in CLEAN.items()}
    _, manifest = corrupt(small, kind="misalign", rate=0.1, seed=2)
    assert len(manifest) == len(small)


def test_untranslated_and_wrong_language():
    noisy, manifest = corrupt(CLEAN, kind="untranslated", rate=0.3, seed=1)
    for lang, pairs in noisy.items():
        ids = {c.id for c in manifest if c.lang == lang}
        assert all(p.english == p.text for p in pairs if p.id in ids)
    noisy, manifest = corrupt(CLEAN, kind="wrong-language", rate=0.3, seed=1)
    texts = {lang: {p.text for p in pairs} for lang, pairs in CLEAN.items()}
    for c in manifest:
        other = c.detail.split()[-1].split(":")[0]
        new = next(p for p in noisy[c.lang] if p.id == c.id)
        assert other != c.lang and new.english in texts[other]


def test_token_noise_edits_tokens():
    noisy, manifest = corrupt(CLEAN, kind="token", rate=0.3, seed=1, edit_rate=0.3)
    for c in manifest:
        clean = next(p for p in CLEAN[c.lang] if p.id == c.id).english.split()
        new = next(p for p in noisy[c.lang] if p.id == c.id).english.split()
        assert new != clean and set(new) <= set(clean)  # dropped, swapped or duplicated, never invented


def test_noise_0_3_bitext_bytes_are_pinned():
    """Any change to data, seeding or noise rules changes this digest: bump the track version."""
    files = render_bitext(get_track("noise-0.3"))
    digest = hashlib.sha256(b"".join(files[k] for k in sorted(files))).hexdigest()
    assert digest == PINNED


PINNED = "4562983c49c082ad22cd9a156adbdf6a1f44e7da68f9e073d6b1cb8052d61edc"
