"""Dense retrieval with an encoder, and MAP of a dev split for early stopping and tuning.

Documents are encoded in shards of SHARD as they stream from disk; with a cache folder each
shard is saved as it is finished (`shard-NNNNN.npy` + its docids), so an interrupted encoding
resumes where it stopped. Search is exact: queries against one shard at a time (on the
encoder's device, a GPU where there is one), keeping a running top-k, so memory holds one
shard of scores, never a queries x documents matrix.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from clir_bench.core.files import atomic_file
from clir_bench.models.encoder import distributed_rank
from clir_bench.sources.base import PairData
from clir_bench.sources.documents import doc_batches

SHARD = int(os.environ.get("CLIR_BENCH_SHARD_DOCS", 65_536))  # documents per shard
BATCH = math.gcd(1024, SHARD)  # documents read and encoded at a time; divides SHARD


@dataclass
class DenseIndex:
    """Document embeddings in shards (tensors, or arrays mapped from disk) and their docids."""

    ids: list[str] = field(default_factory=list)
    shards: list = field(default_factory=list)

    def search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact top-k by inner product (cosine: both sides are L2-normalised), shard by shard."""
        import numpy as np

        best_v = best_i = None
        offset = 0
        for shard in self.shards:
            if not isinstance(shard, torch.Tensor):  # mapped from disk: read in (one shard at a time)
                shard = torch.from_numpy(np.array(shard))
            d = shard.to(queries.device, dtype=queries.dtype)
            v, i = torch.topk(queries @ d.T, k=min(k, d.shape[0]), dim=1)
            i = i + offset
            offset += d.shape[0]
            if best_v is not None:
                v, pick = torch.topk(torch.cat([best_v, v], 1), k=min(k, best_v.shape[1] + v.shape[1]), dim=1)
                i = torch.gather(torch.cat([best_i, i], 1), 1, pick)
            best_v, best_i = v, i
        if best_v is None:
            return torch.empty(queries.shape[0], 0), torch.empty(queries.shape[0], 0, dtype=torch.long)
        return best_v, best_i


def encode_docs(encoder, docs, *, model=None, cache: Path | None = None, progress=None,
                distributed: bool = False) -> DenseIndex:
    """Embed documents as "passage" in shards of SHARD.

    With `cache` (and documents on disk), shard k is saved as CACHE/embeddings/KEY/shard-k.npy with
    its docids as soon as it is full, a finished shard is never encoded again (an interrupted run
    resumes), and the index maps the shards from disk. With `distributed` under torchrun, process r
    of w encodes the shards k with k % w == r, then all wait for each other and map every shard.
    """
    import numpy as np

    if cache is None or model is not None or not hasattr(docs, "fingerprint"):  # a student's: not kept
        return _encode_in_memory(encoder, docs, model=model, progress=progress)
    key = hashlib.sha256(f"{encoder.source.model_id}|{encoder.source.revision}|{encoder.max_length}|"
                         f"{docs.fingerprint()}".encode()).hexdigest()[:16]
    folder = Path(cache) / "embeddings" / key
    folder.mkdir(parents=True, exist_ok=True)
    rank, world = distributed_rank() if distributed else (0, 1)
    ids: list[str] = []
    parts: list[torch.Tensor] = []
    seen = 0

    def flush(shard: int) -> None:
        emb = torch.cat(parts)
        _save_atomic(folder / f"ids-{shard:05d}.txt", "\n".join(ids).encode())
        _save_atomic(folder / f"shard-{shard:05d}.npy", _npy(emb.cpu().numpy()))
        ids.clear()
        parts.clear()

    for batch_ids, batch_texts in doc_batches(docs, BATCH):  # BATCH divides SHARD: a batch lies in one shard
        shard = seen // SHARD
        seen += len(batch_ids)
        if progress:
            progress(seen)
        if shard % world != rank or (folder / f"shard-{shard:05d}.npy").is_file():
            continue
        ids.extend(batch_ids)
        parts.append(encoder.embed(batch_texts, "passage", model=model))
        if seen % SHARD == 0:
            flush(shard)
    if ids:
        flush((seen - 1) // SHARD)
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    index = DenseIndex()
    for shard in range((seen + SHARD - 1) // SHARD):
        index.shards.append(np.load(folder / f"shard-{shard:05d}.npy", mmap_mode="r"))
        index.ids += (folder / f"ids-{shard:05d}.txt").read_text("utf-8").split("\n")
    return index


def _encode_in_memory(encoder, docs, *, model=None, progress=None) -> DenseIndex:
    index = DenseIndex()
    parts: list[torch.Tensor] = []
    for batch_ids, batch_texts in doc_batches(docs, BATCH):
        index.ids.extend(batch_ids)
        parts.append(encoder.embed(batch_texts, "passage", model=model))
        if progress:
            progress(len(index.ids))
        if sum(len(p) for p in parts) >= SHARD:
            index.shards.append(torch.cat(parts))
            parts.clear()
    if parts:
        index.shards.append(torch.cat(parts))
    return index


def _npy(array) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array, dtype=np.float32))
    return buf.getvalue()


def _save_atomic(path: Path, data: bytes) -> None:
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)


def dense_run(encoder, data: dict[str, PairData], *, student=None, english_queries: bool = False,
              doc_cache: dict | None = None, depth: int = 1000, cache: Path | None = None,
              progress=None, query_store: Path | None = None) -> dict[str, dict[str, float]]:
    """{qid: {docid: score}}, cosine, top `depth` per query.

    The side in the track's language is encoded by `student` (default: the encoder's own model),
    the English side by the frozen encoder: queries where `english_queries` is False (udhr),
    documents otherwise (CIRAL, WikiCLIR). Teacher-encoded documents are kept in `doc_cache`
    and, for documents on disk, in `cache`. `query_store` (a .safetensors file) keeps the query
    embeddings by query text, so a rerun with the same model encodes no query again.
    """
    run: dict[str, dict[str, float]] = {}
    doc_cache = {} if doc_cache is None else doc_cache
    doc_model, query_model = (student, None) if english_queries else (None, student)
    # every language's queries in one call: batches of like lengths across languages pad least
    texts = [text for pair in data.values() for text in pair.queries.values()]
    if query_store is None:
        embedded = encoder.embed(texts, "query", model=query_model)
    else:
        embedded = _stored_queries(encoder, texts, query_model, query_store)
    start = 0
    for pair in data.values():
        if doc_model is None:
            key = id(pair.docs)
            if key not in doc_cache:
                doc_cache[key] = encode_docs(encoder, pair.docs, cache=cache, progress=progress)
            index = doc_cache[key]
        else:
            index = encode_docs(encoder, pair.docs, model=doc_model, progress=progress)
        qids = list(pair.queries)
        queries, start = embedded[start:start + len(qids)], start + len(qids)
        values, indices = index.search(queries, depth)
        for q, vals, idx in zip(qids, values.tolist(), indices.tolist(), strict=True):
            run[q] = {index.ids[i]: float(v) for v, i in zip(vals, idx, strict=True)}
    return run


def _stored_queries(encoder, texts: list[str], model, store: Path) -> torch.Tensor:
    """Query embeddings from `store` (keyed by the text's sha256), the missing ones encoded and added."""
    from safetensors.torch import load_file, save_file

    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    known = load_file(str(store)) if store.is_file() else {}
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        fresh = encoder.embed([texts[i] for i in todo], "query", model=model).cpu()
        known.update({keys[i]: e.contiguous() for i, e in zip(todo, fresh, strict=True)})
        with atomic_file(store) as tmp:
            save_file(known, str(tmp))
    if not keys:
        return encoder.embed([], "query", model=model)
    return torch.stack([known[k] for k in keys]).to(encoder.device)
