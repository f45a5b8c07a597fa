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
from clir_bench.evaluation.validation import _SEPARATORS, MAX_LINE, Problems, _non_ascii

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
            for n, line in enumerate(f, 1):
                if len(line) > MAX_LINE:
                    errors.add(n, f"a line of {len(line):,} characters", f"at most {MAX_LINE:,} characters")
                    continue
                if "\x00" in line:
                    errors.add(n, "a NUL byte (binary content)", "a text line `qid 0 docid grade`")
                    continue
                if not line.isascii() or _SEPARATORS.search(line):  # read as trec_eval reads it, or refused
                    problem = _non_ascii(line)
                    if problem:
                        errors.add(n, *problem)
                        continue
                parts = line.split()
                if not parts or parts[0].startswith("#"):
                    continue
                if len(parts) != 4:
                    errors.add(n, f"{len(parts)} columns ({line.strip()[:60]!r})", "4 columns `qid 0 docid grade`")
                    continue
                if not GRADE.fullmatch(parts[3]):  # int() reads 1_0 as 10 and ٢ as 2; trec_eval does not
                    errors.add(n, f"grade {parts[3][:40]!r}", f"an ASCII integer below {MAX_GRADE:,} in size")
                    continue
                grade = int(parts[3])
                judged = qrels.setdefault(qid_prefix + parts[0], {})
                if parts[2] in judged:
                    errors.add(n, f"document {parts[2][:40]!r} judged a second time for query {parts[0][:40]!r}",
                               "one judgment per (qid, docid)")
                    continue
                judged[parts[2]] = grade
    except (OSError, UnicodeDecodeError, EOFError, zlib.error) as e:
        raise ClirBenchError(f"cannot read qrels file {path}: {e}") from None
    if errors.total:
        raise ClirBenchError("invalid qrels:\n" + "\n".join(errors.lines(str(path))))
    if not qrels:
        raise ClirBenchError(f"{path}: found no judgments, expected lines `qid 0 docid grade`")
    return qrels


def qrels_sha256(qrels: Mapping[str, Mapping[str, int]]) -> str:
    """sha256 of the qrels in canonical TREC form (sorted `qid 0 docid grade` lines)."""
    digest = hashlib.sha256()
    for q in sorted(qrels):
        for d in sorted(qrels[q]):
            digest.update(f"{q} 0 {d} {qrels[q][d]}\n".encode())
    return digest.hexdigest()
