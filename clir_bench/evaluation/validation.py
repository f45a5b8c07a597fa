"""Strict, streaming validation of TREC run files (`qid Q0 docid rank score tag`).

Every problem is collected with its line, what was found and what was expected, then
reported once. Plain and gzipped files, CRLF line ends, a UTF-8 BOM, blank lines and
extra whitespace are accepted; the second column is ignored, as trec_eval ignores it.

The scan streams: a query's documents are handed to a consumer (the scorer) in batches
once the query's lines have ended, so memory stays small. Queries must then be grouped
(contiguous), as every TREC tool writes them; a file that is not grouped is scanned again
with every query kept until the end. Large plain files are split at query boundaries and
scanned by several processes.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import numbers
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import le, lt
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import foreign_format, is_gzip, open_binary, regular_file, sha256_file

MAX_LINE = 4096  # characters; a real run line is well under 200
MAX_SHOWN = 50  # problems of each severity listed in full
MISORDERED_SHOWN = 3  # queries whose ranks disagree with their scores, listed by line
BLOCK = 1 << 22
BATCH = 128  # queries handed to the consumer at a time: at 1,000 documents each, ~15 MB of dicts a worker
PARALLEL_MIN_BYTES = 32 << 20
_INF = math.inf


@dataclass(frozen=True)
class Problem:
    line: int  # 0 = the whole file
    found: str
    expected: str

    def format(self, path: str) -> str:
        loc = f"{path}:{self.line}" if self.line else path
        return f"{loc}: found {self.found}, expected {self.expected}"


@dataclass
class Problems:
    """Problems of one severity: the first MAX_SHOWN in full, and a count of all."""

    shown: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, found: str, expected: str) -> None:
        self.total += 1
        if len(self.shown) < MAX_SHOWN:
            self.shown.append(Problem(line, found, expected))

    def extend(self, other: Problems, offset: int = 0) -> None:
        for p in other.shown:
            if len(self.shown) < MAX_SHOWN:
                self.shown.append(Problem(p.line + offset if p.line else 0, p.found, p.expected))
        self.total += other.total

    def lines(self, path: str) -> list[str]:
        out = [p.format(path) for p in sorted(self.shown, key=lambda p: p.line)]
        if self.total > len(self.shown):
            out.append(f"... and {self.total - len(self.shown):,} more")
        return out


@dataclass(frozen=True)
class RunSpec:
    """What a run is checked against.

    `qids`: the known query ids (None: any); `strict_qids`: an unknown qid is an error (a
    track) rather than a warning (a bare qrels file, where trec_eval ignores it);
    `docs_of`: qid -> the set of valid docids (None: unchecked).
    """

    qids: frozenset | None = None
    strict_qids: bool = True
    docs_of: dict | None = None
    max_docs: int = 1000
    expected_qids: str = "a known query id"
    expected_docs: str = "a document of the collection"


@dataclass
class Scan:
    """What a scan found: problems, per-query consumer results and counts."""

    errors: Problems = field(default_factory=Problems)
    warnings: Problems = field(default_factory=Problems)
    results: dict = field(default_factory=dict)
    qids: list = field(default_factory=list)  # in order of first appearance
    tags: dict = field(default_factory=dict)  # tag -> first line
    lines: int = 0
    records: int = 0
    misordered: int = 0  # queries whose ranks disagree with their score order
    misordered_examples: list = field(default_factory=list)  # (first line, qid) of the first few
    tied: int = 0  # queries whose documents all have one score: ranked by trec_eval's docid tie-break
    tied_examples: list = field(default_factory=list)  # qids of the first few
    grouped: bool = True
    sha256: str = ""  # of the file as stored (compressed if gzipped)


class _Regroup(Exception):
    """A closed query reappeared: rescan keeping every query until the end."""


def _blocks(f, start: int, end: int | None, errors: Problems) -> Iterator[tuple[str, int]]:
    """Yield (text, lines so far) for blocks of whole lines of bytes [start, end)."""
    if start:
        f.seek(start)
    remaining = None if end is None else end - start
    carry = b""
    first = start == 0
    lineno = 0
    while True:
        want = BLOCK if remaining is None else min(BLOCK, remaining)
        data = f.read(want) if want > 0 else b""
        if remaining is not None:
            remaining -= len(data)
        if not data:
            break
        buf = carry + data
        if first:
            first = False
            if buf.startswith(b"\xef\xbb\xbf"):
                buf = buf[3:]
        cut = buf.rfind(b"\n") + 1
        if cut == 0 and len(buf) <= 4 * MAX_LINE:
            carry = buf
            continue
        if cut == 0:  # one line longer than a block can hold: report it, keep its end
            errors.add(lineno + 1, f"a line of over {len(buf):,} bytes", f"at most {MAX_LINE:,} characters")
            carry = b""
            skipping = True
            while skipping:
                data = f.read(BLOCK if remaining is None else min(BLOCK, remaining))
                if remaining is not None:
                    remaining -= len(data)
                if not data:
                    break
                nl = data.find(b"\n")
                if nl >= 0:
                    carry, skipping = data[nl + 1:], False
            lineno += 1
            continue
        chunk, carry = buf[:cut], buf[cut:]
        yield _decode(chunk, lineno, errors), lineno
        lineno += chunk.count(b"\n")
    if carry:
        yield _decode(carry, lineno, errors), lineno


def _decode(chunk: bytes, lineno: int, errors: Problems) -> str:
    """UTF-8 text of `chunk`; lines with bad bytes or NULs are reported and blanked."""
    try:
        text = chunk.decode("utf-8")
        if "\x00" not in text:
            return text
    except UnicodeDecodeError:
        pass
    lines = chunk.split(b"\n")
    for i, raw in enumerate(lines):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            errors.add(lineno + i + 1, f"bytes that are not UTF-8 ({raw[e.start:e.start + 4]!r} at byte {e.start + 1})",
                       "UTF-8 text; is this a binary file?")
            lines[i] = b""
            continue
        if "\x00" in line:
            errors.add(lineno + i + 1, "a NUL byte (binary content)", "a text line `qid Q0 docid rank score tag`")
            lines[i] = b""
    return b"\n".join(lines).decode("utf-8")


class _Scanner:
    """Parse, check and group one range of a run file."""

    def __init__(self, spec: RunSpec, consume: Callable | None, keep_all: bool) -> None:
        self.spec = spec
        self.consume = consume
        self.keep_all = keep_all
        self.scan = Scan()
        self.open: dict[str, tuple[dict, list, int]] = {}  # qid -> (docs, ranks, first line)
        self.closed: set[str] = set()
        self.batch: dict[str, dict] = {}

    def run(self, f, start: int = 0, end: int | None = None) -> Scan:
        scan, spec = self.scan, self.spec
        errors = scan.errors
        docs_of = spec.docs_of
        cur, qd, ranks, docset, tag = None, None, None, None, None
        lineno = 0
        to_float, inf = float, _INF
        for text, lineno in _blocks(f, start, end, errors):
            if text.isspace():  # a block of blank lines (a gzip of them is tiny): nothing to read
                lineno += text.count("\n") + (not text.endswith("\n"))
                continue
            lines = text.split("\n")
            if not lines[-1]:
                lines.pop()
            long_lines = max(map(len, lines), default=0) > MAX_LINE
            # per block: most blocks need neither check (U+001C-U+001F are ASCII, and Python splits on them)
            plain = text.isascii() and not has_separator(text)
            underscores = "_" in text
            for lineno, line in enumerate(lines, lineno + 1):  # noqa: B020  (lineno carries on)
                if not plain and (not line.isascii() or has_separator(line)):
                    problem = _non_ascii(line)
                    if problem:
                        errors.add(lineno, *problem)
                        continue
                parts = line.split()
                if not parts:  # a blank line: cheaper than the exception below
                    continue
                try:
                    q, _, d, r, s, t = parts
                except ValueError:
                    if parts:
                        errors.add(lineno, f"{len(parts)} columns ({_clip(line)!r})",
                                   "6 columns `qid Q0 docid rank score tag`")
                    continue
                if q != cur:
                    cur = q
                    qd, ranks = self._switch(q, lineno)
                    docset = docs_of.get(q) if docs_of is not None else None
                try:
                    if underscores and "_" in s:  # Python reads 1_000; trec_eval does not
                        raise ValueError
                    x = to_float(s)
                except ValueError:
                    errors.add(lineno, f"score {_clip(s)!r}", "a number")
                    continue
                if not -inf < x < inf:
                    errors.add(lineno, f"score {s!r}", "a finite number")
                    continue
                if not r.isdigit() and not _is_int(r):
                    errors.add(lineno, f"rank {_clip(r)!r}", "an integer")
                    continue
                if d in qd:
                    errors.add(lineno, f"document {_clip(d)!r} a second time for query {q!r}",
                               "each (qid, docid) pair once")
                    continue
                if docset is not None and d not in docset:
                    errors.add(lineno, f"document {_clip(d)!r} for query {q!r}", spec.expected_docs)
                    continue
                if long_lines and len(line) > MAX_LINE:
                    errors.add(lineno, f"a line of {len(line):,} characters", f"at most {MAX_LINE:,} characters")
                    continue
                if t != tag:
                    tag = t
                    scan.tags.setdefault(t, lineno)
                qd[d] = x
                ranks.append(r)
        scan.lines = lineno
        for q in list(self.open):
            self._close(q)
        self._flush()
        return scan

    def _switch(self, q: str, lineno: int) -> tuple[dict, list]:
        """Start (or, when not grouped, resume) query `q`; close the previous one."""
        scan = self.scan
        if q in self.open:  # keep_all mode: a query that reappears
            qd, ranks, _ = self.open[q]
            return qd, ranks
        if q in self.closed:
            scan.grouped = False
            if not self.keep_all:
                raise _Regroup
        spec = self.spec
        if not self.keep_all and self.open:
            for prev in list(self.open):
                self._close(prev)
        if spec.qids is not None and q not in spec.qids:
            (scan.errors if spec.strict_qids else scan.warnings).add(
                lineno, f"query id {_clip(q)!r}", spec.expected_qids)
            if spec.strict_qids:  # an error already: keep nothing of it, so unknown ids cost no memory
                return {}, []
        scan.qids.append(q)
        qd, ranks = {}, []
        self.open[q] = (qd, ranks, lineno)
        return qd, ranks

    def _close(self, q: str) -> None:
        qd, ranks, first = self.open.pop(q)
        self.closed.add(q)
        scan, spec = self.scan, self.spec
        n = len(qd)
        scan.records += n
        if n > spec.max_docs:
            scan.errors.add(first, f"{n:,} documents for query {q!r}",
                            f"at most {spec.max_docs:,} per query (keep the top {spec.max_docs:,})")
        if n > 1:
            _count_tie(scan, q, qd)
            sc = list(qd.values())
            if not _counting(ranks):
                rk = list(map(int, ranks))
                if not all(map(le, rk, rk[1:])):
                    order = sorted(range(n), key=rk.__getitem__)
                    sc = [sc[i] for i in order]
            if any(map(lt, sc, sc[1:])):
                scan.misordered += 1
                if len(scan.misordered_examples) < MISORDERED_SHOWN:
                    scan.misordered_examples.append((first, q))
        if self.consume is not None and (spec.qids is None or q in spec.qids):
            self.batch[q] = qd
            if len(self.batch) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        if self.batch:
            self.scan.results.update(self.consume(self.batch))
            self.batch = {}


_INT = re.compile(r"[+-]?[0-9]+")
_ASCII_SPACE = " \t\r\n\v\f"
def has_separator(text: str) -> bool:
    """Whether `text` holds U+001C-U+001F, which str.split() splits on and trec_eval does not: four
    substring scans at C speed, 80x a regex class over a 4 MB block (a quarter of a scan's time)."""
    return "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text


def _is_int(s: str) -> bool:
    """An integer as trec_eval reads one: ASCII digits, an optional sign (not `1_000`, `²` or `١`)."""
    return _INT.fullmatch(s) is not None


def _non_ascii(line: str) -> tuple[str, str] | None:
    """(found, expected) where a line's columns would read differently in trec_eval: a space that is
    not ASCII, or digits of another script in the rank or score; None where it reads the same."""
    for ch in line:
        if ch.isspace() and ch not in _ASCII_SPACE:
            kind = "a separator control character" if ch.isascii() else "a non-ASCII space"
            return (f"{kind} (U+{ord(ch):04X}) in {_clip(line)!r}",
                    "columns separated by ASCII spaces or tabs, as trec_eval splits them")
    parts = line.split()
    if len(parts) == 6 and not (parts[3].isascii() and parts[4].isascii()):
        return (f"rank {_clip(parts[3])!r} and score {_clip(parts[4])!r}",
                "ASCII digits (trec_eval does not read other scripts' digits)")
    return None


def _clip(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[:n] + "..."


def scan_run(path: Path, spec: RunSpec, *, consume: Callable | None = None, workers: int | None = None) -> Scan:
    """Validate the run at `path`; hand each query's {docid: score} to `consume` in batches.

    `consume(batch) -> {qid: result}` must be a pure function of its batch (it may run in a
    forked worker). Raises ClirBenchError only when the file cannot be read at all.
    """
    path = regular_file(path, "run file")
    try:
        size = path.stat().st_size
        gzipped = is_gzip(path)
    except OSError as e:
        raise ClirBenchError(f"cannot read run file {path}: {e.strerror}") from None
    if problem := foreign_format(path):
        raise ClirBenchError(f"{path}: {problem}")
    if workers is None:
        from clir_bench.core.parallel import usable_cores

        workers = min(usable_cores(), 8)
    try:
        scan = None
        if not gzipped and workers > 1 and size >= PARALLEL_MIN_BYTES:
            scan = _parallel(path, spec, consume, workers, size)
        if scan is None:
            scan = _serial(path, spec, consume, keep_all=False)
        if not scan.sha256:
            scan.sha256 = sha256_file(path)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ClirBenchError(f"{path}: found a damaged gzip stream ({e}), expected a complete .gz file; "
                             "re-compress the run") from None
    if scan.records == 0 and scan.errors.total == 0:
        scan.errors.add(0, "no run lines (an empty file)", "lines `qid Q0 docid rank score tag`")
    if len(scan.tags) > 1:
        tags = ", ".join(f"{t!r} (line {n})" for t, n in list(scan.tags.items())[:5])
        scan.warnings.add(0, f"{len(scan.tags)} run tags: {tags}", "one tag per run file")
    _misordered_warnings(scan)
    _tie_warnings(scan)
    return scan


_COUNT: list[str] = []  # "1", "2", ...: grown to the longest query seen, at most COUNT_MAX
COUNT_MAX = 100_000


def _counting(ranks: list[str]) -> bool:
    """Whether `ranks` are "1", "2", ... in order, as nearly every run writes them: then they are sorted,
    known without converting each (a list comparison at C speed, a tenth of int() over every rank)."""
    n = len(ranks)
    if n > COUNT_MAX:  # far past any depth a track allows: not worth keeping the strings
        return False
    if n > len(_COUNT):
        _COUNT.extend(map(str, range(len(_COUNT) + 1, n + 1)))
    return ranks == _COUNT[:n]


def _count_tie(scan: Scan, q: str, scores: dict) -> None:
    values = iter(scores.values())
    first = next(values)
    if all(v == first for v in values):
        scan.tied += 1
        if len(scan.tied_examples) < MISORDERED_SHOWN:
            scan.tied_examples.append(q)


def _tie_warnings(scan: Scan) -> None:
    if scan.tied:
        scan.warnings.add(0, f"{scan.tied:,} queries whose documents all have the same score (e.g. "
                             f"{scan.tied_examples}): they are ranked by trec_eval's tie-break (docid, descending), "
                             "not by the rank column or the system", "scores that order each query's documents")


def _misordered_warnings(scan: Scan) -> None:
    """At most MISORDERED_SHOWN queries whose ranks disagree with their scores, then their count."""
    for line, q in scan.misordered_examples[:MISORDERED_SHOWN]:
        scan.warnings.add(line, f"ranks of query {q!r} that disagree with its scores",
                          "rank 1 to hold the highest score (scoring uses scores, as trec_eval does)")
    if scan.misordered > MISORDERED_SHOWN:
        scan.warnings.add(0, f"{scan.misordered} queries whose ranks disagree with their scores "
                             f"({MISORDERED_SHOWN} shown)", "rank order = score order")


MAPPING = "<mapping>"  # how an in-memory run is named in problems and reports


def scan_mapping(run: Mapping, spec: RunSpec, *, consume: Callable | None = None) -> Scan:
    """Validate an in-memory run {qid: {docid: score}} by the rules of `scan_run` (no line numbers,
    ranks or tags: a mapping has none); hand each query's documents to `consume` in batches."""
    scan = Scan()
    errors = scan.errors
    digest = hashlib.sha256()
    batch: dict[str, dict] = {}
    for q in sorted(run, key=str):
        docs = run[q]
        if not isinstance(q, str) or not q or q != q.strip() or len(q.split()) != 1:
            errors.add(0, f"query id {_clip(repr(q))}", "a query id string without whitespace")
            continue
        if not isinstance(docs, Mapping):
            errors.add(0, f"{type(docs).__name__} for query {_clip(q)!r}", "a mapping {docid: score}")
            continue
        if spec.qids is not None and q not in spec.qids:
            (errors if spec.strict_qids else scan.warnings).add(0, f"query id {_clip(q)!r}", spec.expected_qids)
        scan.qids.append(q)
        docset = spec.docs_of.get(q) if spec.docs_of is not None else None
        scores = {}
        for d in sorted(docs, key=str):
            x = docs[d]
            if not isinstance(d, str) or not d or len(d.split()) != 1 or d != d.strip():
                errors.add(0, f"document id {_clip(repr(d))} for query {_clip(q)!r}",
                           "a document id string without whitespace")
            elif isinstance(x, bool) or not isinstance(x, numbers.Real):
                errors.add(0, f"score {_clip(repr(x))} for query {_clip(q)!r} document {_clip(d)!r}", "a number")
            elif not -_INF < float(x) < _INF:
                errors.add(0, f"score {x!r} for query {_clip(q)!r} document {_clip(d)!r}", "a finite number")
            elif docset is not None and d not in docset:
                errors.add(0, f"document {_clip(d)!r} for query {_clip(q)!r}", spec.expected_docs)
            else:
                scores[d] = float(x)
                digest.update(f"{q}\t{d}\t{float(x)!r}\n".encode())
        if len(scores) > spec.max_docs:
            errors.add(0, f"{len(scores):,} documents for query {q!r}",
                       f"at most {spec.max_docs:,} per query (keep the top {spec.max_docs:,})")
        scan.records += len(scores)
        if len(scores) > 1:
            _count_tie(scan, q, scores)
        if consume is not None and (spec.qids is None or q in spec.qids):
            batch[q] = scores
            if len(batch) >= BATCH:
                scan.results.update(consume(batch))
                batch = {}
    if batch and consume is not None:
        scan.results.update(consume(batch))
    scan.lines = scan.records
    scan.sha256 = digest.hexdigest()
    if scan.records == 0 and errors.total == 0:
        errors.add(0, "no documents (an empty run)", "a mapping {qid: {docid: score}}")
    _tie_warnings(scan)
    return scan


def _serial(path: Path, spec: RunSpec, consume, keep_all: bool) -> Scan:
    try:
        with open_binary(path) as f:
            return _Scanner(spec, consume, keep_all).run(f)
    except _Regroup:
        scan = _serial(path, spec, consume, keep_all=True)
        scan.grouped = False
        return scan


_FORK_STATE: tuple = ()


def _scan_range(path: str, start: int, end: int) -> Scan | None:
    spec, consume = _FORK_STATE
    try:
        with open(path, "rb") as f:
            return _Scanner(spec, consume, keep_all=False).run(f, start, end)
    except _Regroup:
        return None


def _boundaries(path: Path, size: int, parts: int) -> list[int]:
    """Byte offsets that split the file into `parts` ranges, each starting a new query."""
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, parts):
            f.seek(max(size * i // parts, cuts[-1]))
            f.readline()
            prev = None
            while True:
                pos = f.tell()
                line = f.readline(1 << 20)
                if not line:
                    pos = size
                    break
                if not line.endswith(b"\n") and f.tell() < size:
                    return [0, size]  # a line too long to look at: no split
                q = line.split(None, 1)[0] if line.strip() else None
                if prev is not None and q is not None and q != prev:
                    break
                prev = q if q is not None else prev
            if pos < size and pos > cuts[-1]:
                cuts.append(pos)
    return cuts + [size]


def _parallel(path: Path, spec: RunSpec, consume, workers: int, size: int) -> Scan | None:
    """Scan ranges in forked workers and merge; None when the file is not grouped by query."""
    import multiprocessing

    global _FORK_STATE
    cuts = _boundaries(path, size, workers)
    if len(cuts) <= 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _serial(path, spec, consume, keep_all=False)
    _FORK_STATE = (spec, consume)
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(len(cuts) - 1) as pool:
            pending = pool.starmap_async(_scan_range, [(str(path), a, b) for a, b in zip(cuts, cuts[1:], strict=False)])
            digest = sha256_file(path)  # while the workers scan
            parts = pending.get()
    finally:
        _FORK_STATE = ()
    if any(p is None for p in parts):
        return None  # a part was not grouped by query
    merged, offset, seen = Scan(), 0, set()
    for part in parts:
        if seen.intersection(part.qids):
            return None
        seen.update(part.qids)
        merged.errors.extend(part.errors, offset)
        merged.warnings.extend(part.warnings, offset)
        merged.results.update(part.results)
        merged.qids += part.qids
        for tag, line in part.tags.items():
            merged.tags.setdefault(tag, line + offset)
        merged.records += part.records
        merged.misordered += part.misordered
        merged.tied += part.tied
        merged.tied_examples = (merged.tied_examples + part.tied_examples)[:MISORDERED_SHOWN]
        merged.misordered_examples += [(line + offset, q) for line, q in part.misordered_examples]
        offset += part.lines
    merged.lines = offset
    merged.sha256 = digest
    return merged
