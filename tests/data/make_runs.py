"""Regenerate the run-file corpus in tests/data/runs (malformed and accepted variants).

Runs are against the built-in track noise-0.0 (UDHR, fold 0). Each bad file holds one kind
of problem; BAD below is what `validate` must say about it (the line and a phrase).
"""

import gzip
from pathlib import Path

HERE = Path(__file__).parent / "runs"
QIDS = ["sw-0101", "de-0101", "fr-0401"]
DOCS = ["udhr-0101", "udhr-0401", "udhr-1301", "udhr-1302"]


def good_lines(tag="demo"):
    return [f"{q} Q0 {d} {r} {10 - r}.5 {tag}" for q in QIDS for r, d in enumerate(DOCS, 1)]


def text(lines):
    return "\n".join(lines) + "\n"


def with_line(i, line):
    lines = good_lines()
    lines[i] = line
    return text(lines)


# name -> (content, expected line, expected phrase)
BAD = {
    "columns.trec": (with_line(1, "sw-0101 Q0 udhr-0401 2 8.5"), 2, "found 5 columns"),
    "empty.trec": ("", 0, "empty file"),
    "blank-only.trec": ("\n  \n\t\n", 0, "empty file"),
    "latin1.trec": (with_line(2, "sw-0101 Q0 udhr-1301 3 7.5 d\xe9mo").encode("latin-1"), 3, "not UTF-8"),
    "binary.trec": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", 1, "not UTF-8"),
    "nul.trec": (with_line(0, "sw-0101 Q0 udhr-0101 1 9.5 de\x00mo"), 1, "NUL byte"),
    "score-text.trec": (with_line(1, "sw-0101 Q0 udhr-0401 2 high demo"), 2, "score 'high'"),
    "score-nan.trec": (with_line(1, "sw-0101 Q0 udhr-0401 2 nan demo"), 2, "a finite number"),
    "score-inf.trec": (with_line(1, "sw-0101 Q0 udhr-0401 2 -inf demo"), 2, "a finite number"),
    "rank-float.trec": (with_line(1, "sw-0101 Q0 udhr-0401 2.0 8.5 demo"), 2, "rank '2.0'"),
    "duplicate.trec": (with_line(1, "sw-0101 Q0 udhr-0101 2 8.5 demo"), 2, "a second time"),
    "unknown-qid.trec": (text(good_lines() + ["xx-0101 Q0 udhr-0101 1 1.0 demo"]), 13, "query id 'xx-0101'"),
    "unknown-doc.trec": (with_line(3, "sw-0101 Q0 udhr-0301 4 6.5 demo"), 4, "a document of the query's fold"),
    "long-line.trec": (with_line(0, "sw-0101 Q0 udhr-0101 1 9.5 " + "x" * 5000), 1, "at most 4,096 characters"),
    "many-errors.trec": (text(good_lines() + [f"sw-0101 Q0 udhr-0101 {i} x demo" for i in range(120)]), 13,
                         "and 70 more"),
}

# name -> content that must validate and score exactly like good.trec
OK = {
    "good.trec": text(good_lines()),
    "crlf.trec": text(good_lines()).replace("\n", "\r\n"),
    "bom.trec": "\ufeff" + text(good_lines()),
    "spaces.trec": "\n".join("  " + line.replace(" ", " \t ") + "   " for line in good_lines()) + "\n\n\n",
    "no-final-newline.trec": "\n".join(good_lines()),
    "int-scores.trec": text(f"{q} Q0 {d} {r} {10 - r} demo" for q in QIDS for r, d in enumerate(DOCS, 1)),
}


def main():
    for sub, table in (("bad", {k: v[0] for k, v in BAD.items()}), ("ok", OK)):
        for name, content in table.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            (HERE / sub / name).write_bytes(data)
    (HERE / "ok" / "good.trec.gz").write_bytes(gzip.compress(OK["good.trec"].encode(), mtime=0))


if __name__ == "__main__":
    main()
