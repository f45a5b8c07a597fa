"""Dense systems with a multilingual encoder: zero-shot, the no-OT fine-tuned control and the
OPTICAL family (one system per OT solver). Queries by the system's encoder (or distilled
student), English documents by the frozen encoder ("passage: "), cosine scores.

Students are cached by what determines them: encoder weights, track version and noisy
bitext checksum, recipe and every training setting (`OpticalConfig.key()`), so a second
`clir-bench run` reuses them. The teacher's token states are computed once per call and
shared by every student.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from clir_bench.core.progress import counting
from clir_bench.systems import Context, SystemResult, atomic_dir, atomic_file

TRAINED = ("best_step", "steps_run", "best_dev_map")  # what training chose, kept with the student


def source(ctx: Context):
    """Where the encoder's weights are and which revision they are, without loading them (what a
    cache key needs: a `diagnose` that reads stored signals never loads the model)."""
    from clir_bench.models.encoder import resolve

    return ctx.shared(("source", ctx.encoder), lambda: resolve(ctx.encoder))


def encoder(ctx: Context):
    from clir_bench.models.encoder import Encoder

    return ctx.shared(("encoder", ctx.encoder, ctx.device), lambda: Encoder(source(ctx), device=ctx.device))


def _query_store(enc, ctx: Context) -> Path | None:
    """Where the encoder's own query embeddings are kept between runs (None without a cache)."""
    if ctx.cache is None:
        return None
    key = hashlib.sha256(f"{enc.source.model_id}|{enc.source.revision}|{enc.max_length}".encode()).hexdigest()[:16]
    return Path(ctx.cache) / "embeddings" / f"queries-{key}.safetensors"


def _info(src) -> dict:
    return {"encoder": src.model_id, "encoder_revision": src.revision}


class ZeroShot:
    name = "encoder-zs"
    description = "multilingual encoder, zero-shot dense retrieval"

    def run(self, track, ctx: Context) -> SystemResult:
        from clir_bench.models.retrieval import dense_run

        enc = encoder(ctx)
        with counting("encoding documents", enabled=ctx.progress) as progress:
            run = dense_run(enc, track.data("test"), doc_cache=ctx.shared(("docs", id(enc)), dict), cache=ctx.cache,
                            depth=track.max_docs_per_query, progress=progress, query_store=_query_store(enc, ctx))
        return SystemResult(run, info=_info(enc.source))


class Distilled:
    """A student distilled on the track's noisy bitext with `recipe` and `solver`."""

    recipe = "reference"
    solver = "sinkhorn"
    name = description = ""
    seeded = True  # `run --seeds N` trains N students

    def _config(self, track, ctx: Context):
        """This system's training settings on `track`: its recipe under `ctx.protocol` (budgets in
        epochs become steps of this fold's bitext), then any `ctx.train` overrides."""
        from clir_bench.models.optical import recipe
        from clir_bench.models.protocol import get_protocol

        bitext, _ = track.noisy_bitext()
        pairs = sum(len(bitext[lang]) for lang in track.languages)
        settings = {**get_protocol(ctx.protocol).settings(pairs), **ctx.train}
        return recipe(self.recipe, solver=self.solver, seed=ctx.seed, **settings)

    def _trainer(self, track, ctx: Context):
        """The encoder, and a Trainer on the track's noisy bitext with this system's recipe."""
        from clir_bench.models.optical import TeacherCache, Trainer

        enc = encoder(ctx)
        config = self._config(track, ctx)
        bitext, _ = track.noisy_bitext()
        pairs = [p for lang in track.languages for p in bitext[lang]]
        english = [p.english for p in pairs]
        teacher = ctx.shared(("teacher", enc.source.revision, track.bitext_sha256()),
                             lambda: TeacherCache.build(enc, english,
                                                              memo=ctx.shared(("teacher states", id(enc)), dict)))
        dev = track.data("dev") if track.collection.has_split("dev") else None  # none: fixed steps
        trainer = Trainer(enc, [p.text for p in pairs], english, config, dev=dev, teacher=teacher,
                          doc_cache=ctx.shared(("docs", id(enc)), dict), progress=ctx.progress,
                          english_queries=track.collection.english_queries, log=lambda *a: None,
                          step0=ctx.shared(("step-0 dev", id(enc)), dict))
        return enc, trainer, pairs

    def _folder(self, track, ctx: Context) -> tuple[Path, dict]:
        """Where this system's student for `track` is cached, and its provenance."""
        src = source(ctx)
        config = self._config(track, ctx)
        key = hashlib.sha256(f"{src.model_id}|{src.revision}|{track.name}|{track.version}|"
                             f"{track.bitext_sha256()}|{config.key()}".encode()).hexdigest()[:16]
        folder = (ctx.cache or Path(".")) / "students" / f"{self.name}-{key}"
        return folder, {**_info(src), "recipe": self.recipe, "solver": self.solver, "protocol": ctx.protocol,
                        "config_key": config.key(), "student": str(folder)}

    def cached(self, track, ctx: Context) -> bool:
        """Whether this system's student for `track` (and `ctx.seed`) is in the cache."""
        return (self._folder(track, ctx)[0] / DELTA).is_file()

    def prepare(self, track, ctx: Context) -> None:
        """Train and cache the student `run` will use (`clir_bench.workers` calls it in a worker)."""
        self._student(track, ctx)

    def signals_stored(self, track, ctx: Context) -> bool:
        """Whether `diagnose` would read this student's signals from the cache (no forward pass)."""
        folder, _ = self._folder(track, ctx)
        return (folder / DELTA).is_file() and _signals_version(folder / SIGNALS) == SIGNALS_VERSION

    def _student(self, track, ctx: Context):
        """The trained student (from the cache, or trained now and cached) and its provenance."""
        enc = encoder(ctx)
        folder, info = self._folder(track, ctx)
        if (folder / DELTA).is_file():
            info.update(_trained(folder), cached=True)
            return _load(enc.model, folder), info
        _, trainer, _ = self._trainer(track, ctx)
        result = trainer.train()
        trained = {k: getattr(result, k) for k in TRAINED}
        _save(trainer.student, enc.model, folder, record={
            "system": self.name, "track": track.name, "track_version": track.version, "fold": track.fold,
            "seed": trainer.config.seed, "protocol": ctx.protocol, **trained,
            # dev MAP per language at every evaluation: what a later study of the protocol (steps, evaluations) reads
            "dev_history": [{"step": h["step"], "dev_map": h["dev_map"]} for h in result.history]})
        info.update(trained, cached=False)
        return _load(enc.model, folder), info  # the stored form, so a cached rerun gives the same run

    def run(self, track, ctx: Context) -> SystemResult:
        from clir_bench.models.retrieval import dense_run

        enc = encoder(ctx)
        student, info = self._student(track, ctx)
        with counting("encoding documents", enabled=ctx.progress) as progress:
            store = Path(info["student"]) / "queries.safetensors" if not track.collection.english_queries else None
            run = dense_run(enc, track.data("test"), student=student, english_queries=track.collection.english_queries,
                            doc_cache=ctx.shared(("docs", id(enc)), dict), cache=ctx.cache,
                            depth=track.max_docs_per_query, progress=progress, query_store=store)
        return SystemResult(run, info=info)

    def diagnose(self, track, ctx: Context) -> dict:
        """Every training pair's signals under this recipe, with the trained student and at step 0
        (the encoder itself): {"pairs": [(lang, id)], "models": {"trained": {signal: [...]}, "step 0": ...}}.
        Kept beside the student (signals.safetensors, about 0.1 MB per fold), so only the first call
        pays the forward passes over the bitext."""
        folder, info = self._folder(track, ctx)
        if (folder / DELTA).is_file() and (stored := _load_signals(folder / SIGNALS)) is not None:
            return {**stored, "info": {**info, "cached": True}}
        student, info = self._student(track, ctx)
        enc, trainer, pairs = self._trainer(track, ctx)
        step0 = trainer.pair_signals(enc.model, memo=ctx.shared(("step-0 states", track.bitext_sha256()), dict))
        out = {"pairs": [(p.lang, p.id) for p in pairs],
               "models": {"trained": trainer.pair_signals(student), "step 0": step0}}
        _save_signals(folder / SIGNALS, out)
        return {**out, "info": info}


DELTA = "delta.safetensors"
SIGNALS = "signals.safetensors"
SIGNALS_VERSION = "1"  # bump when Trainer.pair_signals changes what it computes


def _save_signals(path: Path, out: dict) -> None:
    import json

    import torch
    from safetensors.torch import save_file

    tensors = {f"{model}/{signal}": torch.tensor(values, dtype=torch.float32)
               for model, signals in out["models"].items() for signal, values in signals.items()}
    with atomic_file(path) as tmp:
        save_file(tensors, str(tmp), metadata={"version": SIGNALS_VERSION, "pairs": json.dumps(out["pairs"]),
                                               "order": json.dumps(list(tensors))})  # the file sorts its keys


def _signals_version(path: Path) -> str | None:
    from safetensors import safe_open

    if not path.is_file():
        return None
    with safe_open(str(path), "pt") as f:
        return (f.metadata() or {}).get("version")


def _load_signals(path: Path) -> dict | None:
    """The stored signals, or None where there are none (or they are from another version of the code)."""
    import json

    from safetensors import safe_open

    if _signals_version(path) != SIGNALS_VERSION:
        return None
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        models: dict = {}
        for name in json.loads(meta["order"]):
            model, signal = name.split("/", 1)
            models.setdefault(model, {})[signal] = f.get_tensor(name).tolist()
    return {"pairs": [tuple(p) for p in json.loads(meta["pairs"])], "models": models}


def _trained(folder: Path) -> dict:
    """What early stopping chose for a cached student (its student.json), so a record made from
    the cache says it too; empty where the record lacks it."""
    import json

    try:
        record = json.loads((folder / "student.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: record[k] for k in TRAINED if k in record}


def _save(model, base, folder: Path, *, record: dict) -> None:
    """Keep what a rerun needs, small: the student minus the encoder, in fp16, for the weights
    training changed (about 45 MB for e5-small, not 470), with `record` as student.json."""
    import json

    import torch
    from safetensors.torch import save_file

    base_state = base.state_dict()
    delta = {k: (v.detach().float() - base_state[k].float()).half().contiguous().cpu()
             for k, v in model.state_dict().items() if not torch.equal(v, base_state[k])}
    with atomic_dir(folder, force=True) as tmp:
        save_file(delta, str(tmp / DELTA))
        (tmp / "student.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def _load(base, folder: Path):
    """The encoder with a stored student's deltas added."""
    import copy

    import torch
    from safetensors.torch import load_file

    delta = load_file(str(folder / DELTA))
    # what training left alone (the frozen word embeddings: 384 MB of e5-small's 470) is shared, not copied
    model = copy.deepcopy(base, memo={id(p): p for k, p in base.named_parameters() if k not in delta}).eval()
    state = model.state_dict()
    with torch.no_grad():
        for k, d in delta.items():
            state[k].add_(d.to(state[k].device, torch.float32).to(state[k].dtype))
    return model


def _distilled(name: str, recipe_name: str, solver: str, description: str) -> type:
    return type(name, (Distilled,), {"name": name, "recipe": recipe_name, "solver": solver,
                                     "description": description})


FineTuned = _distilled("encoder-ft", "no-ot", "sinkhorn",
                       "the OPTICAL recipe without its OT term (anchor + contrastive): the control")
OpticalSinkhorn = _distilled("optical-sinkhorn", "reference", "sinkhorn", "OPTICAL, entropic Sinkhorn OT")
OpticalEMD = _distilled("optical-emd", "reference", "emd", "OPTICAL, exact OT (network simplex)")
OpticalUnbalanced = _distilled("optical-unbalanced", "reference", "unbalanced", "OPTICAL, unbalanced OT")
OpticalPartial = _distilled("optical-partial", "reference", "partial", "OPTICAL, partial OT (70 % of the mass)")
