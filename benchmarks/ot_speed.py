"""OT loss + backward on 256 problems of 32 x 128 tokens: clir-bench's batched solvers against a
loop of POT's per-problem solvers (and POT's own batched Sinkhorn, `ot.batch.solve_batch`,
where it applies), in one run, on random and on structured (token-like) costs.

Costs are C = 1 - cos(T_i, S_j) of 384-d states that require grad; the time covers the
solver and the backward pass to the states. Every iterative solver runs exactly
`--n-iter` iterations on both sides (no tolerance), so both do the same work and reach the
same value; reported: median of 5 (after a warm-up), the speed-up, and the largest
relative difference of the loss values ("at equal value").

    python benchmarks/ot_speed.py [--device cuda] [--problems 256]
"""

from __future__ import annotations

import argparse
import statistics
import time

import ot
import torch

from clir_bench.models.ot import cosine_cost, solve

REG, REG_M, MASS = 0.05, 1.0, 0.7


def states(kind: str, b: int, n: int, m: int, d: int, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    if kind == "random":
        T, S = torch.randn(b, n, d, generator=g), torch.randn(b, m, d, generator=g)
    else:  # a shared direction (anisotropy) plus a few topics per problem: cosines of about 0.1-0.7
        shared = torch.randn(d, generator=g)
        topics = torch.randn(b, 4, d, generator=g)
        pick_t, pick_s = torch.randint(0, 4, (b, n), generator=g), torch.randint(0, 4, (b, m), generator=g)
        T = (0.8 * shared + topics.gather(1, pick_t[..., None].expand(-1, -1, d))
             + 0.9 * torch.randn(b, n, d, generator=g))
        S = (0.8 * shared + topics.gather(1, pick_s[..., None].expand(-1, -1, d))
             + 0.9 * torch.randn(b, m, d, generator=g))
    return T.to(device).requires_grad_(), S.to(device).requires_grad_()


def ours(method, T, S, n_iter):
    C = cosine_cost(T, S)
    ma = torch.ones(C.shape[:2], dtype=torch.bool, device=C.device)
    mb = torch.ones(C.shape[0], C.shape[2], dtype=torch.bool, device=C.device)
    res = solve(C, ma, mb, method=method, reg=REG, reg_m=REG_M, mass=MASS, n_iter=n_iter)
    res.cost.sum().backward()
    return res.cost.detach().cpu()


def pot_loop(method, T, S, n_iter):
    C = cosine_cost(T, S)
    n, m = C.shape[1:]
    a = torch.full((n,), 1 / n, dtype=C.dtype, device=C.device)
    b = torch.full((m,), 1 / m, dtype=C.dtype, device=C.device)
    values = []
    for M in C:
        if method == "sinkhorn":
            v = ot.sinkhorn2(a, b, M, REG, method="sinkhorn_log", stopThr=0, numItermax=n_iter)
        elif method == "unbalanced":
            v = ot.unbalanced.sinkhorn_unbalanced2(a, b, M, REG, REG_M, stopThr=0, numItermax=n_iter)
        elif method == "partial":
            v = (ot.partial.entropic_partial_wasserstein(a, b, M, REG, m=MASS, stopThr=0, numItermax=n_iter) * M).sum()
        else:
            v = ot.emd2(a, b, M)
        values.append(v)
    values = torch.stack(values)
    values.sum().backward()
    return values.detach().cpu()


def pot_batch(T, S, n_iter):
    C = cosine_cost(T, S)
    res = ot.batch.solve_batch(C, reg=REG, method="log_sinkhorn", tol=0, max_iter=n_iter, grad="envelope")
    res.value_linear.sum().backward()
    return res.value_linear.detach().cpu()


def timed(fn, repeat=5):
    fn()
    times, out = [], None
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--problems", type=int, default=256)
    ap.add_argument("--n-iter", type=int, default=100, help="iterations of every iterative solver, both sides")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.set_flush_denormal(True)  # as the trainer does; both sides of each comparison run with it
    print(f"{args.problems} problems of 32 x 128, d=384, float32, {device}, torch {torch.__version__}, "
          f"POT {ot.__version__}, {torch.get_num_threads()} threads")
    print(f"{'costs':10s} {'method':11s} {'clir-bench ms':>13s} {'POT loop ms':>12s} {'speed-up':>8s} "
          f"{'max rel diff':>12s}")
    for kind in ("random", "structured"):
        T, S = states(kind, args.problems, 32, 128, 384, device)
        with torch.no_grad():
            C = cosine_cost(T, S)
        print(f"{kind:10s} costs: mean {C.mean():.3f}, s.d. {C.std():.3f}")
        for method in ("sinkhorn", "unbalanced", "partial", "emd"):
            t_ours, v_ours = timed(lambda m=method, T=T, S=S: ours(m, T, S, args.n_iter))
            t_pot, v_pot = timed(lambda m=method, T=T, S=S: pot_loop(m, T, S, args.n_iter), repeat=3)
            diff = ((v_ours - v_pot).abs() / v_pot.abs()).max().item()
            print(f"{kind:10s} {method:11s} {t_ours * 1e3:13.1f} {t_pot * 1e3:12.1f} {t_pot / t_ours:7.1f}x "
                  f"{diff:12.1e}", flush=True)
        t_batch, v_batch = timed(lambda T=T, S=S: pot_batch(T, S, args.n_iter))
        t_ours, v_ours = timed(lambda T=T, S=S: ours("sinkhorn", T, S, args.n_iter))
        diff = ((v_ours - v_batch).abs() / v_batch.abs()).max().item()
        print(f"{kind:10s} {'sinkhorn':11s} {t_ours * 1e3:13.1f} {t_batch * 1e3:12.1f} {t_batch / t_ours:7.1f}x "
              f"{diff:12.1e}  (against POT ot.batch.solve_batch log_sinkhorn, no masks)")


if __name__ == "__main__":
    main()
