"""TREC qrels: one strict reader for every qrels file the harness reads, and their checksum.

Format (trec_eval): `qid iteration docid grade`, whitespace-separated, the iteration ignored;
plain or gzipped (sniffed), a UTF-8 BOM and blank lines accepted, and lines starting with
`#` skipped as trec_eval 10 skips them. A (qid, docid) judged twice, a grade that is not an
integer and a wrong column count are errors, every one reported with file:line.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Mapping
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import foreign_format, open_text, regular_file
from clir_bench.evaluation.validation import MAX_LINE, Problems, _non_ascii, has_separator

MAX_GRADE = 2**31  # trec_eval holds grades in a C long; pytrec_eval overflows beyond 2^63
GRADE = re.compile(r"[+-]?[0-9]{1,9}")

Qrels = dict[str, dict[str, int]]


def read_qrels(path: Path, *, qid_prefix: str = "") -> Qrels:
    """qid -> docid -> grade from a TREC qrels file; `qid_prefix` namespaces the qids (e.g. `sw-`)."""
    errors = Problems()
    qrels: Qrels = {}
    path = regular_file(path, "qrels file")  # never /dev/zero or a FIFO: it would be read forever
    if problem := foreign_format(path):
        raise ClirBenchError(f"{path}: {problem}")
    try:
        with open_text(path) as f:
            n, cur, judged = 0, None, None
            for block in iter(lambda: f.readlines(1 << 20), []):
                # per block: most need none of the line checks (all ASCII, no NUL, separators or long line)
                text = "".join(block)
                plain = text.isascii() and "\x00" not in text and not has_separator(text) \
                    and max(map(len, block)) <= MAX_LINE
                for n, line in enumerate(block, n + 1):  # noqa: B020  (n carries on)
                    if not plain and not _line_ok(line, n, errors):
                        continue
                    parts = line.split()
                    try:
                        q, _, d, grade = parts
                    except ValueError:
                        if parts and not parts[0].startswith("#"):
                            errors.add(n, f"{len(parts)} columns ({line.strip()[:60]!r})",
                                       "4 columns `qid 0 docid grade`")
                        continue
                    if q != cur:  # judgments come grouped by query: look the query up once per group
                        if q.startswith("#"):
                            continue
                        cur, judged = q, qrels.setdefault(qid_prefix + q, {})
                    # int() reads 1_0 as 10 and ٢ as 2; trec_eval does not (isdigit: ASCII digits in a plain block)
                    if not (plain and grade.isdigit() and len(grade) <= 9) and not GRADE.fullmatch(grade):
                        errors.add(n, f"grade {grade[:40]!r}", f"an ASCII integer below {MAX_GRADE:,} in size")
                        continue
                    if d in judged:
                        errors.add(n, f"document {d[:40]!r} judged a second time for query "
                                      f"{q[:40]!r}", "one judgment per (qid, docid)")
                        continue
                    judged[d] = int(grade)
    except (OSError, UnicodeDecodeError, EOFError, zlib.error) as e:
        raise ClirBenchError(f"cannot read qrels file {path}: {e}") from None
    if errors.total:
        raise ClirBenchError("invalid qrels:\n" + "\n".join(errors.lines(str(path))))
    if not qrels:
        raise ClirBenchError(f"{path}: found no judgments, expected lines `qid 0 docid grade`")
    return qrels


def _line_ok(line: str, n: int, errors: Problems) -> bool:
    """The checks a line of a block that is not plain ASCII text needs; False (reported) to skip it."""
    if len(line) > MAX_LINE:
        errors.add(n, f"a line of {len(line):,} characters", f"at most {MAX_LINE:,} characters")
        return False
    if "\x00" in line:
        errors.add(n, "a NUL byte (binary content)", "a text line `qid 0 docid grade`")
        return False
    if not line.isascii() or has_separator(line):  # read as trec_eval reads it, or refused
        problem = _non_ascii(line)
        if problem:
            errors.add(n, *problem)
            return False
    return True


def qrels_sha256(qrels: Mapping[str, Mapping[str, int]]) -> str:
    """sha256 of the qrels in canonical TREC form (sorted `qid 0 docid grade` lines)."""
    digest = hashlib.sha256()
    for q in sorted(qrels):
        judged = qrels[q]
        digest.update("".join([f"{q} 0 {d} {judged[d]}\n" for d in sorted(judged)]).encode())
    return digest.hexdigest()
