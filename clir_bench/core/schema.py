"""Strict checks for declarative TOML tables: unknown keys, wrong types, with file:line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.registry import did_you_mean


@dataclass(frozen=True)
class Where:
    """A table in a TOML file: `path`, its source text, and the table's header (`""` = top)."""

    path: str
    text: str = ""
    table: str = ""

    def sub(self, table: str) -> Where:
        return Where(self.path, self.text, table)

    def line(self, key: str | None = None) -> int | None:
        """Best-effort line of `key` inside this table (or of the table header)."""
        lines = self.text.splitlines()
        start = 0
        if self.table:
            header = re.compile(r"^\s*\[\[?\s*" + re.escape(self.table) + r"\s*\]\]?\s*(#.*)?$")
            start = next((i for i, ln in enumerate(lines) if header.match(ln)), None)
            if start is None:
                return None
            if key is None:
                return start + 1
            start += 1
        if key is None:
            return None
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for i in range(start, len(lines)):
            if i > start and lines[i].lstrip().startswith("["):
                break
            if pattern.match(lines[i]):
                return i + 1
        return None

    def at(self, key: str | None = None) -> str:
        line = self.line(key)
        loc = f"{self.path}:{line}" if line else self.path
        name = ".".join(p for p in (self.table, key) if p)
        return f"{loc}: {name}" if name else loc

    def __str__(self) -> str:
        return self.at()


def check_keys(table: dict, allowed: set[str], where: Where | str, required: set[str] = frozenset()) -> None:
    """Reject keys not in `allowed` (with a near-miss suggestion) and missing `required` keys."""
    for key in table:
        if key not in allowed:
            loc = where.at(key) if isinstance(where, Where) else f"{where}: {key}"
            raise ClirBenchError(
                f"{loc}: unknown key.{did_you_mean(key, allowed)} Expected one of: {', '.join(sorted(allowed))}"
            )
    for key in sorted(required - table.keys()):
        raise ClirBenchError(f"{where}: missing required key {key!r}")


def expect(value, types, where: Where | str, key: str, what: str):
    """Return `value` if it is an instance of `types` (bool is never an int here)."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        loc = where.at(key) if isinstance(where, Where) else f"{where}: {key}"
        raise ClirBenchError(f"{loc}: found {value!r}, expected {what}")
    return value
