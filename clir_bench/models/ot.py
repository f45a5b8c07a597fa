"""Batched optimal transport between token sets, with masks for variable lengths.

Every solver takes costs C (B, n, m) and boolean masks (B, n), (B, m) of the real tokens,
puts uniform mass on the real tokens of each side, and returns the plan P (B, n, m) —
exactly zero on padding — from which the loss <P, C> and the transported mass follow.

- `sinkhorn`: entropic OT, Sinkhorn (Cuturi 2013): batched matrix-vector scaling while
  exp(-C/reg) is safe in floating point, log-domain otherwise (Peyré & Cuturi 2019, §4.4).
- `unbalanced`: KL-relaxed marginals, strength `reg_m` (Chizat et al. 2018): the scaling
  updates of POT's `sinkhorn_unbalanced` (reg_type "kl"), in the log domain.
- `partial`: entropic partial OT moving a fraction `mass` of the mass, by Dykstra's
  iterated Bregman projections (Benamou et al. 2015), POT's `entropic_partial_wasserstein`
  batched in the log domain.
- `emd`: exact OT by POT's network simplex (`ot.emd`), one problem at a time on the CPU;
  POT has no batched exact solver, and `ot.batch` cannot mask padding (zero mass gives log 0).

Padding never carries mass and never produces NaN: masked log-marginals are a large finite
negative number rather than -inf, and the plan is multiplied by the mask. Gradients: with
`grad="envelope"` (default) the plan is a constant and d<P, C>/dC = P (the envelope
theorem for the exact problem; the usual choice for OT losses); `grad="autodiff"`
differentiates through the iterations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

NEG = -1e5  # a log-mass that is zero in any float type, without the NaNs of -inf


@dataclass(frozen=True)
class OTResult:
    plan: torch.Tensor  # (B, n, m)
    cost: torch.Tensor  # (B,) <P, C>
    mass: torch.Tensor  # (B,) total transported mass


def _log_marginals(mask: torch.Tensor, dtype) -> torch.Tensor:
    n = mask.sum(-1, keepdim=True).clamp(min=1).to(dtype)
    return torch.where(mask, -torch.log(n), torch.full_like(n, NEG).expand_as(mask).to(dtype))


def _lse(x: torch.Tensor, dim: int) -> torch.Tensor:
    return torch.logsumexp(x, dim=dim)


def _scaling(C, mask_a, mask_b, *, reg: float, fi: float, n_iter: int, tol: float):
    """Sinkhorn scaling with exponent fi (1 = balanced). Returns log P.

    With K = exp(-C/reg) safely inside the float range (max C/reg <= 50), the classic
    multiplicative updates run as batched matrix-vector products; otherwise, or if they
    overflow, the log-domain updates (log-sum-exp) do the same iterations stably.
    """
    if float(C.detach().abs().max()) / reg <= 50:
        log_plan = _scaling_kernel(C, mask_a, mask_b, reg=reg, fi=fi, n_iter=n_iter, tol=tol)
        if torch.isfinite(log_plan).all():
            return log_plan
    return _scaling_log(C, mask_a, mask_b, reg=reg, fi=fi, n_iter=n_iter, tol=tol)


def _scaling_kernel(C, mask_a, mask_b, *, reg: float, fi: float, n_iter: int, tol: float):
    a = mask_a.to(C.dtype) / mask_a.sum(-1, keepdim=True).clamp(min=1)
    b = mask_b.to(C.dtype) / mask_b.sum(-1, keepdim=True).clamp(min=1)
    K = torch.exp(-C / reg)
    tiny = torch.finfo(C.dtype).tiny
    u = torch.ones_like(a)
    v = torch.ones_like(b)
    for i in range(n_iter):
        u_prev = u
        # u = (sum_j b_j K_ij v_j)^-fi, v = (sum_i a_i K_ij u_i)^-fi: POT's KL-reference updates
        u = (K @ (b * v)[..., None]).squeeze(-1).clamp(min=tiny) ** -fi
        v = (K.transpose(1, 2) @ (a * u)[..., None]).squeeze(-1).clamp(min=tiny) ** -fi
        if tol and i % 10 == 9 and (torch.log(u) - torch.log(u_prev)).abs().max() < tol:
            break
    valid = mask_a[:, :, None] & mask_b[:, None, :]
    plan = a[:, :, None] * b[:, None, :] * u[:, :, None] * v[:, None, :] * K
    return torch.where(valid, torch.log(plan.clamp(min=tiny)), torch.full_like(plan, NEG))


def _scaling_log(C, mask_a, mask_b, *, reg: float, fi: float, n_iter: int, tol: float):
    la, lb = _log_marginals(mask_a, C.dtype), _log_marginals(mask_b, C.dtype)
    lk = -C / reg
    lu = torch.zeros_like(la)
    lv = torch.zeros_like(lb)
    for i in range(n_iter):
        lu_prev = lu
        # u = (a / K v)^fi with K = exp(-C/reg) * (a b^T)  =>  log u = -fi * LSE_j(log b + log K + log v)
        lu = -fi * _lse(lb[:, None, :] + lk + lv[:, None, :], 2)
        lv = -fi * _lse(la[:, :, None] + lk + lu[:, :, None], 1)
        if tol and i % 10 == 9 and (lu - lu_prev).abs().max() < tol:
            break
    return la[:, :, None] + lb[:, None, :] + lu[:, :, None] + lv[:, None, :] + lk


def _dykstra_partial(C, mask_a, mask_b, *, reg: float, mass: float, n_iter: int, tol: float):
    """POT's entropic partial OT (Dykstra), batched, in the log domain. Returns log P."""
    la, lb = _log_marginals(mask_a, C.dtype), _log_marginals(mask_b, C.dtype)
    valid = mask_a[:, :, None] & mask_b[:, None, :]
    lm = math.log(mass)
    lk = torch.where(valid, -C / reg, torch.full_like(C, NEG))
    lk = lk + lm - _lse(lk.flatten(1), 1)[:, None, None]
    q1 = torch.zeros_like(lk)
    q2 = torch.zeros_like(lk)
    q3 = torch.zeros_like(lk)
    for i in range(n_iter):
        prev = lk
        lk = lk + q1
        lk1 = torch.clamp(la - _lse(lk, 2), max=0.0)[:, :, None] + lk
        q1 = q1 + prev - lk1
        prev1 = lk1
        lk1 = lk1 + q2
        lk2 = lk1 + torch.clamp(lb - _lse(lk1, 1), max=0.0)[:, None, :]
        q2 = q2 + prev1 - lk2
        prev2 = lk2
        lk2 = lk2 + q3
        lk = lk2 + lm - _lse(lk2.flatten(1), 1)[:, None, None]
        q3 = q3 + prev2 - lk
        if tol and i % 10 == 9 and (lk - prev).abs().max() < tol:  # in log space: no denormals
            break
    return lk


def _emd_plan(C, mask_a, mask_b):
    """Exact plans from POT's ot.emd, per problem, on the CPU in float64."""
    import numpy as np
    import ot

    plans = torch.zeros_like(C)
    costs = C.detach().to("cpu", torch.float64).numpy()
    for b in range(C.shape[0]):
        n, m = int(mask_a[b].sum()), int(mask_b[b].sum())
        if not n or not m:
            continue
        ia = mask_a[b].nonzero().squeeze(1).cpu().numpy()
        ib = mask_b[b].nonzero().squeeze(1).cpu().numpy()
        plan = ot.emd(np.full(n, 1 / n), np.full(m, 1 / m), costs[b][np.ix_(ia, ib)])
        plans[b][np.ix_(ia, ib)] = torch.from_numpy(plan).to(C.dtype).to(C.device)
    return plans


def solve(C: torch.Tensor, mask_a: torch.Tensor, mask_b: torch.Tensor, *, method: str = "sinkhorn",
          reg: float = 0.05, reg_m: float = 1.0, mass: float = 0.7, n_iter: int = 100, tol: float = 0.0,
          grad: str = "envelope") -> OTResult:
    """Solve a batch of OT problems; see the module docstring for the methods and parameters."""
    if method not in SOLVERS:
        raise ValueError(f"unknown OT method {method!r}; expected one of {', '.join(SOLVERS)}")
    if grad not in ("envelope", "autodiff"):
        raise ValueError(f"grad must be 'envelope' or 'autodiff', not {grad!r}")
    mask_a, mask_b = mask_a.bool(), mask_b.bool()
    valid = mask_a[:, :, None] & mask_b[:, None, :]
    if method == "emd":
        plan = _emd_plan(C, mask_a, mask_b)
    else:
        with torch.set_grad_enabled(grad == "autodiff" and torch.is_grad_enabled()):
            log_plan = SOLVERS[method](C if grad == "autodiff" else C.detach(), mask_a, mask_b, reg=reg,
                                       reg_m=reg_m, mass=mass, n_iter=n_iter, tol=tol)
            plan = torch.where(valid, log_plan.exp(), torch.zeros_like(log_plan))
    if grad == "envelope":
        plan = plan.detach()
    cost = (plan * torch.where(valid, C, torch.zeros_like(C))).sum((1, 2))
    return OTResult(plan, cost, plan.sum((1, 2)))


SOLVERS: dict[str, Callable] = {
    "sinkhorn": lambda C, a, b, *, reg, n_iter, tol, **_: _scaling(C, a, b, reg=reg, fi=1.0, n_iter=n_iter, tol=tol),
    "unbalanced": lambda C, a, b, *, reg, reg_m, n_iter, tol, **_: _scaling(
        C, a, b, reg=reg, fi=reg_m / (reg_m + reg), n_iter=n_iter, tol=tol),
    "partial": lambda C, a, b, *, reg, mass, n_iter, tol, **_: _dykstra_partial(
        C, a, b, reg=reg, mass=mass, n_iter=n_iter, tol=tol),
    "emd": None,
}


def cosine_cost(T: torch.Tensor, S: torch.Tensor, centre: torch.Tensor | None = None) -> torch.Tensor:
    """C = 1 - cos(T_i, S_j) for token states T (B, n, d), S (B, m, d), optionally centred first."""
    if centre is not None:
        T, S = T - centre, S - centre
    T = torch.nn.functional.normalize(T, dim=-1)
    S = torch.nn.functional.normalize(S, dim=-1)
    return 1 - T @ S.transpose(1, 2)
