"""Query translation with a seq2seq model, then BM25 over the English documents (the same
streaming index as `bm25`). Three families of transformers models:

- language-agnostic models (Marian `Helsinki-NLP/opus-mt-mul-en`): the text alone;
- NLLB-200 (`facebook/nllb-200-distilled-600M`; Costa-jussà et al. 2022): the tokenizer's
  `src_lang` is the query language's FLORES-200 code (`swh_Latn`), and decoding starts with
  the English code (`forced_bos_token_id` = `eng_Latn`);
- M2M-100 (`facebook/m2m100_418M`; Fan et al. 2021): the same with ISO codes (`sw`, `__en__`).

No MT model for these languages ships in any package registry, so without `--mt-model` the
system reports that it did not run, never a number; nor does it run where the model has no
code for one of the track's languages.
"""

from __future__ import annotations

from clir_bench.systems import Context, SystemResult

# ISO 639-1 -> (NLLB-200 / FLORES-200 code, M2M-100 code), for every language clir-bench ships.
CODES = {
    "en": ("eng_Latn", "en"), "sw": ("swh_Latn", "sw"), "so": ("som_Latn", "so"), "yo": ("yor_Latn", "yo"),
    "ha": ("hau_Latn", "ha"), "de": ("deu_Latn", "de"), "fr": ("fra_Latn", "fr"), "fi": ("fin_Latn", "fi"),
    "am": ("amh_Ethi", "am"), "mr": ("mar_Deva", "mr"), "tl": ("tgl_Latn", "tl"), "es": ("spa_Latn", "es"),
    "ru": ("rus_Cyrl", "ru"), "zh": ("zho_Hans", "zh"), "xh": ("xho_Latn", "xh"), "ig": ("ibo_Latn", "ig"),
    "zu": ("zul_Latn", "zu"),
}
FAMILIES = ("nllb", "m2m100")  # column of CODES; any other model is language-agnostic


def family(tokenizer) -> str | None:
    """'nllb' or 'm2m100' where the tokenizer knows that family's English code, else None (Marian...)."""
    if _has_token(tokenizer, "eng_Latn"):
        return "nllb"
    if hasattr(tokenizer, "get_lang_id") and _has_token(tokenizer, "__en__"):
        return "m2m100"
    return None


def _has_token(tokenizer, token: str) -> bool:
    token_id = tokenizer.convert_tokens_to_ids(token)
    return token_id is not None and token_id != tokenizer.unk_token_id


def language_code(tokenizer, fam: str, lang: str) -> str | None:
    """The model's code for `lang` (NLLB `swh_Latn`, M2M-100 `sw`), or None where it has none."""
    if lang not in CODES:
        return None
    code = CODES[lang][FAMILIES.index(fam)]
    return code if _has_token(tokenizer, code if fam == "nllb" else f"__{code}__") else None


class NMTSystem:
    name = "nmt"
    description = "query translation (transformers seq2seq, --mt-model) + BM25"

    def run(self, track, ctx: Context) -> SystemResult:
        if not ctx.mt_model:
            return SystemResult(not_run="not run: no MT model (pass --mt-model)")
        if track.collection.english_queries:
            return SystemResult(not_run="not run: the queries are English; this system translates queries into "
                                        "English (document translation is not implemented)")
        try:
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError as e:
            return SystemResult(not_run=f"not run: {e}; install the models extra (pip install 'clir-bench[models]')")
        try:
            tokenizer = AutoTokenizer.from_pretrained(ctx.mt_model)
            model = AutoModelForSeq2SeqLM.from_pretrained(ctx.mt_model).to(ctx.device).eval()
        except (OSError, ValueError) as e:
            return SystemResult(not_run=f"not run: cannot load MT model {ctx.mt_model!r} ({str(e).splitlines()[0]})")
        fam = family(tokenizer)
        sources, target = {}, None
        if fam is not None:
            missing = [lang for lang in track.languages if language_code(tokenizer, fam, lang) is None]
            if missing:
                known = ", ".join(f"{lang} = {CODES[lang][FAMILIES.index(fam)]}" for lang in missing if lang in CODES)
                return SystemResult(not_run=f"not run: MT model {ctx.mt_model!r} ({fam}) has no language code for "
                                            f"{', '.join(missing)}" + (f" (looked for {known})" if known else
                                                                       "; add it to clir_baselines.nmt.CODES"))
            sources = {lang: language_code(tokenizer, fam, lang) for lang in track.languages}
            target = tokenizer.convert_tokens_to_ids("eng_Latn" if fam == "nllb" else "__en__")
        import torch

        from clir_baselines.inverted_index import cached
        from clir_baselines.lexical import analysers, ranked, unmatched_info

        _, doc_analyser, analyser = analysers(track)
        limit = min(256, getattr(model.config, "max_position_embeddings", 256) or 256)
        run, translations, unmatched = {}, {}, []
        for lang, pair in track.data("test").items():
            qids = list(pair.queries)
            texts = [pair.queries[q] for q in qids]
            if fam is not None:
                tokenizer.src_lang = sources[lang]
            extra = {} if target is None else {"forced_bos_token_id": target}
            english = []
            with torch.inference_mode():
                for i in range(0, len(texts), 16):
                    enc = tokenizer(texts[i:i + 16], return_tensors="pt", padding=True, truncation=True,
                                    max_length=limit).to(ctx.device)
                    out = model.generate(**enc, max_new_tokens=min(128, limit), num_beams=1, do_sample=False, **extra)
                    english += tokenizer.batch_decode(out, skip_special_tokens=True)
            index = cached(pair.docs, doc_analyser, analyser, ctx.cache)
            for qid, text in zip(qids, english, strict=True):
                translations[qid] = text
                scores, matched = index.bm25_matched(doc_analyser(text))
                run[qid] = ranked(scores, index.ids, track.max_docs_per_query, qid, unmatched, matched=matched)
        info = {"mt_model": ctx.mt_model, "mt_family": fam or "language-agnostic",
                "example_translation": next(iter(translations.values()), "")}
        if fam is not None:
            info["mt_languages"] = ", ".join(f"{lang}={code}" for lang, code in sources.items())
        return SystemResult(run, info={**info, **unmatched_info(unmatched)})
