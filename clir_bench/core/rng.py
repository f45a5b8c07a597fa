"""A portable, seeded random stream: SHA-256 in counter mode.

Python's `random` and NumPy's generators only promise stable streams for some methods and
versions; noise must be re-derivable from a track's seed on any machine, so it uses this.
"""

from __future__ import annotations

import hashlib


def key_hash(*key: object) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, key)).encode("utf-8")).digest()


class HashRng:
    """Deterministic stream of integers from sha256(key || counter)."""

    def __init__(self, *key: object) -> None:
        self._key = key_hash(*key)
        self._counter = 0

    def _u64(self) -> int:
        block = hashlib.sha256(self._key + self._counter.to_bytes(8, "little")).digest()
        self._counter += 1
        return int.from_bytes(block[:8], "little")

    def randbelow(self, n: int) -> int:
        """Uniform integer in [0, n), by rejection (no modulo bias)."""
        if n <= 0:
            raise ValueError("n must be positive")
        limit = (1 << 64) - (1 << 64) % n
        while True:
            x = self._u64()
            if x < limit:
                return x % n


def ranked(ids, *key: object) -> list:
    """`ids` ordered by sha256(key, id): a seeded order that doesn't depend on input order,
    so that the first k of a larger draw contain the first k of a smaller one (nested noise)."""
    return sorted(ids, key=lambda i: key_hash(*key, i))
