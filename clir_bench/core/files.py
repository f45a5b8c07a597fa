"""Files: one gzip-aware opener, checksums, and atomic writes (a crash never leaves a
half-written file or folder)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from clir_bench.core.errors import ClirBenchError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    """True when the file starts with gzip's magic bytes (whatever its name)."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_binary(path: Path):
    """The file's bytes, decompressed where it is gzipped (sniffed from its content, not its name)."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def open_text(path: Path, *, errors: str = "strict"):
    """The file as UTF-8 text (a BOM dropped), decompressed where it is gzipped."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors=errors)


def content_sha256(path: Path) -> str:
    """sha256 of a file's content: the same bytes plain or gzipped have the same checksum."""
    digest = hashlib.sha256()
    try:
        with open_binary(path) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except (OSError, EOFError) as e:
        raise ClirBenchError(f"cannot read {path}: {e}") from None
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parent_ready(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ClirBenchError(f"cannot create folder {parent}: {e.strerror}; choose a writable path") from None
    if not os.access(parent, os.W_OK):
        raise ClirBenchError(f"{parent} is not writable; choose a writable path")


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temp file beside `path`, fsync, then rename over it."""
    path = Path(path)
    _parent_ready(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temp folder beside `path`; on success it replaces `path`, on error it vanishes.

    Refuses a non-empty `path` unless `force`.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ClirBenchError(f"{path} exists and is not a folder; choose another --out")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ClirBenchError(f"{path} is not empty; pass --force to replace it, or choose another --out")
    _parent_ready(path)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
