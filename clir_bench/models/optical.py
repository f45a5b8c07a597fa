"""OPTICAL distillation (Huang, Yu & Allan, WSDM 2023): a student learns, from bitext alone,
to put foreign text where a frozen teacher puts its English translation.

For a pair, teacher token states T (n x d) of the English side and student token states S
(m x d) of the foreign side give C = 1 - cos(T_i, S_j) (special tokens and padding
masked); an OT plan P between uniform token masses gives the loss <P, C>. What two pilots
on the embedded default learned is configuration here, not forks (shared/notes):

- `centre`: subtract the teacher's mean token state from both sides before the cosine
  (e5's token states are anisotropic; without it, plans are near uniform and the space
  collapses);
- `anchor_weight`: 1 - cos between the student and the teacher on the English side;
- `contrastive_weight`: in-batch InfoNCE (temperature `temperature`) between the
  student's foreign sentence and the teacher's English sentences of the global batch;
- `mass_weighting`: each pair's transported mass, divided by the batch mean, weighs
  every loss term of that pair, so a solver that moves little mass on a misaligned pair
  (unbalanced, partial) keeps that pair out of the whole objective;
- early stopping on the dev split's mean MAP (never on test queries), among trained steps:
  the untrained student (step 0, the encoder itself) is evaluated and recorded but kept only
  with `select_untrained`. Kept, it made the no-OT control zero-shot on one fold of noise-0.0
  and noise-0.1 on dev margins of 0.0003 and 0.0013 MAP, so a "fine-tuned" system was a mix
  of two systems.

Seeded; AdamW with linear warm-up and decay; gradient accumulation; bf16 autocast on CUDA;
checkpoints and resume; the same code under `torchrun` (DDP: gloo on CPU, NCCL on CUDA),
where each rank takes a slice of every global batch and the teacher's embeddings of the
whole global batch serve as in-batch negatives, so N processes follow 1 process.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from clir_bench.evaluation.metrics import map_by_language
from clir_bench.evaluation.stats import mean
from clir_bench.models.encoder import Encoder, autocast, chunked_states, distributed_rank, mean_pool
from clir_bench.models.ot import cosine_cost, solve
from clir_bench.models.retrieval import dense_run


@dataclass(frozen=True)
class OpticalConfig:
    solver: str = "sinkhorn"  # sinkhorn | emd | unbalanced | partial
    reg: float = 0.05
    reg_m: float = 1.0
    mass: float = 0.7
    n_iter: int = 50
    ot_weight: float = 1.0
    anchor_weight: float = 0.0
    contrastive_weight: float = 0.0
    temperature: float = 0.05
    centre: bool = True
    mass_weighting: bool = False
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup: float = 0.1  # a fraction of max_steps, or (>= 1) a number of steps
    schedule: str = "linear"  # after warm-up: linear decay to 0 at max_steps | constant
    batch_size: int = 16  # global, over all processes and accumulation steps
    grad_accum: int = 1
    max_steps: int = 160
    eval_every: int = 20
    patience: int = 3
    select_untrained: bool = False  # may early stopping keep step 0 (the encoder, untrained)?
    max_length: int = 128
    freeze_embeddings: bool = True
    seed: int = 0

    def key(self) -> str:
        """A short stable hash of every field: what determines a trained student. Fields added after
        the version-2 reference students enter it only off their default, so those keep their keys."""
        import hashlib

        fields = dataclasses.asdict(self)
        for name, default in _LATER_FIELDS.items():
            if fields[name] == default:
                del fields[name]
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]

    def warmup_steps(self) -> int:
        return max(1, int(self.warmup if self.warmup >= 1 else self.warmup * self.max_steps))

    def lr_factor(self, step: int) -> float:
        """The learning rate's multiplier at optimizer step `step` (0-based): linear warm-up, then
        linear decay to 0 at `max_steps` or, with `schedule="constant"`, 1 (a curve whose end
        the schedule does not shape)."""
        warm = self.warmup_steps()
        if step < warm:
            return (step + 1) / warm
        if self.schedule == "constant":
            return 1.0
        return max(0.0, (self.max_steps - step) / max(1, self.max_steps - warm))


_LATER_FIELDS = {"schedule": "linear"}
SCHEDULES = ("linear", "constant")


RECIPES: dict[str, dict] = {
    # the plainest reading of OPTICAL, which collapses this encoder (pilot 1)
    "plain": dict(centre=False),
    "centred": dict(centre=True),
    "centred+anchor": dict(centre=True, anchor_weight=1.0),
    # pilot 2's best: centred OT + anchor + in-batch contrastive
    "reference": dict(centre=True, anchor_weight=1.0, contrastive_weight=1.0),
    # the same without OT: the control that isolates what OT adds (system encoder-ft)
    "no-ot": dict(centre=True, anchor_weight=1.0, contrastive_weight=1.0, ot_weight=0.0),
    # transported mass weighs every term of its pair
    "mass-weighted": dict(centre=True, anchor_weight=1.0, contrastive_weight=1.0, mass_weighting=True),
}


def recipe(name: str, **overrides) -> OpticalConfig:
    if name not in RECIPES:
        from clir_bench.core.errors import ClirBenchError
        from clir_bench.core.registry import did_you_mean

        raise ClirBenchError(f"unknown recipe {name!r}.{did_you_mean(name, RECIPES)} Known: {', '.join(RECIPES)}")
    return OpticalConfig(**{**RECIPES[name], **overrides})


@dataclass
class TeacherCache:
    """The frozen teacher's view of the bitext's English side, computed once per encoder and
    bitext and shared by every variant: token states (special tokens dropped), sentence
    embeddings, and the mean token state used for centring."""

    tokens: list[torch.Tensor]  # per pair (n_i, d)
    sentences: torch.Tensor  # (N, d), L2-normalised
    mean_token: torch.Tensor  # (d,)

    @classmethod
    def build(cls, encoder: Encoder, english: list[str], *, batch_size: int = 64, max_length: int = 128,
              memo: dict | None = None):
        """`memo` ({(sentence, max_length): (tokens, embedding)}) shares states between bitexts that
        hold the same English sentences (the folds of a cross-validated track)."""
        memo = {} if memo is None else memo
        todo = sorted({s for s in english if (s, max_length) not in memo}, key=len)  # like lengths pad little
        with torch.inference_mode():
            for i in range(0, len(todo), batch_size):
                chunk = todo[i:i + batch_size]
                enc = encoder.batch(chunk, "query")
                enc = {k: v[:, :max_length] for k, v in enc.items()}
                states = encoder.model(**enc).last_hidden_state.float()
                pooled = mean_pool(states, enc["attention_mask"]).cpu()
                content = _content_mask(encoder, enc["input_ids"], enc["attention_mask"])
                for sentence, s, m, e in zip(chunk, states, content, pooled, strict=True):
                    memo[(sentence, max_length)] = (s[m].cpu(), e)
        d = encoder.model.config.hidden_size
        if not english:
            return cls([], torch.zeros(0, d), torch.zeros(d))
        tokens = [memo[(s, max_length)][0] for s in english]
        sentences = torch.stack([memo[(s, max_length)][1] for s in english])
        return cls(tokens, sentences, torch.cat(tokens).mean(0))


def _content_mask(encoder: Encoder, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    special = torch.tensor(sorted(encoder.tokenizer.all_special_ids), device=ids.device)
    return attention.bool() & ~torch.isin(ids, special)


def _pad(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max((len(s) for s in seqs), default=1) or 1
    out = torch.zeros(len(seqs), n, seqs[0].shape[-1] if seqs else 1)
    mask = torch.zeros(len(seqs), n, dtype=torch.bool)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
        mask[i, :len(s)] = True
    return out, mask


@dataclass
class TrainResult:
    best_step: int
    best_dev_map: float | None
    history: list[dict] = field(default_factory=list)  # per eval: step, loss, dev MAP per language
    steps_run: int = 0
    losses: list[float] = field(default_factory=list)  # per optimizer step


class Trainer:
    """Train one student on `pairs` (foreign text, English) with early stopping on `dev`."""

    def __init__(self, encoder: Encoder, texts: list[str], english: list[str], config: OpticalConfig, *,
                 dev=None, teacher: TeacherCache | None = None, out_dir: Path | None = None,
                 doc_cache: dict | None = None, english_queries: bool = False, progress: bool = True,
                 log=print, step0: dict | None = None) -> None:
        if len(texts) != len(english):
            raise ValueError("texts and english differ in length")
        self.encoder, self.texts, self.english, self.config = encoder, texts, english, config
        self.dev, self.out_dir, self.progress, self.log = dev, out_dir, progress, log
        self.english_queries = english_queries  # the student encodes the dev documents then
        self.rank, self.world = distributed_rank()
        if config.batch_size % (self.world * config.grad_accum):
            from clir_bench.core.errors import ClirBenchError

            raise ClirBenchError(f"batch_size {config.batch_size} must divide by processes x grad_accum "
                             f"({self.world} x {config.grad_accum})")
        self.teacher = teacher or TeacherCache.build(encoder, english, max_length=config.max_length)
        self.device = encoder.device
        # plan entries below 1e-38 mean nothing here, and subnormal floats slow x86 CPUs ~5x in the solvers
        torch.set_flush_denormal(True)
        torch.manual_seed(config.seed)
        # eval: no dropout, so runs are reproducible; frozen word embeddings are the encoder's own tensor
        # (384 MB of e5-small's 470 not copied)
        frozen = encoder.model.embeddings.word_embeddings.weight if config.freeze_embeddings else None
        self.student = copy.deepcopy(encoder.model, memo={id(frozen): frozen} if frozen is not None else None).eval()
        for p in self.student.parameters():
            p.requires_grad_(p is not frozen)
        self.model = self.student
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.model = DistributedDataParallel(self.student, device_ids=[self.device.index]
                                                 if self.device.type == "cuda" else None)
        params = [p for p in self.student.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        if config.schedule not in SCHEDULES:
            from clir_bench.core.errors import ClirBenchError

            raise ClirBenchError(f"unknown schedule {config.schedule!r}; known: {', '.join(SCHEDULES)}")
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, config.lr_factor)
        self.doc_cache = {} if doc_cache is None else doc_cache  # dev documents by the teacher, shareable
        self.step0 = {} if step0 is None else step0  # dev MAP of the untrained student (the encoder), shareable

    # -- data order: a seeded permutation per epoch; step s takes the s-th global batch
    def _global_batch(self, step: int) -> list[int]:
        n, b = len(self.texts), self.config.batch_size
        per_epoch = max(1, n // b)
        epoch, k = divmod(step, per_epoch)
        g = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch)
        order = torch.randperm(n, generator=g).tolist() if n >= b else (list(range(n)) * b)[:b]
        return order[k * b:(k + 1) * b]

    def _loss(self, batch: list[int], micro: list[int]) -> tuple[torch.Tensor, dict]:
        total, weights, terms, _ = self._pair_terms(batch, micro, self.model)
        # sum over this process's share, scaled so that DDP's mean over processes is the global mean
        loss = (weights * total).sum() / (self.config.batch_size / self.world)
        return loss, terms

    def _pair_terms(self, batch: list[int], micro: list[int], model,
                    memo: dict | None = None) -> tuple[torch.Tensor, torch.Tensor, dict, dict]:
        """Per pair of `micro`: the total loss (before weighting), its weight, the batch means of the
        terms, and per-pair tensors of each signal (mass, ot_cost, anchor, contrastive). `memo` keeps
        the forward pass's states by (model, pairs), for scoring without gradients only."""
        c, enc = self.config, self.encoder
        n = len(micro)
        signals = {}
        texts = [self.texts[i] for i in micro]
        if c.anchor_weight:  # one forward for both sides: DDP wants one forward per backward
            texts += [self.english[i] for i in micro]
        tok = enc.batch(texts, "query")
        tok = {k: v[:, :c.max_length] for k, v in tok.items()}
        key = (id(model), tuple(micro), len(texts))
        if memo is not None and key in memo:
            all_states = memo[key]
        else:
            with autocast(self.device):
                if self.world == 1 and enc.tokenizer.padding_side == "right":  # DDP wants one forward
                    all_states = chunked_states(model, tok).float()
                else:
                    all_states = model(**tok).last_hidden_state.float()
            if memo is not None:
                memo[key] = all_states
        states, english_states = all_states[:n], all_states[n:]
        attention, english_attention = tok["attention_mask"][:n], tok["attention_mask"][n:]
        terms = {}
        weights = torch.ones(n, device=self.device)
        total = torch.zeros(n, device=self.device)
        if c.ot_weight or c.mass_weighting:
            T, mask_t = _pad([self.teacher.tokens[i] for i in micro])
            T, mask_t = T.to(self.device), mask_t.to(self.device)
            mask_s = _content_mask(enc, tok["input_ids"][:n], attention)
            centre = self.teacher.mean_token.to(self.device) if c.centre else None
            C = cosine_cost(T, states, centre)
            res = solve(C, mask_t, mask_s, method=c.solver, reg=c.reg, reg_m=c.reg_m, mass=c.mass, n_iter=c.n_iter)
            terms["ot"] = res.cost.mean().item()
            signals.update(mass=res.mass, ot_cost=res.cost)
            total = total + c.ot_weight * res.cost
            if c.mass_weighting:
                mean_mass = res.mass.detach().mean()
                if self.world > 1:
                    import torch.distributed as dist

                    dist.all_reduce(mean_mass)
                    mean_mass /= self.world
                weights = res.mass.detach() / mean_mass.clamp(min=1e-12)
                terms["mass"] = res.mass.mean().item()
        if c.anchor_weight:
            pooled = mean_pool(english_states, english_attention)
            anchor = 1 - (pooled * self.teacher.sentences[micro].to(self.device)).sum(-1)
            terms["anchor"] = anchor.mean().item()
            signals["anchor"] = anchor
            total = total + c.anchor_weight * anchor
        if c.contrastive_weight:
            q = mean_pool(states, attention)
            keys = self.teacher.sentences[batch].to(self.device)  # every pair of the global batch
            targets = torch.tensor([batch.index(i) for i in micro], device=self.device)
            con = F.cross_entropy(q @ keys.T / c.temperature, targets, reduction="none")
            terms["contrastive"] = con.mean().item()
            signals["contrastive"] = con
            total = total + c.contrastive_weight * con
        if c.mass_weighting:
            signals["weight"] = weights
        return total, weights, terms, signals

    def pair_signals(self, model, *, batch_size: int | None = None, memo: dict | None = None) -> dict[str, list[float]]:
        """Every training pair scored with `model` as the student (no training): its transported
        mass and OT cost <P, C> where the recipe has OT, anchor and contrastive terms (in-batch
        negatives: consecutive pairs in batches of the training batch size), the weight the
        mass-weighted recipe would apply, and the pair's total loss. `memo` shares the forward
        passes of one model between recipes (step 0 is the same encoder for every system)."""
        size = batch_size or self.config.batch_size
        out: dict[str, list[float]] = {}
        with torch.inference_mode():
            for start in range(0, len(self.texts), size):
                idx = list(range(start, min(len(self.texts), start + size)))
                total, weights, _, signals = self._pair_terms(idx, idx, model, memo)
                for name, values in {**signals, "loss": weights * total}.items():
                    out.setdefault(name, []).extend(values.float().cpu().tolist())
        return out

    def evaluate(self) -> dict[str, float]:
        run = dense_run(self.encoder, self.dev, student=self.student, english_queries=self.english_queries,
                        doc_cache=self.doc_cache)
        return map_by_language(run, self.dev)

    def train(self, *, resume: bool = False, checkpoint_every: int = 0, until: int | None = None,
              on_eval=None) -> TrainResult:
        """Train to `max_steps` (or stop early on dev); `until` stops after that step, to resume later;
        `on_eval(result)` is called after every dev evaluation (a learning curve kept as it grows)."""
        c = self.config
        start, best_state, result = 0, None, None
        ckpt = self.out_dir / "checkpoint.pt" if self.out_dir else None
        if resume and ckpt and ckpt.is_file():
            state = torch.load(ckpt, map_location=self.device, weights_only=False)
            self.student.load_state_dict(state["student"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            start, best_state, result = state["step"], state["best_state"], state["result"]
            self.log(f"resumed from {ckpt} at step {start}")
        if result is None:
            result = TrainResult(best_step=0, best_dev_map=-math.inf)
            if self.dev:
                key = (_fingerprint(self.dev), self.english_queries)  # step 0: the encoder, whatever the recipe
                if key not in self.step0:
                    self.step0[key] = self.evaluate()
                maps = self.step0[key]
                result.history.append({"step": 0, "loss": None, "dev_map": maps})
                if c.select_untrained:
                    result.best_dev_map = _dev_score(maps)
        bad_evals = sum(1 for h in result.history if h["step"] > result.best_step)
        step, losses = start, []
        with _progress(self.progress and self.rank == 0, c.max_steps, start) as bar:
            while step < min(c.max_steps, until or c.max_steps):
                batch = self._global_batch(step)
                mine = batch[self.rank::self.world]
                micro_size = len(mine) // c.grad_accum
                self.optimizer.zero_grad(set_to_none=True)
                step_loss, terms = 0.0, {}
                for a in range(c.grad_accum):
                    micro = mine[a * micro_size:(a + 1) * micro_size]
                    sync = a == c.grad_accum - 1 or self.world == 1
                    ctx = self.model.no_sync() if not sync else contextlib.nullcontext()
                    with ctx:
                        loss, terms = self._loss(batch, micro)
                        loss.backward()
                    step_loss += loss.item()
                if self.world > 1:  # record the global batch's loss, the same number on every rank
                    import torch.distributed as dist

                    total_loss = torch.tensor(step_loss, device=self.device)
                    dist.all_reduce(total_loss)
                    step_loss = total_loss.item() / self.world
                self.optimizer.step()
                self.scheduler.step()
                step += 1
                losses.append(step_loss)
                result.losses.append(step_loss)
                bar(step, step_loss)
                if self.dev and (step % c.eval_every == 0 or step == c.max_steps):
                    maps = self.evaluate()
                    result.history.append({"step": step, "loss": sum(losses) / len(losses), "terms": terms,
                                           "dev_map": maps})
                    losses = []
                    if on_eval is not None and self.rank == 0:
                        on_eval(result)
                    if _dev_score(maps) > result.best_dev_map:
                        result.best_dev_map, result.best_step, bad_evals = _dev_score(maps), step, 0
                        best_state = {k: v.detach().clone().cpu() for k, v in self.student.state_dict().items()}
                    else:
                        bad_evals += 1
                        if bad_evals >= c.patience:
                            break
                if ckpt and checkpoint_every and step % checkpoint_every == 0 and self.rank == 0:
                    self._save(ckpt, step, best_state, result)
        result.steps_run = step
        if result.best_dev_map == -math.inf:
            result.best_dev_map = None  # no step was a candidate (never -inf: train.json stays valid JSON)
        if self.dev is not None:
            if best_state is not None:
                self.student.load_state_dict(best_state)
            else:  # no trained step was evaluated, or (select_untrained) none beat step 0: the encoder
                self.student.load_state_dict(self.encoder.model.state_dict())
        return result

    def _save(self, path: Path, step: int, best_state, result) -> None:
        from clir_bench.core.files import atomic_file

        with atomic_file(path) as tmp:
            torch.save({"student": self.student.state_dict(), "optimizer": self.optimizer.state_dict(),
                        "scheduler": self.scheduler.state_dict(), "step": step, "best_state": best_state,
                        "result": result, "config": dataclasses.asdict(self.config)}, tmp)


def _fingerprint(data: dict) -> str:
    """What a dev evaluation depends on: every language's queries and the ids of their documents
    (an object's id would be reused once it is freed, and a fresh `track.data("dev")` never hits)."""
    import hashlib

    h = hashlib.sha256()
    for lang, pair in data.items():
        docs = pair.docs.fingerprint() if hasattr(pair.docs, "fingerprint") else sorted(pair.docs)  # on disk: its own
        h.update(json.dumps([lang, pair.queries, docs, pair.qrels], sort_keys=True).encode())
    return h.hexdigest()


def _dev_score(maps: dict[str, float]) -> float:
    """Mean dev MAP over the languages (what early stopping compares); -inf without any."""
    value = mean(maps.values())
    return -math.inf if value is None else value


def _progress(enabled: bool, total: int, start: int):
    """A rich progress bar with the loss; a no-op callable when disabled."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext(lambda step, loss: None)

    @contextlib.contextmanager
    def bar():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                      TimeRemainingColumn(), transient=True) as progress:
            task = progress.add_task("train", total=total, completed=start, loss="-")
            yield lambda step, loss: progress.update(task, completed=step, loss=f"{loss:.4f}")

    return bar()


def train_on_track(track, *, recipe_name: str = "reference", encoder: str, out: Path, device: str = "cpu",
                   use_dev: bool = True, resume: bool = False, checkpoint_every: int = 0, progress: bool = True,
                   protocol: str | None = None, **overrides) -> TrainResult:
    """Train a student on a track's noisy bitext and save it (rank 0) with its history to `out`."""

    from clir_bench import __version__
    from clir_bench.core.files import write_text_atomic
    from clir_bench.models.encoder import resolve

    rank, _ = distributed_rank()
    if device == "cuda" and "LOCAL_RANK" in os.environ:
        device = f"cuda:{os.environ['LOCAL_RANK']}"
    source = resolve(encoder)
    enc = Encoder(source, device=device)
    config = recipe(recipe_name, **overrides)
    bitext, manifest = track.noisy_bitext()
    pairs = [p for lang in track.languages for p in bitext[lang]]
    trainer = Trainer(enc, [p.text for p in pairs], [p.english for p in pairs], config,
                      dev=track.data("dev") if use_dev and track.collection.has_split("dev") else None,
                      out_dir=Path(out), progress=progress,
                      english_queries=track.collection.english_queries)
    result = trainer.train(resume=resume, checkpoint_every=checkpoint_every)
    if rank == 0:
        student = Path(out) / "student"
        trainer.student.save_pretrained(student)
        enc.tokenizer.save_pretrained(student)
        record = {"track": track.name, "track_version": track.version, "recipe": recipe_name, "protocol": protocol,
                  "config": dataclasses.asdict(config), "config_key": config.key(), "encoder": source.model_id,
                  "encoder_revision": source.revision, "noise_corrupted_pairs": len(manifest),
                  "harness": f"clir-bench {__version__}", "torch": torch.__version__,
                  "processes": trainer.world, **dataclasses.asdict(result)}
        write_text_atomic(Path(out) / "train.json", json.dumps(record, indent=1) + "\n")
    return result
