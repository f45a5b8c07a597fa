"""Files: one gzip-aware opener, checksums, and atomic writes (a crash never leaves a
half-written file or folder)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from clir_bench.core.errors import ClirBenchError

GZIP_MAGIC = b"\x1f\x8b"


def regular_file(path: Path, what: str = "file") -> Path:
    """`path` if it is a regular file (or a link to one); a clear error for anything else: a missing
    path, a folder, a FIFO or a device (reading /dev/zero or a FIFO would never end)."""
    import stat

    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ClirBenchError(f"{what} {path} does not exist") from None
    except OSError as e:
        raise ClirBenchError(f"cannot read {what} {path}: {e.strerror}") from None
    if not stat.S_ISREG(mode):
        raise ClirBenchError(f"{what} {path}: found {kind_of(path)}, expected a regular file")
    return path


def kind_of(path: Path) -> str:
    """What is at `path`, in words: "a folder", "a FIFO (named pipe)", "a regular file", ..."""
    import stat

    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return "nothing readable"
    return ("a regular file" if stat.S_ISREG(mode) else "a folder" if stat.S_ISDIR(mode) else
            "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else
            "not a regular file")


def is_gzip(path: Path) -> bool:
    """True when the file starts with gzip's magic bytes (whatever its name)."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


# formats a run or qrels file is sometimes saved in, by their first bytes: (magic, name, what to do)
FOREIGN = ((b"BZh", "a bzip2-compressed file", "decompress it (bunzip2) or gzip it"),
           (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it (unxz) or gzip it"),
           (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it (unzstd) or gzip it"),
           (b"PK\x03\x04", "a zip archive", "extract the file from it"),
           (b"\xff\xfe", "UTF-16 text (little-endian)", "save it as UTF-8 (iconv -f UTF-16 -t UTF-8)"),
           (b"\xfe\xff", "UTF-16 text (big-endian)", "save it as UTF-8 (iconv -f UTF-16 -t UTF-8)"))


def foreign_format(path: Path) -> str | None:
    """Why the file is not plain or gzipped UTF-8 text, read from its first bytes (after gzip), or None."""
    try:
        with open_binary(path) as f:
            head = f.read(512)
    except (OSError, EOFError):
        return None  # the reader reports what is wrong with it
    for magic, name, fix in FOREIGN:
        if head.startswith(magic):
            return f"found {name}, expected plain or gzipped UTF-8 text; {fix}"
    even, odd = head[0::2], head[1::2]
    if len(head) >= 16 and any(zeros.count(0) >= 0.9 * len(zeros) and text.count(0) <= 0.1 * len(text)
                               for zeros, text in ((odd, even), (even, odd))):  # UTF-16 without a byte-order mark
        return "found a NUL byte after every character (UTF-16 text?), expected UTF-8; save it as UTF-8"
    return None


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(path: Path) -> None:
    """Temp files and folders beside `path` left by a process that was killed (their names carry its pid)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)(\..*)?\.(tmp|old)")
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            m = pattern.fullmatch(entry.name)
            if m and int(m[1]) != os.getpid() and not _pid_alive(int(m[1])):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        entry.unlink()


def write_text_atomic(path: Path, text: str, *, protect: tuple[Path, ...] = ()) -> None:
    """Write `text` to `path` so that no reader sees half of it: a temp file beside it, fsync, rename.

    Only a regular file (or a new path) is replaced that way; a symbolic link keeps pointing
    where it did (its target is written); a terminal, pipe or device (`/dev/stdout`) is written
    into, never renamed over. A folder, or one of `protect` (the input), is refused.
    """
    path = Path(path)
    if path.is_dir():
        raise ClirBenchError(f"{path} is a folder; give the path of a file to write")
    for other in protect:
        with contextlib.suppress(OSError):
            if path.exists() and os.path.samefile(path, other):
                raise ClirBenchError(f"{path} is the input file {other}; writing there would overwrite it; "
                                     "choose another output path")
    target = path.resolve() if path.is_symlink() else path
    try:
        if target.exists() and not target.is_file():  # a terminal, a FIFO, /dev/null...
            with open(target, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            return
    except OSError as e:
        raise ClirBenchError(f"cannot write {path}: {e.strerror}") from None
    _parent_ready(target)
    _remove_stale(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise ClirBenchError(f"cannot write {path}: {e.strerror}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_folder(path: Path, *, ours, what: str) -> None:
    """Refuse an output folder that replacing could destroy what is not ours: `/`, the current
    folder or one holding it, the home folder, a symbolic link, a mount point, a file, or a
    non-empty folder for which `ours(path)` (the harness's marker) is false."""
    path = Path(path)
    where = f"--out {path}"
    if path.is_symlink():
        raise ClirBenchError(f"{where} is a symbolic link; give the folder itself, or a new one")
    resolved = path.resolve()
    cwd, home = Path.cwd().resolve(), Path.home().resolve()
    if resolved == Path(resolved.anchor) or resolved == home or cwd.is_relative_to(resolved):
        which = "the current folder or holds it" if cwd.is_relative_to(resolved) else "a root or home folder"
        raise ClirBenchError(f"{where} is {which}; choose a folder of its own, e.g. build/NAME")
    if path.exists() and not path.is_dir():
        raise ClirBenchError(f"{where}: found {kind_of(path)}, expected a folder; choose another --out")
    if path.is_dir() and os.path.ismount(path):
        raise ClirBenchError(f"{where} is a mount point; choose a folder inside it")
    if path.is_dir() and any(path.iterdir()) and not ours(path):
        raise ClirBenchError(f"{where} is not empty and is not {what}; it is left alone: choose an empty or new "
                             "folder")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temp file name beside `path`, for a writer that wants a name (safetensors, torch.save,
    numpy); on success it replaces `path` in one rename, on error it vanishes."""
    path = Path(path)
    _parent_ready(path)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temp folder beside `path`; on success it replaces `path`, on error it vanishes.

    Refuses a non-empty `path` unless `force`. The folder gets the permissions a plain mkdir
    would (umask), not mkdtemp's 0700; leftovers of a killed earlier run are removed first.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ClirBenchError(f"{path}: found {kind_of(path)}, expected a folder; choose another --out")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ClirBenchError(f"{path} is not empty; pass --force to replace it, or choose another --out")
    _parent_ready(path)
    _remove_stale(path)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"))
    try:
        tmp.chmod(0o777 & ~_umask())
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.{os.getpid()}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
