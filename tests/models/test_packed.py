"""The packed forward equals the padded one: states, gradients and pooled embeddings."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from clir_bench.models import packed  # noqa: E402  (after the skips: torch may be absent)
from clir_bench.models.encoder import mean_pool  # noqa: E402


def _model(kind: str):
    torch.manual_seed(0)
    common = {"vocab_size": 99, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
              "intermediate_size": 32, "max_position_embeddings": 64, "pad_token_id": 1}
    if kind == "bert":
        model = transformers.BertModel(transformers.BertConfig(**common, type_vocab_size=2), add_pooling_layer=False)
    else:
        model = transformers.XLMRobertaModel(transformers.XLMRobertaConfig(**common), add_pooling_layer=False)
    return model.eval()


def _batch(lengths: list[int], width: int | None = None) -> dict:
    """Right-padded random ids (pad id 1), lengths as given, some token types 1 (for BERT)."""
    g = torch.Generator().manual_seed(sum(lengths))
    width = width or max(lengths)
    ids = torch.randint(2, 99, (len(lengths), width), generator=g)
    mask = (torch.arange(width) < torch.tensor(lengths)[:, None]).long()
    types = torch.randint(0, 2, ids.shape, generator=g) * mask
    return {"input_ids": torch.where(mask.bool(), ids, 1), "attention_mask": mask, "token_type_ids": types}


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_packed_states_and_gradients_equal_the_padded_forward(kind):
    model = _model(kind)
    tok = _batch([3, 17, 5, 40, 1, 40, 9, 22])  # unsorted, ties, a one-token sequence
    if kind != "bert":
        del tok["token_type_ids"]
    mask = tok["attention_mask"].bool()
    padded = model(**tok).last_hidden_state
    ours = packed.padded_states(model, tok, tokens=48, size=3)  # several attention chunks
    assert ours.shape == padded.shape
    assert torch.allclose(ours[mask], padded[mask], atol=1e-5)
    assert not ours[~mask].any()  # zeros where the mask is 0
    weights = torch.randn(padded.shape, generator=torch.Generator().manual_seed(1))
    grads = []
    for states in (padded, ours):
        model.zero_grad()
        (states * weights * mask[..., None]).sum().backward(retain_graph=True)
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-4), name


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_packed_pooling_equals_mean_pooling_the_padded_states(kind):
    model = _model(kind)
    tok = _batch([12, 2, 30, 7], width=35)  # padded beyond the longest, as a fixed-width batch is
    with torch.no_grad():
        want = mean_pool(model(**tok).last_hidden_state, tok["attention_mask"])
        got = packed.pooled(model, tok, tokens=16)
    assert torch.allclose(got, want, atol=1e-5)


def test_what_the_packed_forward_does_not_cover_is_said():
    assert packed.supports(_model("bert")) and packed.supports(_model("xlm-roberta"))
    decoder = transformers.BertModel(transformers.BertConfig(vocab_size=99, hidden_size=16, num_hidden_layers=1,
                                                             num_attention_heads=2, is_decoder=True))
    assert not packed.supports(decoder)
    assert not packed.supports(torch.nn.Linear(2, 2))
    assert packed.right_padded(torch.tensor([[1, 1, 0], [1, 1, 1]]))
    assert not packed.right_padded(torch.tensor([[0, 1, 1], [1, 1, 1]]))  # left padding: the padded path
