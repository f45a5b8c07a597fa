"""A BERT-family encoder's forward pass on packed tokens: no work on padding outside attention.

Every layer but self-attention is token-wise (the Q/K/V and output projections, the feed-forward
block, the layer norms: ~90 % of an e5-small layer's FLOPs), so it runs once on the `(N, H)`
matrix of the batch's N real tokens. Self-attention alone sees padding, within chunks of
like-length sequences (`budget_batches`), as `chunked_states` pads them. The result equals
`model(**tok).last_hidden_state` where the attention mask is 1, up to float rounding (tests),
at a fraction of the cost when a batch mixes few-token CLDR terms with 128-token UDHR
paragraphs: a length-sorted, chunked training batch of the embedded default is 33 % padding.
The query, key and value projections run as one matrix product, as in the "unpadding" of
FlashAttention's BERT (Dao et al., NeurIPS 2022) and NVIDIA's BERT.

Models it does not cover (other architectures, decoders, left padding) keep the padded path:
`supports(model)` and `right_padded(mask)` say which.
"""

from __future__ import annotations

MODEL_TYPES = {"bert", "roberta", "xlm-roberta"}  # embeddings, then encoder.layer[i] of Bert-style blocks


def supports(model) -> bool:
    """Whether `model` is a bidirectional encoder of the BERT family, as this forward assumes."""
    config = getattr(model, "config", None)
    return (getattr(config, "model_type", None) in MODEL_TYPES and not config.is_decoder
            and not getattr(config, "add_cross_attention", False)
            and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and hasattr(model, "embeddings") and hasattr(getattr(model, "encoder", None), "layer"))


def right_padded(mask) -> bool:
    """Whether every row of the attention mask is ones then zeros (real tokens first)."""
    import torch

    lengths = mask.sum(1, keepdim=True)
    return bool((mask.bool() == (torch.arange(mask.shape[1], device=mask.device) < lengths)).all())


def budget_batches(lengths: list[int], size: int, tokens: int):
    """Consecutive index ranges of ascending `lengths`, each at most `size` long and, beyond its
    first item, at most `tokens` when padded to its last (longest) item."""
    start = 0
    while start < len(lengths):
        end = start + 1
        while end < len(lengths) and end - start < size and (end + 1 - start) * lengths[end] <= tokens:
            end += 1
        yield range(start, end)
        start = end


def packed_forward(model, tok: dict, *, tokens: int = 512, size: int = 64):
    """(states of the real tokens, sequence by sequence in `order`, `order`, `lengths`): `order`
    sorts the batch by length; row `offsets[j] + t` of the states is token t of sequence
    `order[j]`. Attention runs on chunks of at most `size` sequences and `tokens` padded tokens."""
    import torch


    mask = tok["attention_mask"]
    lengths = mask.sum(1)
    order = torch.argsort(lengths, stable=True)
    sorted_lengths = lengths[order]
    starts = torch.cumsum(sorted_lengths, 0) - sorted_lengths
    chunks = []  # per chunk: (index of each (sequence, position) into the packed rows, real-token mask)
    for chunk in budget_batches(sorted_lengths.tolist(), size, tokens):
        lens = sorted_lengths[chunk.start:chunk.stop]
        pos = torch.arange(max(int(lens.max()), 1), device=mask.device)
        real = pos < lens[:, None]
        # a padded slot reads row 0: masked as a key, dropped as a query, so it gets no gradient
        chunks.append((torch.where(real, starts[chunk.start:chunk.stop, None] + pos, 0), real))
    states = model.embeddings(input_ids=tok["input_ids"][order], token_type_ids=tok["token_type_ids"][order]
                              if "token_type_ids" in tok else None)
    x = states[mask[order].bool()]
    for layer in model.encoder.layer:
        attention = layer.attention
        mixed = attention.output(_self_attention(attention.self, x, chunks), x)
        x = layer.output(layer.intermediate(mixed), mixed)
    return x, order, sorted_lengths


def _self_attention(sa, x, chunks):
    """Multi-head self-attention of the packed rows `x`, chunk by chunk (scaled dot product,
    Vaswani et al. 2017), back in packed order."""
    import torch
    import torch.nn.functional as F

    heads, d = sa.num_attention_heads, sa.attention_head_size
    weight = torch.cat([sa.query.weight, sa.key.weight, sa.value.weight])
    bias = torch.cat([sa.query.bias, sa.key.bias, sa.value.bias])
    q, k, v = F.linear(x, weight, bias).split(heads * d, dim=-1)
    dropout = sa.dropout.p if sa.training else 0.0
    out = []
    for index, real in chunks:
        b, w = index.shape
        qc, kc, vc = (t[index].view(b, w, heads, d).transpose(1, 2) for t in (q, k, v))
        o = F.scaled_dot_product_attention(qc, kc, vc, attn_mask=real[:, None, None, :], dropout_p=dropout,
                                           scale=d ** -0.5)
        out.append(o.transpose(1, 2).reshape(b, w, heads * d)[real])
    return torch.cat(out)


def padded_states(model, tok: dict, *, tokens: int = 512, size: int = 64):
    """`model(**tok).last_hidden_state` where the mask is 1, zeros where it is 0 (right padding)."""
    import torch

    x, order, _ = packed_forward(model, tok, tokens=tokens, size=size)
    mask = tok["attention_mask"]
    batch, width = mask.shape
    rows = (order[:, None] * width + torch.arange(width, device=mask.device))[mask[order].bool()]
    return x.new_zeros(batch * width, x.shape[-1]).index_copy(0, rows, x).view(batch, width, -1)


def pooled(model, tok: dict, *, tokens: int = 512, size: int = 64):
    """Mean of each sequence's real token states, L2-normalised, in the batch's order
    (`encoder.mean_pool` of the padded states)."""
    import torch

    x, order, lengths = packed_forward(model, tok, tokens=tokens, size=size)
    seq = torch.repeat_interleave(order, lengths)
    sums = x.new_zeros(len(order), x.shape[-1]).index_add(0, seq, x)
    return torch.nn.functional.normalize(sums / tok["attention_mask"].sum(1, keepdim=True).clamp(min=1), dim=-1)
