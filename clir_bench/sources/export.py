"""What a participant needs from a track, as files: queries, documents, qrels, noisy bitext.

Layout (all UTF-8, tab-separated, one header line in each TSV):

    queries/{test,dev}/LANG.tsv      qid, text
    documents/{test,dev}.tsv         docid, text (shared by all languages), or
    documents/{test,dev}/LANG.tsv    one file per language when the collection has one per language
    documents/.../LANG.source.txt    instead, for a collection read from its own files (CIRAL,
                                     ir_datasets): where it is, with the sha256 of the file
    qrels/{test,dev}.txt             TREC qrels: qid 0 docid grade
    bitext/LANG.tsv                  id, text, english (the noisy training bitext)
    noise-manifest.tsv               lang, id, kind, detail: which pairs were corrupted, how
    track.toml, README.md, manifest.json (sha256 of every file)

A cross-validated track has all of that per fold under fold-F/ (its documents, test and dev
queries and qrels, bitext and noise manifest), and folds.tsv (qid, fold) at the top: the test
queries of fold F are answered by a model trained on fold-F/bitext and tuned on fold-F's dev.
"""

from __future__ import annotations

import json
from pathlib import Path

from clir_bench import __version__
from clir_bench.core.errors import ClirBenchError
from clir_bench.core.files import atomic_dir, check_output_folder, sha256_bytes


def _tsv(header: tuple[str, ...], rows) -> bytes:
    lines = ["\t".join(header)]
    for row in rows:
        cells = [" ".join(str(c).split()) for c in row]  # no tab or newline can break a row
        lines.append("\t".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _qrels(qrels: dict) -> bytes:
    return "".join(f"{q} 0 {d} {g}\n" for q in sorted(qrels) for d, g in sorted(qrels[q].items())).encode()


def _documents(docs, path: str) -> tuple[str, bytes]:
    """The documents as a TSV, or, for a collection that stays on disk, a note naming its source."""
    if hasattr(docs, "describe"):
        return f"{path}.source.txt", (docs.describe() + "\n").encode()
    return f"{path}.tsv", _tsv(("docid", "text"), sorted(docs.items()))


def _per_fold(track, render) -> dict[str, bytes]:
    return {f"fold-{part.fold}/{path}": body for part in track.fold_tracks() for path, body in render(part).items()}


def render_split(track, split: str) -> dict[str, bytes]:
    """A split's files ({} where the collection has no such split); every fold's, under fold-F/."""
    if track.cross_validated:
        return _per_fold(track, lambda part: render_split(part, split))
    if not track.collection.has_split(split):
        return {}
    data = track.data(split)
    files: dict[str, bytes] = {}
    shared = len({id(p.docs) for p in data.values()}) == 1
    qrels = {}
    for lang, pair in data.items():
        files[f"queries/{split}/{lang}.tsv"] = _tsv(("qid", "text"), sorted(pair.queries.items()))
        if not shared:
            name, body = _documents(pair.docs, f"documents/{split}/{lang}")
            files[name] = body
        qrels.update(pair.qrels)
    if shared:
        name, body = _documents(next(iter(data.values())).docs, f"documents/{split}")
        files[name] = body
    files[f"qrels/{split}.txt"] = _qrels(qrels)
    return files


def render_bitext(track) -> dict[str, bytes]:
    if track.cross_validated:
        return _per_fold(track, render_bitext)
    bitext, manifest = track.noisy_bitext()
    files = {f"bitext/{lang}.tsv": _tsv(("id", "text", "english"), ((p.id, p.text, p.english) for p in pairs))
             for lang, pairs in bitext.items()}
    files["noise-manifest.tsv"] = _tsv(("lang", "id", "kind", "detail"),
                                       ((c.lang, c.id, c.kind, c.detail) for c in manifest))
    return files


def digest(files: dict[str, bytes]) -> str:
    """One sha256 for a set of files: over the sorted `sha256  path` lines (sha256sum format)."""
    return sha256_bytes("".join(f"{sha256_bytes(b)}  {p}\n" for p, b in sorted(files.items())).encode())


def checksums(track) -> dict[str, str]:
    """sha256 of the test data, the dev data (where there is one) and the noisy bitext (with its manifest)."""
    sums = {split: digest(files) for split in ("test", "dev") if (files := render_split(track, split))}
    return {**sums, "bitext": track.bitext_sha256()}


README = """# {name} (clir-bench track, version {version})

{description}

Exported by clir-bench {harness}. Queries in each language search the documents; write a
TREC run (`qid Q0 docid rank score tag`, at most {max_docs} documents per query) for the
test queries, then `clir-bench score RUN --track {name}`. Tune on `dev` only.

- queries/SPLIT/LANG.tsv: qid, text. Languages: low-resource {low}; high-resource {high}.
- documents: docid, text.
- qrels/SPLIT.txt: TREC qrels, grade 2 = the aligned paragraph, 1 = same article.
- bitext/LANG.tsv: id, text (LANG), english. The training data: {noise}.
{noise_manifest}- manifest.json: sha256 of every file (the bitext checksum is the track's, which covers the
  noise manifest: `clir-bench tracks show {name}` prints it).
{folds}"""

NOISE_MANIFEST = {
    False: "", True: "- noise-manifest.tsv: which pairs the noise corrupted. FOR ANALYSIS ONLY: a system that reads "
                     "it\n  to train escapes the condition the track measures, and is not comparable on the board.\n"}

FOLDS = """
Cross-validated: everything above lies per fold under fold-F/, and folds.tsv maps each test
query to its fold. Answer fold F's test queries with a system trained on fold-F/bitext only
and tuned on fold-F's dev queries, ranking fold-F's documents; one run holds every fold.
"""


def is_export(folder: Path) -> bool:
    """Whether `folder` holds an earlier export (its manifest.json names a track and clir-bench), so that
    `--force` may replace it; nothing else is ever replaced."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and isinstance(manifest.get("track"), str)
            and str(manifest.get("harness", "")).startswith("clir-bench "))


def export(track, out: Path, *, force: bool = False, noise_manifest: bool = False) -> dict:
    """Write the track's files to `out` atomically; return the manifest. The noise manifest (which
    bitext pairs are corrupted) is left out unless `noise_manifest`: a participant trains on the
    noisy bitext as it is, as the track measures."""
    parts = {"test": render_split(track, "test"), "dev": render_split(track, "dev"), "bitext": render_bitext(track)}
    files = {path: data for part in parts.values() for path, data in part.items()
             if noise_manifest or not path.endswith("noise-manifest.tsv")}
    if track.cross_validated:
        files["folds.tsv"] = _tsv(("qid", "fold"), sorted(track.fold_of().items()))
    files["track.toml"] = track.source.encode("utf-8")
    files["README.md"] = README.format(
        name=track.name, version=track.version, description=track.description, harness=__version__,
        max_docs=track.max_docs_per_query, low=", ".join(track.of_class("low")),
        high=", ".join(track.of_class("high")), noise=track.noise.describe(),
        folds=FOLDS if track.cross_validated else "", noise_manifest=NOISE_MANIFEST[noise_manifest]).encode()
    manifest = {
        "track": track.name, "track_version": track.version, "harness": f"clir-bench {__version__}",
        "noise_manifest": "included: for analysis only, never for training" if noise_manifest else "left out",
        "checksums": {name: digest(part) for name, part in parts.items()},
        "files": {p: {"sha256": sha256_bytes(b), "bytes": len(b)} for p, b in sorted(files.items())},
    }
    if not force and Path(out).is_dir() and any(Path(out).iterdir()):
        raise ClirBenchError(f"{out} is not empty; pass --force to replace an earlier export, or choose another --out")
    check_output_folder(Path(out), ours=is_export, what="an export made by clir-bench (its manifest.json)")
    with atomic_dir(out, force=force) as tmp:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest

