"""What a GPU owner runs once: the reference students' training throughput, the OT solvers against
POT on the same device, dense encoding of documents, and one two-process `torchrun` step; one
table, headed by the device's name.

- **train**: OPTICAL (reference recipe, Sinkhorn) steps on fold 0 of the track, as `Trainer.train`
  takes them (forward, OT, backward, AdamW): step time (median after a warm-up), input tokens per
  second, peak memory, FLOPs per step measured by `torch.utils.flop_counter` and MFU against the
  device's peak (bf16 dense for H100/H200, as the trainer autocasts on CUDA; `--peak-tflops` for
  any other device; none on CPU).
- **ot**: loss + backward of each solver on the same batches of 32 x 128 token costs, clir-bench's
  batched solvers against a loop of POT's (POT computes on the tensors' device): speed-up and the
  largest relative difference of the values.
- **encode**: the track's test documents embedded as passages: documents and tokens per second.
- **ddp**: one training step under `python -m torch.distributed.run --nproc_per_node 2` (NCCL on
  CUDA, one GPU per process; gloo on CPU): step time of the global batch; "not run" on one GPU.

    python benchmarks/gpu.py                        # the real encoder on CUDA where there is one
    python benchmarks/gpu.py --smoke --encoder DIR  # a tiny model on CPU in seconds (the test suite's)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from ot_speed import ours, pot_loop, states  # noqa: E402

PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0}  # dense, SXM where it varies


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's peak RSS


def trainer_for(args, device: str):
    from clir_bench.models.encoder import Encoder, resolve
    from clir_bench.models.optical import TeacherCache, Trainer, recipe
    from clir_bench.tracks.track import get_track

    track = get_track(args.track).fold_tracks()[0]
    enc = Encoder(resolve(args.encoder), device=device)
    bitext, _ = track.noisy_bitext()
    pairs = [p for lang in track.languages for p in bitext[lang]][:args.pairs or None]
    english = [p.english for p in pairs]
    config = recipe("reference", solver="sinkhorn", batch_size=args.batch)
    trainer = Trainer(enc, [p.text for p in pairs], english, config,
                      teacher=TeacherCache.build(enc, english, max_length=config.max_length), progress=False)
    return track, enc, trainer


def train_step(trainer, step: int) -> float:
    """One optimiser step as `Trainer.train` takes it; its loss."""
    batch = trainer._global_batch(step)
    mine = batch[trainer.rank::trainer.world]
    trainer.optimizer.zero_grad(set_to_none=True)
    loss, _ = trainer._loss(batch, mine)
    loss.backward()
    trainer.optimizer.step()
    return loss.item()


def input_tokens(trainer, step: int) -> int:
    texts = [trainer.texts[i] for i in trainer._global_batch(step)]
    ids = trainer.encoder.tokenizer(texts, truncation=True, max_length=trainer.config.max_length)["input_ids"]
    return sum(len(x) for x in ids)


def bench_train(args, device: torch.device) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    track, enc, trainer = trainer_for(args, str(device))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train_step(trainer, 0)  # warm-up
    times, tokens = [], []
    for step in range(1, args.steps + 1):
        sync(device)
        start = time.perf_counter()
        train_step(trainer, step)
        sync(device)
        times.append(time.perf_counter() - start)
        tokens.append(input_tokens(trainer, step))
    with FlopCounterMode(display=False) as counter:
        train_step(trainer, args.steps + 1)
    flops = counter.get_total_flops()
    seconds = statistics.median(times)
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items()
                                     if device.type == "cuda" and k in torch.cuda.get_device_name(device)), None)
    return {"track": track, "step_s": seconds, "tokens_per_s": statistics.mean(tokens) / seconds,
            "peak_mib": peak_memory_mib(device), "tflops_per_step": flops / 1e12,
            "mfu": flops / seconds / (peak * 1e12) if peak else None, "encoder": enc, "batch": args.batch}


def bench_ot(args, device: torch.device) -> list[dict]:
    rows = []
    T, S = states("structured", args.problems, 32, 128, args.dim, device)
    for method in ("sinkhorn", "unbalanced", "partial", "emd"):
        timing = {}
        for name, fn in (("ours", ours), ("pot", pot_loop)):
            fn(method, T, S, args.n_iter)  # warm-up
            times, value = [], None
            for _ in range(3):
                T.grad = S.grad = None
                sync(device)
                start = time.perf_counter()
                value = fn(method, T, S, args.n_iter)
                sync(device)
                times.append(time.perf_counter() - start)
            timing[name] = (statistics.median(times), value)
        (t_ours, v_ours), (t_pot, v_pot) = timing["ours"], timing["pot"]
        rows.append({"method": method, "ours_ms": 1e3 * t_ours, "pot_ms": 1e3 * t_pot, "speedup": t_pot / t_ours,
                     "max_rel_diff": ((v_ours - v_pot).abs() / v_pot.abs().clamp_min(1e-12)).max().item()})
    return rows


def bench_encode(enc, track, device: torch.device, limit: int) -> dict:
    docs = [t for pair in track.data("test").values() for t in pair.docs.values()][:limit or None]
    ids = enc.tokenizer(docs, truncation=True, max_length=enc.max_length)["input_ids"]
    enc.embed(docs[:64], "passage")  # warm-up
    sync(device)
    start = time.perf_counter()
    enc.embed(docs, "passage")
    sync(device)
    seconds = time.perf_counter() - start
    return {"docs": len(docs), "docs_per_s": len(docs) / seconds, "tokens_per_s": sum(map(len, ids)) / seconds}


def bench_ddp(args, device: torch.device) -> dict:
    if device.type == "cuda" and torch.cuda.device_count() < 2:
        return {"status": f"not run: NCCL needs one GPU per process and this machine has "
                          f"{torch.cuda.device_count()}"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", __file__,
           "--ddp-worker", "--encoder", args.encoder, "--track", args.track, "--batch", str(args.batch),
           "--pairs", str(args.pairs), "--steps", str(args.steps), "--device", device.type]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("{")), None)
    if proc.returncode or line is None:
        return {"status": f"failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}"}
    return {"status": "ok", **json.loads(line)}


def ddp_worker(args) -> None:
    device = "cuda" if args.device == "cuda" else "cpu"
    _, _, trainer = trainer_for(args, device)  # torchrun's environment: Trainer joins the process group
    train_step(trainer, 0)
    times = []
    for step in range(1, args.steps + 1):
        sync(trainer.device)
        start = time.perf_counter()
        train_step(trainer, step)
        sync(trainer.device)
        times.append(time.perf_counter() - start)
    if trainer.rank == 0:
        import torch.distributed as dist

        print(json.dumps({"world": trainer.world, "backend": dist.get_backend(), "step_s": statistics.median(times)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--encoder", default="intfloat/multilingual-e5-small")
    ap.add_argument("--track", default="noise-0.3")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=0, help="training pairs used (0: all of fold 0's)")
    ap.add_argument("--problems", type=int, default=256, help="OT problems per batch")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--n-iter", type=int, default=100)
    ap.add_argument("--docs", type=int, default=0, help="documents encoded (0: all of the track's test split)")
    ap.add_argument("--peak-tflops", type=float, default=None, help="the device's peak, for MFU")
    ap.add_argument("--smoke", action="store_true", help="a small configuration (the test suite's)")
    ap.add_argument("--no-ddp", action="store_true")
    ap.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.smoke:
        args.steps, args.pairs, args.problems, args.dim, args.n_iter, args.docs = 2, 64, 4, 32, 50, 64
        args.batch = 4
    if args.ddp_worker:
        return ddp_worker(args)
    device = torch.device(args.device)
    torch.set_flush_denormal(True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}" + (" (smoke configuration)" if args.smoke else ""))
    train = bench_train(args, device)
    enc = train.pop("encoder")
    rows = [("train", f"{train['track'].name}, batch {train['batch']}, reference recipe, sinkhorn",
             f"{train['step_s'] * 1e3:.1f} ms/step, {train['tokens_per_s']:,.0f} tokens/s, "
             f"{train['tflops_per_step'] * 1e3:,.2f} GFLOP/step, MFU "
             + (f"{100 * train['mfu']:.1f}%" if train["mfu"] is not None else "– (no peak known)")
             + f", peak {train['peak_mib']:,.0f} MiB")]
    for r in bench_ot(args, device):
        rows.append((f"ot {r['method']}", f"{args.problems} x 32 x 128, d={args.dim}, loss + backward",
                     f"{r['ours_ms']:.1f} ms vs POT loop {r['pot_ms']:.1f} ms ({r['speedup']:.1f}x), "
                     f"max rel diff {r['max_rel_diff']:.1e}"))
    e = bench_encode(enc, train["track"], device, args.docs)
    rows.append(("encode", f"{e['docs']:,} documents (passages)",
                 f"{e['docs_per_s']:,.0f} docs/s, {e['tokens_per_s']:,.0f} tokens/s"))
    if not args.no_ddp:
        d = bench_ddp(args, device)
        rows.append(("ddp", "2 processes, torchrun, a training step of the global batch",
                     f"{d['step_s'] * 1e3:.1f} ms/step ({d['backend']}, world {d['world']})"
                     if d["status"] == "ok" else d["status"]))
    width = max(len(r[0]) for r in rows)
    for what, setting, result in rows:
        print(f"{what:{width}s} | {setting:58s} | {result}")



if __name__ == "__main__":
    main()
