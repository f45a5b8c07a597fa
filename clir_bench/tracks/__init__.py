"""Tracks: the declarative definition (TOML) of everything that affects a score, with its
training bitext and seeded noise. Built on `sources` and `evaluation.metrics`."""
