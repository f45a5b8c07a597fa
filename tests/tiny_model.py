"""A tiny random BERT with a WordPiece tokenizer trained on the embedded UDHR text, made in
the test (no download): fast enough to train in a test, shaped like the real encoder."""

from functools import cache
from pathlib import Path

# A two-language track on the embedded collection, small enough to train on in a test.
TINY_TRACK = """
name = "tiny"
version = 1
seed = 7
[collection]
source = "udhr"
[languages]
low = ["sw"]
high = ["de"]
[[bitext]]
source = "udhr"
[[bitext]]
source = "cldr"
max_pairs = 30
[noise]
kind = "misalign"
rate = 0.3
"""


@cache
def _texts() -> tuple[str, ...]:
    from clir_bench.core.languages import LANGUAGES
    from clir_bench.sources import udhr

    return tuple(t for lang in LANGUAGES for paras in udhr.paragraphs(lang).values() for t in paras)


def make_tiny_model(folder: Path, *, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = Path(folder)
    if (folder / "config.json").is_file():
        return folder
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(_texts(), trainers.WordPieceTrainer(vocab_size=2000, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=128,
                        pad_token_id=tok.token_to_id("[PAD]"))
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
