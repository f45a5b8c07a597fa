"""Documents that stay on disk: a read-only Mapping docid -> text over a JSONL or TSV file.

Real collections hold millions of passages (CIRAL: 0.08-0.95M per language), so documents
are streamed in batches (`batches`) and never all held as Python strings. Looking one up
(`docs[docid]`) seeks through an offset index built on first use (plain files) or scans
(gzipped files); retrieval code streams instead. Formats: JSON lines with `docid` and text
fields (CIRAL's `title` + `text`, joined), or TSV `docid<TAB>text`; `.gz` for either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import is_gzip, open_binary

BATCH = 1024


def doc_batches(docs: Mapping[str, str], size: int = BATCH) -> Iterator[tuple[list[str], list[str]]]:
    """(docids, texts) in batches: streamed where the store streams (`batches`), chunked otherwise."""
    if hasattr(docs, "batches"):
        yield from docs.batches(size)
        return
    ids = list(docs)
    for i in range(0, len(ids), size):
        chunk = ids[i:i + size]
        yield chunk, [docs[d] for d in chunk]


def batched(records: Iterable[tuple[str, str]], size: int) -> Iterator[tuple[list[str], list[str]]]:
    """(docids, texts) lists of `size` from a stream of (docid, text)."""
    ids, texts = [], []
    for docid, text in records:
        ids.append(docid)
        texts.append(text)
        if len(ids) == size:
            yield ids, texts
            ids, texts = [], []
    if ids:
        yield ids, texts


class StreamedDocs(Mapping[str, str]):
    """A Mapping whose documents stream: subclasses give `records()` (docid, text), `ids()` and `lookup`."""

    def records(self) -> Iterator[tuple[str, str]]:
        raise NotImplementedError

    def ids(self) -> frozenset[str]:
        raise NotImplementedError

    def lookup(self, docid: str) -> str:
        raise NotImplementedError

    def fingerprint(self) -> str:
        raise NotImplementedError

    def batches(self, size: int = BATCH) -> Iterator[tuple[list[str], list[str]]]:
        return batched(self.records(), size)

    def __iter__(self) -> Iterator[str]:
        return (docid for docid, _ in self.records())

    def __len__(self) -> int:
        return len(self.ids())

    def __contains__(self, docid: object) -> bool:
        return docid in self.ids()

    def __getitem__(self, docid: str) -> str:
        if docid not in self.ids():
            raise KeyError(docid)
        return self.lookup(docid)


class FileDocs(StreamedDocs):
    def __init__(self, path: Path, *, text_fields: tuple[str, ...] = ("title", "text"), id_field: str = "docid",
                 what: str = "") -> None:
        self.path = Path(path)
        self.text_fields, self.id_field, self.what = text_fields, id_field, what
        name = self.path.name.removesuffix(".gz")
        if not name.endswith((".jsonl", ".tsv")):
            raise ClirBenchError(f"{self.path}: found a {name.rsplit('.', 1)[-1]!r} file, expected .jsonl or .tsv "
                                 "(optionally .gz)")
        self.jsonl = name.endswith(".jsonl")
        self._ids: frozenset[str] | None = None
        self._offsets: dict[str, int] | None = None

    def fingerprint(self) -> str:
        """Path, size and modification time: enough to key caches of what was computed from it."""
        st = self._stat()
        return f"{self.path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def _stat(self) -> os.stat_result:
        try:
            return self.path.stat()
        except OSError:
            raise ClirBenchError(f"document file {self.path} is missing{self.what}") from None

    def _open(self):
        self._stat()
        return open_binary(self.path)

    def _parse(self, raw: bytes, n: int) -> tuple[str, str] | None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line.strip():
            return None
        if self.jsonl:
            try:
                rec = json.loads(line)
                docid = rec[self.id_field]
                text = " ".join(str(rec[f]) for f in self.text_fields if rec.get(f))
            except (ValueError, KeyError, TypeError):
                raise ClirBenchError(f"{self.path}:{n}: found {line[:60]!r}, expected a JSON object with "
                                     f"{self.id_field!r} and {' / '.join(map(repr, self.text_fields))}") from None
            return str(docid), text
        docid, sep, text = line.partition("\t")
        if not sep:
            raise ClirBenchError(f"{self.path}:{n}: found {line[:60]!r}, expected `docid<TAB>text`")
        if n == 1 and docid == "docid":
            return None  # header
        return docid, text

    def _records(self) -> Iterator[tuple[int, int, str, str]]:
        """(line, byte offset, docid, text) for every document, streamed."""
        with self._open() as f:
            offset = 0
            for n, raw in enumerate(f, 1):
                rec = self._parse(raw, n)
                if rec is not None:
                    yield n, offset, rec[0], rec[1]
                offset += len(raw)

    def records(self) -> Iterator[tuple[str, str]]:
        return ((docid, text) for _, _, docid, text in self._records())

    def ids(self) -> frozenset[str]:
        """Every docid, checked unique on the first call."""
        if self._ids is None:
            gz = is_gzip(self.path)
            seen: dict[str, int] = {}
            offsets: dict[str, int] = {}
            for n, offset, docid, _ in self._records():
                if docid in seen:
                    raise ClirBenchError(f"{self.path}:{n}: found docid {docid!r} again (first on line {seen[docid]}), "
                                         "expected each document once")
                seen[docid] = n
                if not gz:
                    offsets[docid] = offset
            self._ids = frozenset(seen)
            self._offsets = None if gz else offsets
        return self._ids

    def describe(self) -> str:
        """The file and its sha256 (for export manifests and checksums; not its folder)."""
        from clir_bench.core.files import sha256_file

        self._stat()
        return f"{self.path.name}\tsha256 {sha256_file(self.path)}"

    def lookup(self, docid: str) -> str:
        if self._offsets is not None:
            with open(self.path, "rb") as f:
                f.seek(self._offsets[docid])
                rec = self._parse(f.readline(), 0)
                return rec[1] if rec else ""
        return next(text for d, text in self.records() if d == docid)
